"""The package list, which setup.cfg cannot say: every ``rnnlab*`` package found under ``src/`` (the src
layout: a clone's top folder holds no ``rnnlab/``, so Python started there imports the installed package),
plus the repository's ``experiments/`` folder installed as the package data ``rnnlab/experiments`` (the
papers' experiment files, which ``rnnlab experiments`` reads). Everything else is in setup.cfg."""
from setuptools import find_packages, setup

EXPERIMENTS = "rnnlab.experiments"

setup(packages=[*find_packages(where="src", include=["rnnlab", "rnnlab.*"]), EXPERIMENTS],
      package_dir={"": "src", EXPERIMENTS: "experiments"})
