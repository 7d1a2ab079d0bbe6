"""MNIST: IDX parsing and checks on files written here, and the real data from the shared folder when present."""
import gzip

import numpy as np
import pytest

from tests.datasets.dataset_files import idx_bytes, shared_folder, write_mnist
from rnnlab.datasets import (MNIST_MD5, ChecksumError, DataFormatError, MissingDataError, load_mnist,
                             mnist_datasets, read_idx)

CANONICAL = [f"{name}.gz" for name in MNIST_MD5]


@pytest.fixture(scope="module")
def real_mnist():
    """The real MNIST, loaded (and checked against the canonical MD5s) once for the module."""
    folder = shared_folder("mnist", CANONICAL)
    return load_mnist(folder.parent, download=False)


def test_real_mnist_has_canonical_counts_shapes_and_label_counts(real_mnist):
    m = real_mnist
    assert m.train_images.shape == (60000, 28, 28) and m.test_images.shape == (10000, 28, 28)
    assert m.train_labels.shape == (60000,) and m.test_labels.shape == (10000,)
    np.testing.assert_array_equal(np.bincount(m.train_labels),
                                  [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])


@pytest.mark.parametrize("variant, shape", [("pixel", (784, 5, 1)), ("permuted", (784, 5, 1)), ("row", (28, 5, 28))])
def test_real_mnist_variants_serve_time_major_batches(real_mnist, variant, shape):
    train, test, _ = mnist_datasets(variant, mnist=real_mnist)
    x, y = train.batch(np.arange(5))
    assert x.shape == shape and x.dtype == np.float32 and y.dtype == np.int64
    assert (len(train), len(test)) == (60000, 10000)


def test_real_mnist_training_inputs_have_zero_mean_and_unit_variance(real_mnist):
    train, _, info = mnist_datasets("row", mnist=real_mnist)
    total = total_sq = 0.0
    for start in range(0, 60000, 10000):
        x = train.batch(np.arange(start, start + 10000))[0].astype(np.float64)
        total, total_sq = total + x.sum(), total_sq + (x ** 2).sum()
    n = 60000 * 784
    assert abs(total / n) < 1e-5 and total_sq / n == pytest.approx(1.0, abs=1e-5)
    assert info["mean"] == pytest.approx(real_mnist.train_images.mean(), rel=1e-12)


def test_mnist_row_step_t_is_image_row_t_and_pixel_step_is_row_major_pixel():
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28) % 251
    m = _fake(images)
    row, _, info = mnist_datasets("row", mnist=m)
    pix, _, _ = mnist_datasets("pixel", mnist=m)
    expect = (images.astype(np.float64) - info["mean"]) / info["std"]
    np.testing.assert_allclose(row.batch([1])[0][:, 0, :], expect[1], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(pix.batch([1])[0][:, 0, 0], expect[1].ravel(), rtol=1e-5, atol=1e-5)


def test_mnist_permuted_applies_one_fixed_seeded_permutation_to_every_image():
    images = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    m = _fake(images)
    pix, _, _ = mnist_datasets("pixel", mnist=m)
    per, _, info = mnist_datasets("permuted", mnist=m, permutation_seed=5)
    again, _, info2 = mnist_datasets("permuted", mnist=m, permutation_seed=5)
    other, _, info3 = mnist_datasets("permuted", mnist=m, permutation_seed=6)
    perm = info["permutation"]
    assert sorted(perm.tolist()) == list(range(784))
    np.testing.assert_array_equal(perm, info2["permutation"])
    assert not np.array_equal(perm, info3["permutation"])
    np.testing.assert_array_equal(per.batch([0, 2])[0], pix.batch([0, 2])[0][perm])


def _fake(train_images, test_images=None):
    from rnnlab.datasets import MNIST
    test_images = train_images if test_images is None else test_images
    return MNIST(train_images, np.zeros(len(train_images), np.uint8), test_images,
                 np.zeros(len(test_images), np.uint8))


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_fixture_files_load_gzip_or_raw_with_their_checksums(tmp_path, gz):
    md5 = write_mnist(tmp_path / "mnist", gz=gz)
    m = load_mnist(tmp_path, download=False, checksums=md5)
    assert m.train_images.shape == (30, 28, 28) and m.test_labels.shape == (12,)
    np.testing.assert_array_equal(m.train_labels, np.arange(30) % 10)


def test_mnist_test_split_is_normalized_with_training_statistics(tmp_path):
    md5 = write_mnist(tmp_path / "mnist")
    m = load_mnist(tmp_path, download=False, checksums=md5)
    train, test, info = mnist_datasets("pixel", mnist=m)
    mean, std = m.train_images.mean(), m.train_images.std()
    assert (info["mean"], info["std"]) == (pytest.approx(mean), pytest.approx(std))
    np.testing.assert_allclose(test.arrays()[0][:, 3, 0], (m.test_images[3].ravel() - mean) / std, rtol=1e-5)
    assert test.arrays()[0].mean() > 0.3       # the fixture's test images are brighter than its training images


def test_mnist_wrong_checksum_is_an_error_naming_the_file(tmp_path):
    md5 = write_mnist(tmp_path / "mnist")
    md5["t10k-labels-idx1-ubyte"] = "0" * 32
    with pytest.raises(ChecksumError, match=r"load_mnist: .*t10k-labels-idx1-ubyte\.gz has MD5 [0-9a-f]{32} "
                                            r"\(uncompressed\), expected 0{32}"):
        load_mnist(tmp_path, download=False, checksums=md5)


def test_real_checksums_reject_a_file_that_is_not_the_canonical_one(tmp_path):
    write_mnist(tmp_path / "mnist")
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz has MD5 .* expected "
                                            + MNIST_MD5["train-images-idx3-ubyte"]):
        load_mnist(tmp_path, download=False)


