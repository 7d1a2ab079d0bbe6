"""The package as a user installs it: ``pip install .`` (not editable) carries every module and the papers'
experiment files, and the installed ``rnnlab`` lists the experiments, trains, and loads the run from Python,
run from a folder whose ``rnnlab/`` subfolder (a clone) would shadow a namespace-package import; started at
the top of a clone (the src layout keeps the package in ``src/``), Python imports the installed package too.

The build is offline (``--no-build-isolation``, no dependencies): it uses this environment's setuptools,
which the ``test`` extra asks to be 70.1 or later (it builds wheels without the ``wheel`` package)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from rnnlab.training.experiments import default_dir, load

REPO = Path(__file__).resolve().parents[1]
LEFT_OUT = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", "runs", ".venv", ".ci-venv",
                                  ".hypothesis", "*.ipynb")


def test_the_experiments_of_a_checkout_are_the_repository_folder():
    assert default_dir() == REPO / "experiments"
    assert load(default_dir())


def test_an_installed_package_reads_its_own_experiments_first(tmp_path):
    package = tmp_path / "src" / "rnnlab"
    (package / "experiments").mkdir(parents=True)
    (tmp_path / "experiments").mkdir()                          # a checkout's folder is not the package's
    assert default_dir(package) == package / "experiments"
    (package / "experiments").rmdir()
    assert default_dir(package) == tmp_path / "experiments"


def installed_files(target: Path) -> set:
    return {p.relative_to(target).as_posix() for p in (target / "rnnlab").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def test_a_plain_pip_install_lists_trains_and_loads(tmp_path):
    source, target, work = tmp_path / "source", tmp_path / "site", tmp_path / "work"
    shutil.copytree(REPO, source, ignore=LEFT_OUT)             # the build writes build/ and egg-info: not here
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(source)], check=True, capture_output=True, text=True)
    wanted = {p.relative_to(REPO / "src").as_posix() for p in (REPO / "src" / "rnnlab").rglob("*.py")}
    wanted |= {f"rnnlab/experiments/{p.name}" for p in (REPO / "experiments").glob("*.toml")}
    assert wanted - installed_files(target) == set()
    assert (target / "bin" / "rnnlab").exists()

    (work / "rnnlab").mkdir(parents=True)                     # a clone's top folder: no __init__.py
    env = {**os.environ, "PYTHONPATH": str(target)}

    def run(*command, cwd=work):
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        return done.stdout

    listed = run(str(target / "bin" / "rnnlab"), "experiments", "list")
    assert "frank_wolfe" in listed and "momentum_rnn" in listed
    run(str(target / "bin" / "rnnlab"), "train", "--steps", "4", "--hidden", "4", "--seq-len", "10",
        "--train-size", "64", "--val-size", "32", "--test-size", "32", "--batch-size", "16", "--eval-every", "2",
        "--keep-best", "--no-progress", "--no-kernels", "--out", "run")
    loaded = run(sys.executable, "-c", "import rnnlab; saved = rnnlab.load_run('run', checkpoint='best'); "
                 "print(rnnlab.__file__); print(saved.config.task, saved.step, type(saved.model).__name__)")
    where, what = loaded.splitlines()
    assert Path(where).resolve() == (target / "rnnlab" / "__init__.py").resolve()
    assert what == "adding 4 SequenceModel"
    for clone in (source, source / "tests"):                  # the top of the clone, and a folder in it
        shown = run(sys.executable, "-c", "import rnnlab; print(rnnlab.__file__, rnnlab.__version__)", cwd=clone)
        where, version = shown.split()
        assert Path(where).resolve() == (target / "rnnlab" / "__init__.py").resolve(), f"{clone} shadows the install"
        assert run(str(target / "bin" / "rnnlab"), "--version", cwd=clone).strip() == f"rnnlab {version}"


def test_the_release_files_name_the_package_version_and_license():
    import re

    import rnnlab
    citation = (REPO / "CITATION.cff").read_text()
    assert re.search(r"^version: (\S+)$", citation, re.M).group(1) == rnnlab.__version__
    setup_license = re.search(r"^license = (\S+)$", (REPO / "setup.cfg").read_text(), re.M).group(1)
    assert re.search(r"^license: (\S+)$", citation, re.M).group(1) == setup_license
    assert (REPO / "LICENSE").read_text().startswith(f"{setup_license} License\n")
    assert f"\n## {rnnlab.__version__} (" in (REPO / "CHANGELOG.md").read_text()
    papers = (REPO / "docs" / "papers.md").read_text()
    cited = re.findall(r'^  - type: conference-paper\n    title: "(.+)"$', citation, re.M)
    assert len(cited) == 2 and all(title in papers for title in cited)
