"""``rnnlab experiments list|show|run``: the listing, TOML that ``rnnlab train --config`` reads back to the same
settings, runs of a temporary experiments folder (fresh, refused, resumed, a group), and one-line errors
that name the file, the table and the key."""
import json
import subprocess
import sys

import pytest

from rnnlab.cli import main
from rnnlab.training import experiments as ex
from rnnlab.training.config import load_toml

TINY = """
[defaults]
tiers = ["small"]
source = "a test"
task = "adding"
seq_len = 6
train_size = 64
test_size = 32
cell = "rnn"
hidden = 4
steps = 4
batch_size = 16
eval_every = 2
log_every = 1
checkpoint_every = 2
backend = "{backend}"
device = "{device}"

[sets.pair]
row = "one of a pair"

[tiny]
row = "tiny"
paper_metric = "test_loss"
paper_value = 0.25

[tiny_b]
set = "pair"
[tiny_b.small]
hidden = 3

[only_full]
set = "pair"
tiers = ["full"]
"""


def write(folder, text, name="tiny.toml"):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder


def cli(*argv):
    return main(["experiments", *argv])


def test_list_shows_every_experiment_with_its_group_tiers_source_and_the_papers_number(capsys):
    assert cli("list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "group", "tiers", "source", "paper's", "number"]
    assert len(lines) == 1 + len([e for e in ex.load().values() if not e.seed_of])
    assert "small,medium,full (seeds 0,1,2)" in next(line for line in lines if line.startswith("pmnist_lstm_n128 "))
    row = next(line for line in lines if line.startswith("pmnist_momentum_lstm "))
    for part in ("momentum_rnn/pmnist", "small,full", "Table 1 (PMNIST)", "test accuracy 94.72 % (+- 0.16)"):
        assert part in row
    assert cli("list", "momentum_rnn/grad_norms") == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]] == \
        ["pmnist_grad_norms_rnn", "pmnist_grad_norms_momentum_rnn"]


@pytest.mark.parametrize("name,tier", [("pixel_mnist_indrnn6_fw_k30_pinf", "full"), ("ptb_momentum_lstm", "medium"),
                                       ("adding100_lstm", "small"), ("har2_noisy_indrnn_fw", "small")])
def test_show_prints_toml_that_train_reads_back_to_the_same_settings(name, tier, tmp_path, capsys):
    assert cli("show", name, "--tier", tier) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"# {name} (")
    (tmp_path / "shown.toml").write_text(text)
    assert load_toml(str(tmp_path / "shown.toml")).to_dict() == ex.load()[name].config(tier).to_dict()


def test_show_gives_the_provenance_as_comments(capsys):
    assert cli("show", "mnist_adam_lstm", "--tier", "small") == 0
    comments = [line for line in capsys.readouterr().out.splitlines() if line.startswith("#")]
    assert "# source: Table 1 (MNIST)" in comments and "# paper's number: test accuracy 99.09 % (+- 0.03)" in comments
    assert any(line.startswith("# from the released code: ") and "mu, s, beta" in line for line in comments)
    assert "# why mu: the recipe's --mu 0.6 (mnist-adamlstm-n256)" in comments
    assert not any(line.startswith("# guessed (") for line in comments)
    assert any(line.startswith("# note: Row MNIST (28 steps)") for line in comments)


@pytest.fixture
def tiny(tmp_path, backend_name):
    device = "device1" if backend_name == "strict" else ""
    return write(tmp_path / "exps", TINY.format(backend=backend_name, device=device)), tmp_path / "runs"


def run(folder, out, *extra):
    return cli("run", *extra, "--tier", "small", "--experiments-dir", str(folder), "--out", str(out),
               "--no-progress")


def test_run_trains_into_out_tier_name_and_prints_one_line(tiny, capsys):
    folder, out = tiny
    assert run(folder, out, "tiny") == 0
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads((out / "small" / "tiny" / "summary.json").read_text())
    assert summary["steps"] == 4 and summary["config"]["hidden"] == 4
    assert len(lines) == 1 and lines[0].startswith("tiny [small]: val_loss ")
    assert f"test_loss {summary['test_loss']:.4g}" in lines[0] and "(paper: test loss 0.25)" in lines[0]
    assert str(out / "small" / "tiny") in lines[0]


