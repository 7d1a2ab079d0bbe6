"""The package list, which setup.cfg cannot say: every ``rnnlab*`` package found, plus the repository's
``experiments/`` folder installed as the package data ``rnnlab/experiments`` (the papers' experiment files,
which ``rnnlab experiments`` reads). Everything else is in setup.cfg."""
from setuptools import find_packages, setup

EXPERIMENTS = "rnnlab.experiments"

setup(packages=[*find_packages(include=["rnnlab", "rnnlab.*"]), EXPERIMENTS],
      package_dir={EXPERIMENTS: "experiments"})
