"""Penn Treebank: the real corpus when present, a tiny corpus written here, streams and perplexity."""
import math

import numpy as np
import pytest

from tests.datasets.dataset_files import shared_folder, write_ptb
from rnnlab.datasets import (PTB_MD5, ChecksumError, DataFormatError, MissingDataError, batchify, load_ptb,
                             perplexity)


def test_real_ptb_has_canonical_token_counts_and_a_10k_vocabulary():
    folder = shared_folder("ptb", list(PTB_MD5))
    corpus = load_ptb(folder.parent, download=False)
    assert (len(corpus.train), len(corpus.valid), len(corpus.test)) == (929_589, 73_760, 82_430)
    assert len(corpus.vocab) == 10_000 and "<eos>" in corpus.vocab and "<unk>" in corpus.vocab
    assert corpus.train.dtype == np.int64 and corpus.train.max() == 9_999


def test_ptb_vocabulary_is_training_words_in_first_seen_order_with_eos_per_line(tmp_path):
    md5 = write_ptb(tmp_path / "ptb")
    corpus = load_ptb(tmp_path, download=False, checksums=md5)
    assert corpus.vocab == ("the", "cat", "sat", "<eos>", "dog", "<unk>", "ran", "a")
    words = [corpus.vocab[i] for i in corpus.train]
    assert words == "the cat sat <eos> the dog <unk> ran <eos> a cat <eos>".split()
    assert [corpus.vocab[i] for i in corpus.test] == "a dog <eos> the cat ran <eos>".split()


def test_ptb_words_unseen_in_training_become_unk(tmp_path):
    md5 = write_ptb(tmp_path / "ptb")
    corpus = load_ptb(tmp_path, download=False, checksums=md5)
    assert [corpus.vocab[i] for i in corpus.valid] == "the <unk> sat <eos>".split()


def test_ptb_unseen_word_without_unk_in_the_vocabulary_is_an_error_naming_file_and_line(tmp_path):
    write_ptb(tmp_path / "ptb")
    (tmp_path / "ptb" / "ptb.train.txt").write_text(" the cat \n")
    with pytest.raises(DataFormatError, match=rf"load_ptb: {tmp_path / 'ptb' / 'ptb.valid.txt'} line 1 has the word "
                                              "'bird', which is not in the training vocabulary"):
        load_ptb(tmp_path, download=False, checksums=None)


def test_ptb_wrong_checksum_is_an_error_naming_the_file(tmp_path):
    write_ptb(tmp_path / "ptb")
    with pytest.raises(ChecksumError, match=rf"load_ptb: {tmp_path / 'ptb' / 'ptb.train.txt'} has MD5 [0-9a-f]{{32}}, "
                                            f"expected {PTB_MD5['ptb.train.txt']}"):
        load_ptb(tmp_path, download=False)


def test_missing_ptb_files_error_names_them_and_the_folder(tmp_path):
    md5 = write_ptb(tmp_path / "ptb")
    (tmp_path / "ptb" / "ptb.valid.txt").unlink()
    with pytest.raises(MissingDataError, match=rf"^load_ptb: missing ptb\.valid\.txt in {tmp_path / 'ptb'}; run "
                                               rf"`python -m rnnlab\.datasets download ptb --data-dir {tmp_path}` "
                                               r"\(needs network\), or download them from https://\S+ and put them "
                                               rf"there; the data directory {tmp_path} came from the data_dir"):
        load_ptb(tmp_path, download=False, checksums=md5)


def test_batchify_cuts_the_stream_into_contiguous_time_major_columns():
    data = batchify(np.arange(23), 4)
    assert data.shape == (5, 4)
    np.testing.assert_array_equal(data[:, 2], np.arange(10, 15))
    np.testing.assert_array_equal(data.T.ravel(), np.arange(20))


@pytest.mark.parametrize("streams, message", [(0, "num_streams must be a positive integer, got 0"),
                                              (12, "23 tokens cannot be cut into 12 streams of at least 2")])
def test_batchify_rejects_impossible_stream_counts(streams, message):
    with pytest.raises(ValueError, match="batchify: " + message):
        batchify(np.arange(23), streams)


def test_perplexity_is_exp_of_mean_cross_entropy():
    assert perplexity(0.0) == 1.0
    assert perplexity(math.log(10_000)) == pytest.approx(10_000)
    assert perplexity(1e6) == math.inf