def test_set_puts_a_setting_on_top_of_the_tier_and_a_wrong_one_is_one_line(tiny, capsys):
    folder, out = tiny
    assert run(folder, out, "tiny", "--set", "hidden=3", "--set", "steps=2") == 0
    summary = json.loads((out / "small" / "tiny" / "summary.json").read_text())
    assert (summary["config"]["hidden"], summary["steps"]) == (3, 2)
    capsys.readouterr()
    assert run(folder, out / "other", "tiny", "--set", "hiden=3") == 2
    assert capsys.readouterr().err.strip() == "rnnlab experiments: error: --set: unknown key 'hiden'"
    assert not (out / "other").exists()


def test_set_out_names_the_run_directory_so_a_second_seed_goes_beside_the_first(tiny, capsys):
    folder, out = tiny
    assert run(folder, out, "tiny") == 0
    second = out / "small" / "tiny_seed1"
    assert run(folder, out, "tiny", "--set", "seed=1", "--set", f"out={second}") == 0
    first = json.loads((out / "small" / "tiny" / "summary.json").read_text())
    other = json.loads((second / "summary.json").read_text())
    assert (first["config"]["seed"], other["config"]["seed"]) == (0, 1)
    assert str(second) in capsys.readouterr().out.strip().splitlines()[-1]


def test_run_refuses_a_used_run_directory_and_resume_continues_or_reports_it(tiny, capsys):
    folder, out = tiny
    assert run(folder, out, "tiny") == 0
    capsys.readouterr()
    assert run(folder, out, "tiny") == 2
    err = capsys.readouterr().err
    assert str(out / "small" / "tiny") in err and err.count("\n") == 1
    assert run(folder, out, "tiny", "--resume") == 0
    assert capsys.readouterr().out.startswith("tiny [small]: ")
    (out / "small" / "tiny" / "summary.json").unlink()         # as if stopped after its last checkpoint
    assert run(folder, out, "tiny", "--resume") == 0
    assert json.loads((out / "small" / "tiny" / "summary.json").read_text())["steps"] == 4


def test_run_of_a_group_runs_its_experiments_with_the_tier_and_names_the_others(tiny, capsys):
    folder, out = tiny
    assert run(folder, out, "tiny/pair") == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "skipped (no small tier): only_full"
    assert [line.split()[0] for line in lines[1:]] == ["tiny_b"]
    assert json.loads((out / "small" / "tiny_b" / "config.json").read_text())["hidden"] == 3


HEAD = '[defaults]\ntiers = ["small", "full"]\n'


@pytest.mark.parametrize("text,expected", [
    (HEAD + "[x]\nhiden = 3\n", "x.toml [x]: unknown key 'hiden'"),
    (HEAD + "[x]\n[x.small]\nhiden = 3\n", "x.toml [x.small]: unknown key 'hiden'"),
    (HEAD + "[sets.s]\nlr = 'fast'\n[x]\nset = 's'\n", "x.toml [sets.s]: lr must be a float, got 'fast'"),
    (HEAD + "[x]\nhidden = 'big'\n", "x.toml [x]: hidden must be an integer, got 'big'"),
    (HEAD + "[x]\n[x.smal]\nhidden = 3\n", "x.toml [x]: unknown table 'smal'; tiers are small, medium, full"),
    (HEAD + "[x]\nset = 'nope'\n", "x.toml [x]: unknown set 'nope'; the file's sets: none"),
    (HEAD + "[sets.a]\nset = 'b'\n[sets.b]\nset = 'a'\n[x]\nset = 'a'\n", "set 'a' names itself through its sets"),
    (HEAD + "[x]\ntiers = ['full']\n[x.small]\nhidden = 3\n", "x.toml [x.small]: x has no tier 'small'"),
    (HEAD + "[x]\ntiers = ['tiny']\n", "x.toml [x]: tiers must be a list of tiers, got ['tiny']"),
    (HEAD + "[x]\nout = 'runs/a'\n", "x.toml [x]: out is set by the runner (--out), not in the file"),
    (HEAD + "[x]\nguessed = ['speed']\n", "x.toml [x]: guessed must be a list of settings (TrainConfig keys)"),
    (HEAD + "[x]\nwhy.speed = 'fast'\n", "x.toml [x]: why must map settings to strings"),
    (HEAD + "[x]\npaper_value = '99 %'\n", "x.toml [x]: paper_value must be a number, got '99 %'"),
    (HEAD + "[x]\nsource = 4\n", "x.toml [x]: source must be a string, got 4"),
    (HEAD + "[x]\nseeds = [0, 1]\n", "x.toml [x]: seeds must be a list of distinct seeds >= 1 (seed 0 is the "
                                     "experiment itself) in a base table, got [0, 1]"),
    (HEAD + "[x]\nseeds = [1, 1]\n", "x.toml [x]: seeds must be a list of distinct seeds >= 1"),
    (HEAD + "[x]\nseeds = 2\n", "x.toml [x]: seeds must be a list of distinct seeds >= 1"),
    (HEAD + "[x]\n[x.small]\nseeds = [1]\n", "x.toml [x.small]: seeds must be a list of distinct seeds >= 1"),
    (HEAD + "[x]\nseeds = [1]\n[x_seed1]\n", "x.toml [x_seed1]: experiment 'x_seed1' is also defined in"),
    ("[defaults]\nset = 'a'\n[x]\n", "x.toml [defaults]: set belongs in an experiment's or a set's own table"),
    ("hidden = 3\n[x]\n", "x.toml: key 'hidden' is outside a table; shared settings go under [defaults]"),
    ("[x\n", "x.toml is not valid TOML"),
])
def test_a_mistake_in_an_experiment_file_is_one_line_naming_file_table_and_key(text, expected, tmp_path, capsys):
    folder = write(tmp_path, text, "x.toml")
    assert cli("show", "x", "--tier", "small", "--experiments-dir", str(folder)) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1, err


