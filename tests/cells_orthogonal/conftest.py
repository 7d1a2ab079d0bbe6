"""The orthogonal cells' tests reuse the cell tests' generated configurations and helpers (tests/cells/cell_configs.py)."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "cells"))