@pytest.mark.parametrize("bad, row", [(np.nan, 1), (np.inf, 3), (-np.inf, 2)])
def test_float_idx_file_with_a_non_finite_value_is_an_error_naming_the_file_and_row(tmp_path, bad, row):
    array = np.ones((3, 4, 2), dtype=">f4")
    array[row - 1, 2, 1] = bad
    path = tmp_path / "signals-idx3-float"
    path.write_bytes(bytes([0, 0, 0x0D, 3]) + np.asarray(array.shape, ">u4").tobytes() + array.tobytes())
    with pytest.raises(DataFormatError, match=rf"^read_idx: {path} row {row} holds the non-finite value "
                                              rf"{float(bad)}; expected finite numbers$"):
        read_idx(path)
    array[row - 1, 2, 1] = 0.5
    path.write_bytes(bytes([0, 0, 0x0D, 3]) + np.asarray(array.shape, ">u4").tobytes() + array.tobytes())
    assert read_idx(path)[row - 1, 2, 1] == 0.5


def test_truncated_idx_file_is_an_error_naming_the_file_and_sizes(tmp_path):
    data = idx_bytes(np.zeros((4, 28, 28), np.uint8))
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(data[:-100])
    with pytest.raises(DataFormatError, match=rf"{path} is not a valid IDX file: a 4x28x28 array of uint8 needs "
                                              rf"{len(data)} bytes, the file has {len(data) - 100} \(truncated\)"):
        read_idx(path)


def test_truncated_gzip_file_is_an_error_naming_the_file(tmp_path):
    data = gzip.compress(idx_bytes(np.ones((4, 28, 28), np.uint8)))
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(DataFormatError, match=rf"read_idx: {path} is not a readable gzip file .*damaged or truncated"):
        read_idx(path)


def test_corrupted_idx_header_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(b"<html>not found</html>")
    with pytest.raises(DataFormatError, match=rf"{path} is not a valid IDX file: it does not start with the IDX "
                                              "magic number"):
        read_idx(path)


def test_idx_round_trips_shape_and_values(tmp_path):
    array = np.random.default_rng(1).integers(0, 256, size=(3, 5, 7), dtype=np.uint8)
    path = tmp_path / "a.gz"
    path.write_bytes(gzip.compress(idx_bytes(array)))
    np.testing.assert_array_equal(read_idx(path), array)