def test_seeds_add_variants_that_differ_only_in_seed_and_run_into_their_own_directories(tmp_path):
    folder = write(tmp_path, HEAD + "[sets.s]\nseeds = [3]\n[x]\nset = 's'\nhidden = 5\nseeds = [1]\n"
                   "[y]\nset = 's'\nhidden = 5\n", "x.toml")
    found = ex.load(folder)
    assert sorted(found) == ["x", "x_seed1", "y", "y_seed3"]      # the experiment's seeds replace its set's
    for name, seed in (("x", 1), ("y", 3)):
        variant = found[f"{name}_seed{seed}"]
        cfg = variant.config("small")
        assert (variant.seed_of, cfg.seed, cfg.hidden, cfg.out) == \
            (name, seed, 5, f"runs/experiments/small/{name}_seed{seed}")
    assert found["x"].config("small").seed == 0 and not found["x"].seed_of


@pytest.mark.parametrize("argv,expected", [
    (("show", "xz", "--tier", "small"), "unknown experiment or group 'xz' (did you mean 'x'?); groups: x (or "
                                        "FILE/SET, see rnnlab experiments list); experiments: x, only_full"),
    (("run", "only_full", "--tier", "small"), "only_full has no tier 'small'; it has full"),
    (("run", "x/s", "--tier", "medium"), "experiments: no selected experiment has tier 'medium'"),
    (("show", "x", "--tier", "medium"), "x has no tier 'medium'; it has small, full"),
    (("show", "x/s", "--tier", "small"), "'x/s' is a group; name one experiment"),
])
def test_a_wrong_name_or_tier_is_one_line_with_the_choices(argv, expected, tmp_path, capsys):
    folder = write(tmp_path, HEAD + "[sets.s]\n[x]\nset = 's'\n[only_full]\nset = 's'\ntiers = ['full']\n", "x.toml")
    assert cli(*argv, "--experiments-dir", str(folder)) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1, err


def test_a_missing_folder_or_a_name_in_two_files_is_one_line(tmp_path, capsys):
    assert cli("list", "--experiments-dir", str(tmp_path / "nowhere")) == 2
    assert f"experiments: folder {tmp_path / 'nowhere'} does not exist" in capsys.readouterr().err
    write(tmp_path, HEAD + "[x]\n", "a.toml")
    write(tmp_path, HEAD + "[x]\n", "b.toml")
    assert cli("list", "--experiments-dir", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert f"b.toml [x]: experiment 'x' is also defined in {tmp_path / 'a.toml'}" in err and err.count("\n") == 1


def test_python_dash_m_runs_the_same_program():
    proc = subprocess.run([sys.executable, "-m", "rnnlab.training.experiments", "list", "checks"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert [line.split()[0] for line in proc.stdout.splitlines()[1:]] == ["row_mnist_lstm", "adding100_lstm"]
