"""``python -m rnnlab.datasets download NAME [--data-dir DIR]``: see :mod:`rnnlab.datasets.download`."""
import sys

from .download import main

sys.exit(main())