def test_missing_mnist_files_error_lists_the_files_and_the_folder(tmp_path):
    md5 = write_mnist(tmp_path / "mnist")
    (tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(MissingDataError) as error:
        load_mnist(tmp_path, download=False, checksums=md5)
    assert str(error.value) == (
        f"load_mnist: missing t10k-images-idx3-ubyte.gz in {tmp_path / 'mnist'}; run `python -m rnnlab.datasets "
        f"download mnist --data-dir {tmp_path}` (needs network), or download them from "
        "https://ossci-datasets.s3.amazonaws.com/mnist/ or http://yann.lecun.com/exdb/mnist/ and put them there "
        f"(gzip, or uncompressed without .gz); the data directory {tmp_path} came from the data_dir argument "
        "(--data-dir) (the order is data_dir or --data-dir, $RNNLAB_DATA, ~/.cache/rnnlab)")


def test_mnist_labels_that_do_not_match_the_images_are_an_error_naming_the_file(tmp_path):
    write_mnist(tmp_path / "mnist", gz=False)
    labels = idx_bytes(np.zeros(29, np.uint8))
    (tmp_path / "mnist" / "train-labels-idx1-ubyte").write_bytes(labels)
    path = tmp_path / "mnist" / "train-labels-idx1-ubyte"
    with pytest.raises(DataFormatError, match=rf"load_mnist: {path} holds uint8 of shape \(29,\), expected "
                                              r"uint8 of shape \(30,\)"):
        load_mnist(tmp_path, download=False, checksums=None)


def test_mnist_labels_outside_zero_to_nine_are_an_error_naming_the_file(tmp_path):
    write_mnist(tmp_path / "mnist", gz=False)
    path = tmp_path / "mnist" / "t10k-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(np.full(12, 10, np.uint8)))
    with pytest.raises(DataFormatError, match=rf"load_mnist: {path} holds label 10, expected digits 0\.\.9"):
        load_mnist(tmp_path, download=False, checksums=None)


def test_unknown_mnist_variant_is_an_error_listing_the_variants():
    with pytest.raises(ValueError, match="mnist_datasets: variant must be one of pixel, permuted, row, got 'col'"):
        mnist_datasets("col", mnist=_fake(np.zeros((1, 28, 28), np.uint8)))


@pytest.mark.parametrize("variant", ["pixel", "permuted", "row"])
def test_raw_pixels_are_the_bytes_over_255_in_every_variant_and_standardized_differs(tmp_path, variant):
    md5 = write_mnist(tmp_path / "mnist")
    m = load_mnist(tmp_path, download=False, checksums=md5)
    _, raw, info = mnist_datasets(variant, mnist=m, pixels="raw")
    _, std, _ = mnist_datasets(variant, mnist=m)
    assert (info["mean"], info["std"], info["pixels"]) == (0.0, 255.0, "raw")
    x = raw.arrays()[0]
    assert x.min() >= 0 and x.max() <= 1 and x.dtype == np.float32
    order = info["permutation"] if variant == "permuted" else np.arange(784)
    image = m.test_images[3].astype(np.float64) / 255
    expect = image if variant == "row" else image.ravel()[order][:, None]
    np.testing.assert_allclose(x[:, 3], expect, rtol=1e-6)
    assert not np.allclose(std.arrays()[0], x)


def test_unknown_pixel_scale_is_an_error_listing_the_scales():
    with pytest.raises(ValueError, match="mnist_datasets: pixels must be one of standardized, raw, got 'unit'"):
        mnist_datasets("pixel", mnist=_fake(np.zeros((1, 28, 28), np.uint8)), pixels="unit")


@pytest.mark.parametrize("n", [1, 4095, 4096, 4097, 8193])
@pytest.mark.parametrize("kind", ["random", "one pixel lit"])
def test_the_standardizing_statistics_are_every_training_pixels_mean_and_std(n, kind):
    """Across the histogram's chunks of images (any count, a partial last chunk) and down to a std far below
    one grey level: the mean and std are numpy's over all training pixels, and only std 0 is refused."""
    if kind == "random":
        images = np.random.default_rng(n).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    else:
        images = np.zeros((n, 28, 28), dtype=np.uint8)
        images[-1, 27, 27] = 1
    _, _, info = mnist_datasets("pixel", mnist=_fake(images))
    pixels = images.astype(np.float64)
    assert info["mean"] == pytest.approx(pixels.mean(), rel=1e-12)
    assert info["std"] == pytest.approx(pixels.std(), rel=1e-9) and info["std"] > 0
    with pytest.raises(DataFormatError, match="constant"):
        mnist_datasets("pixel", mnist=_fake(np.full_like(images, 7)))
