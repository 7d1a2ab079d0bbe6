"""``rnnlab train --task ptb-char``: a character model on a corpus in PTB's layout, a seeded sample printed at
each validation, and a validation loss below the unigram entropy of the training characters."""
import math
import re

import pytest

from rnnlab.cli import main
from rnnlab.datasets import PTB_MD5, load_ptb_chars, unigram_entropy
from rnnlab.training import TrainConfig, train
from tests.datasets.dataset_files import write_ptb_sentences

SAMPLE = re.compile(r"^sample at step (\d+) \(val ([\d.]+) bits/char, temperature ([\d.e+-]+)\):\n((?:    .*\n)+)",
                    re.M)


@pytest.fixture
def ptb_root(tmp_path, monkeypatch):
    for name, md5 in write_ptb_sentences(tmp_path / "data" / "ptb").items():
        monkeypatch.setitem(PTB_MD5, name, md5)
    return tmp_path / "data"


def args(root, out, *extra):
    return ["train", "--task", "ptb-char", "--data-dir", str(root), "--hidden", "32", "--batch-size", "8",
            "--tbptt", "20", "--lr", "0.01", "--steps", "60", "--eval-every", "20", "--eval-batch-size", "4",
            "--no-progress", "--out", str(out), *extra]


def test_a_sample_at_each_validation_and_the_loss_falls_below_the_unigram_entropy(ptb_root, tmp_path, capsys):
    assert main(args(ptb_root, tmp_path / "a", "--sample-chars", "50")) == 0
    out = capsys.readouterr().out
    samples = SAMPLE.findall(out)
    assert [int(s[0]) for s in samples] == [20, 40, 60]          # every validation, the final one included
    texts = ["\n".join(line[4:] for line in s[3].rstrip("\n").split("\n")) for s in samples]
    assert all(len(t) == 50 for t in texts) and all(float(s[2]) == 1.0 for s in samples)
    corpus = load_ptb_chars(ptb_root, download=False)
    assert set("".join(texts)) <= set(corpus.alphabet)
    entropy = unigram_entropy(corpus.train, len(corpus.alphabet))            # bits per character
    bits = [float(s[1]) for s in samples]
    assert bits[-1] < entropy, (bits, entropy)
    val = [line for line in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines() if '"val"' in line]
    assert float(re.search(r'"loss": ([\d.]+)', val[-1]).group(1)) / math.log(2) == pytest.approx(bits[-1], abs=1e-3)

    assert main(args(ptb_root, tmp_path / "b", "--sample-chars", "50")) == 0    # seeded: the same run, the same text
    assert SAMPLE.findall(capsys.readouterr().out) == samples
    assert main(args(ptb_root, tmp_path / "c", "--sample-chars", "50", "--seed", "1")) == 0
    assert [s[3] for s in SAMPLE.findall(capsys.readouterr().out)] != [s[3] for s in samples]


def test_no_sample_with_zero_characters_and_the_temperature_is_shown(ptb_root, tmp_path, capsys):
    assert main(args(ptb_root, tmp_path / "a", "--sample-chars", "0")) == 0
    assert "sample at step" not in capsys.readouterr().out
    assert main(args(ptb_root, tmp_path / "b", "--temperature", "0.5", "--sample-chars", "10")) == 0
    assert {s[2] for s in SAMPLE.findall(capsys.readouterr().out)} == {"0.5"}


def test_a_resumed_run_prints_the_samples_the_uninterrupted_one_prints(ptb_root, tmp_path, capsys):
    assert main(args(ptb_root, tmp_path / "whole", "--sample-chars", "30")) == 0
    whole = SAMPLE.findall(capsys.readouterr().out)
    assert main(args(ptb_root, tmp_path / "cut", "--sample-chars", "30", "--steps", "40",
                     "--checkpoint-every", "40")) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(tmp_path / "cut"), "--steps", "60", "--no-progress"]) == 0
    assert SAMPLE.findall(capsys.readouterr().out)[-1] == whole[-1]


@pytest.mark.parametrize("extra, message", [
    (["--task", "adding", "--temperature", "0.5"], "temperature does not apply here (it applies with a text task"),
    (["--task", "adding", "--sample-chars", "10"], "sample_chars does not apply here"),
    (["--temperature", "0"], "temperature must be a positive number, got 0.0"),
    (["--sample-chars", "-1"], "sample_chars must not be negative, got -1")])
def test_sampling_settings_out_of_place_or_range_are_one_line_and_exit_2(ptb_root, tmp_path, capsys, extra, message):
    assert main(args(ptb_root, tmp_path / "run", *extra)) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "run").exists()


def test_training_from_python_prints_the_samples_too(ptb_root, tmp_path, capsys):
    cfg = TrainConfig(task="ptb-char", data_dir=str(ptb_root), hidden=8, batch_size=4, tbptt=10, steps=4,
                      eval_every=2, eval_batch_size=2, sample_chars=20, progress=False, out=str(tmp_path / "py"))
    summary = train(cfg)
    assert [int(s[0]) for s in SAMPLE.findall(capsys.readouterr().out)] == [2, 4]
    assert summary["baseline_loss"] > 0
