"""Every declared branch of the IDX reader (each element type code, big-endian on disk), the MNIST shape,
dtype and rank checks, and the token-stream loader's argument checks."""
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

from tests.datasets.dataset_files import idx_bytes, write_mnist
from rnnlab.datasets import DataFormatError, load_mnist, read_idx
from rnnlab.datasets.loader import TokenStreamLoader

CODES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.int16, 0x0C: np.int32, 0x0D: np.float32, 0x0E: np.float64}


def typed_idx(array: np.ndarray, code: int) -> bytes:
    """``array`` as IDX with type ``code``: the header, then the elements big-endian."""
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + array.astype(np.dtype(CODES[code]).newbyteorder(">")).tobytes()


@pytest.mark.parametrize("code", sorted(CODES))
def test_each_idx_type_code_reads_its_dtype_big_endian(tmp_path, code):
    values = np.array([[0, 1, -2], [100, -7, 5]]) if code != 0x08 else np.array([[0, 1, 2], [100, 255, 5]])
    if code in (0x0D, 0x0E):
        values = values + 0.25
    array = values.astype(CODES[code])
    path = tmp_path / "a.idx"
    path.write_bytes(typed_idx(array, code))
    read = read_idx(path)
    assert read.dtype == np.dtype(CODES[code]) and read.dtype.isnative
    np.testing.assert_array_equal(read, array)


@pytest.mark.parametrize("code", [0x00, 0x0A, 0x0F, 0xFF])
def test_an_unknown_idx_type_code_is_named(tmp_path, code):
    path = tmp_path / "a.idx"
    path.write_bytes(bytes([0, 0, code, 1, 0, 0, 0, 1, 7]))
    with pytest.raises(DataFormatError, match=f"unknown element type code 0x{code:02x}"):
        read_idx(path)


def test_a_rank_whose_header_does_not_fit_is_named(tmp_path):
    path = tmp_path / "a.idx"
    path.write_bytes(bytes([0, 0, 0x08, 3, 0, 0, 0, 1]))
    with pytest.raises(DataFormatError, match="header of a rank-3 array needs 16 bytes, the file has 8"):
        read_idx(path)


def test_trailing_bytes_are_named(tmp_path):
    path = tmp_path / "a.idx"
    path.write_bytes(idx_bytes(np.zeros(3, np.uint8)) + b"\x00")
    with pytest.raises(DataFormatError, match="trailing bytes"):
        read_idx(path)


@pytest.mark.parametrize("labels, shown", [
    (np.zeros((30, 1), np.uint8), r"uint8 of shape \(30, 1\)"),             # rank 2
    (np.zeros(30, np.int8), r"int8 of shape \(30,\)"),                       # another dtype
])
def test_mnist_labels_of_another_rank_or_dtype_are_named(tmp_path, labels, shown):
    write_mnist(tmp_path / "mnist", gz=False)
    path = tmp_path / "mnist" / "train-labels-idx1-ubyte"
    path.write_bytes(typed_idx(labels, 0x09 if labels.dtype == np.int8 else 0x08))
    with pytest.raises(DataFormatError, match=rf"{path} holds {shown}, expected uint8 of shape \(30,\)"):
        load_mnist(tmp_path, download=False, checksums=None)


@pytest.mark.parametrize("images, code, shown", [
    (np.zeros((30, 28, 28), np.int16), 0x0B, r"int16 of shape \(30, 28, 28\)"),
    (np.zeros((30, 28, 27), np.uint8), 0x08, r"uint8 of shape \(30, 28, 27\)"),
    (np.zeros((30, 784), np.uint8), 0x08, r"uint8 of shape \(30, 784\)"),
])
def test_mnist_images_of_another_shape_or_dtype_are_named(tmp_path, images, code, shown):
    write_mnist(tmp_path / "mnist", gz=False)
    path = tmp_path / "mnist" / "t10k-images-idx3-ubyte"
    path.write_bytes(typed_idx(images, code))
    with pytest.raises(DataFormatError, match=rf"{path} holds {shown}, expected uint8 of shape \(N, 28, 28\)"):
        load_mnist(tmp_path, download=False, checksums=None)


@pytest.mark.parametrize("kwargs, match", [
    ({"batch_size": 0}, r"batch_size must be an integer >= 1, got 0"),
    ({"batch_size": True}, r"batch_size must be an integer >= 1, got True"),
    ({"batch_size": 2.0}, r"batch_size must be an integer >= 1, got 2.0"),
    ({"bptt": 0}, r"bptt must be an integer >= 1, got 0"),
    ({"bptt": "3"}, r"bptt must be an integer >= 1, got '3'"),
    ({"tokens": np.zeros((4, 5), np.int64)}, r"tokens must be a 1-D integer array, got int64 of shape \(4, 5\)"),
    ({"tokens": np.zeros(20, np.float32)}, r"tokens must be a 1-D integer array, got float32 of shape \(20,\)"),
    ({"tokens": np.zeros(3, np.int64)}, r"3 tokens cannot be cut into 2 streams"),
])
def test_token_stream_loader_arguments_are_checked_by_name(kwargs, match):
    args = {"tokens": np.arange(20), "batch_size": 2, "bptt": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        TokenStreamLoader(args.pop("tokens"), **args)


def test_token_stream_loader_accepts_unsigned_tokens_and_the_smallest_sizes():
    loader = TokenStreamLoader(np.arange(4, dtype=np.uint16), batch_size=1, bptt=1)
    assert len(loader) == 3



def cut_idx_message(shape, length, whole):
    """What a file of ``whole``'s first ``length`` bytes lacks: under 4 bytes the magic number, then the header
    (4 + 4 x rank bytes), then the elements."""
    header = 4 + 4 * len(shape)
    if length < 4:
        return "it does not start with the IDX magic number"
    if length < header:
        return f"the header of a rank-{len(shape)} array needs {header} bytes, the file has {length}"
    return f"needs {len(whole)} bytes, the file has {length} \\(truncated\\)"


def check_cut(path, shape, length):
    array = np.arange(int(np.prod(shape)), dtype=np.uint8).reshape(shape)
    whole = typed_idx(array, 0x08)
    path.write_bytes(whole[:length])
    if length == len(whole):
        np.testing.assert_array_equal(read_idx(path), array)
    else:
        with pytest.raises(DataFormatError, match=cut_idx_message(shape, length, whole)):
            read_idx(path)


@pytest.mark.parametrize("length", range(6))
def test_a_rank_0_idx_file_cut_at_each_byte_says_which_part_is_missing(tmp_path, length):
    check_cut(tmp_path / "a.idx", [], length)


@settings(deadline=None)
@given(shape=st.lists(st.integers(0, 3), max_size=3), data=st.data())
def test_an_idx_file_cut_at_any_byte_says_which_part_is_missing(tmp_path_factory, shape, data):
    whole = 4 + 4 * len(shape) + int(np.prod(shape))
    length = data.draw(st.integers(0, whole), label="length")
    check_cut(tmp_path_factory.mktemp("cut") / "a.idx", shape, length)
