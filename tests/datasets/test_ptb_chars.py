"""Penn Treebank as characters: the real corpus when present, a corpus in PTB's layout written here, the
``ptb-char`` task, and the text <-> ids round trip."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnlab.datasets.tasks import STREAM_TASKS, TEXT_TASKS
from rnnlab.datasets import (PTB_MD5, ChecksumError, DataFormatError, decode_text, encode_text, load_ptb_chars,
                             load_task, unigram_entropy)
from tests.datasets.dataset_files import shared_folder, write_ptb, write_ptb_sentences


@pytest.fixture
def ptb_root(tmp_path, monkeypatch):
    """The sentence corpus in PTB's layout; its checksums stand in for the real files' for the test."""
    for name, md5 in write_ptb_sentences(tmp_path / "ptb").items():
        monkeypatch.setitem(PTB_MD5, name, md5)
    return tmp_path


def test_real_ptb_characters_counts_alphabet_and_unigram_entropy():
    folder = shared_folder("ptb", list(PTB_MD5))
    corpus = load_ptb_chars(folder.parent, download=False)
    assert (len(corpus.train), len(corpus.valid), len(corpus.test)) == (5_017_482, 393_042, 442_423)
    assert len(corpus.alphabet) == 50 and corpus.alphabet[:2] == "\n " and "<" in corpus.alphabet
    assert decode_text(corpus.train[:24], corpus.alphabet) == "aer banknote berlitz cal"
    assert unigram_entropy(corpus.train, 50) == pytest.approx(4.334, abs=5e-4)


def write_texts(folder, train=" the cat sat \n the  dog <unk> ran\n a cat \n", valid=" the cat \n",
                test=" a dog \n the cat ran \n"):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("ptb.train.txt", train), ("ptb.valid.txt", valid), ("ptb.test.txt", test)):
        (folder / name).write_text(text)


def test_each_line_is_its_words_and_a_line_end_over_a_sorted_training_alphabet(tmp_path):
    write_texts(tmp_path / "ptb")
    corpus = load_ptb_chars(tmp_path, download=False, checksums=None)
    assert corpus.alphabet == "".join(sorted(set("the cat sat\nthe dog <unk> ran\na cat\n")))
    assert decode_text(corpus.train, corpus.alphabet) == "the cat sat\nthe dog <unk> ran\na cat\n"
    assert decode_text(corpus.valid, corpus.alphabet) == "the cat\n"
    assert decode_text(corpus.test, corpus.alphabet) == "a dog\nthe cat ran\n"
    assert corpus.train.dtype == np.int64


def test_a_character_unseen_in_training_is_an_error_naming_file_line_and_character(tmp_path):
    write_texts(tmp_path / "ptb", test=" a dog \n the cat ran \n the bird \n")   # b, i: not in train
    with pytest.raises(DataFormatError, match=rf"load_ptb_chars: {tmp_path / 'ptb' / 'ptb.test.txt'} line 3 has the "
                                              r"character 'b', which is not in the training alphabet"):
        load_ptb_chars(tmp_path, download=False, checksums=None)


def test_the_same_checked_files_as_ptb_and_errors_name_the_character_loader(tmp_path):
    write_ptb(tmp_path / "ptb")
    with pytest.raises(ChecksumError, match=rf"load_ptb_chars: {tmp_path / 'ptb' / 'ptb.train.txt'} has MD5"):
        load_ptb_chars(tmp_path, download=False)


def test_the_task_next_character_unigram_baseline_and_prefixes(ptb_root):
    task = load_task("ptb-char", ptb_root, download=False)
    full = load_ptb_chars(ptb_root, download=False)
    assert (task.input_kind, task.target, task.loss, task.metric) == ("tokens", "next_token", "cross_entropy",
                                                                      "perplexity")
    assert task.name in TEXT_TASKS and set(TEXT_TASKS) <= set(STREAM_TASKS)    # named before loading: as loaded
    assert task.alphabet == full.alphabet and task.input_size == task.output_size == len(full.alphabet)
    np.testing.assert_array_equal(task.val, full.valid)
    p = np.bincount(full.train, minlength=task.input_size) / len(full.train)
    assert task.baseline_loss == pytest.approx(-np.mean(np.log(p[full.test])))
    cut = load_task("ptb-char", ptb_root, download=False, n_train=500, n_val=0, n_test=40)
    np.testing.assert_array_equal(cut.train, full.train[:500])
    np.testing.assert_array_equal(cut.test, full.test[:40])
    assert cut.val is None and cut.splits == ("train", "test") and cut.info["val_size"] == 0


@pytest.mark.parametrize("option, value", [("n_val", -1), ("n_train", 1), ("n_test", 0), ("n_val", 2.5),
                                           ("n_train", True)])
def test_impossible_prefixes_are_refused_naming_the_option(ptb_root, option, value):
    with pytest.raises(ValueError, match=rf"load_task\('ptb-char'\): {option} must be None \(the whole file\) or an "
                                         rf"integer >= {0 if option == 'n_val' else 2}.*got {value!r}"):
        load_task("ptb-char", ptb_root, download=False, **{option: value})


@given(st.text(st.sampled_from("\n abc<>N'$"), max_size=60))
def test_text_round_trips_through_ids(text):
    alphabet = "".join(sorted(set("\n abc<>N'$")))
    ids = encode_text(text, alphabet)
    assert ids.dtype == np.int64 and ids.shape == (len(text),)
    assert decode_text(ids, alphabet) == text
    assert all(alphabet[i] == c for i, c in zip(ids, text))


@given(st.lists(st.integers(0, 5), min_size=1, max_size=200))
def test_unigram_entropy_is_minus_sum_p_log2_p(ids):
    counts = np.bincount(ids, minlength=6)
    expected = -sum(c / len(ids) * math.log2(c / len(ids)) for c in counts if c)
    assert unigram_entropy(np.asarray(ids), 6) == pytest.approx(expected, abs=1e-12)
    assert unigram_entropy(np.asarray(ids), 6) <= math.log2(6) + 1e-12
