"""MNIST from its canonical IDX files, as pixel, permuted-pixel or row sequences.

Files (in ``<data dir>/mnist/``, gzip ``NAME.gz`` or uncompressed ``NAME``): train-images-idx3-ubyte,
train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte. Each is checked against the MD5 of
its uncompressed contents (:data:`MNIST_MD5`) before it is parsed.

Sequences (time-major batches (T, B, D)):

* ``pixel``: the 784 pixels in row-major order, one per step: (784, B, 1);
* ``permuted``: the same pixels in one fixed order, ``np.random.default_rng(permutation_seed).permutation(784)``
  applied to every image: (784, B, 1);
* ``row``: the 28 rows, one per step: (28, B, 28).

Pixels (``pixels``, one of :data:`PIXEL_SCALES`): ``standardized`` (the default) maps p to (p - mean) / std
with the mean and standard deviation of all training pixels (one scalar each; per-pixel statistics would
divide by zero on the always-blank border), so the blank background is about -0.42; ``raw`` maps p to
p / 255 in [0, 1] (background 0), as the MomentumRNN authors' code feeds them.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .cache import check_finite, check_md5, existing_dataset_dir, fetch_missing, missing_files_error, read_bytes
from .errors import DataFormatError
from .sequence import SequenceDataset

__all__ = ["MNIST", "MNIST_FILES", "MNIST_MD5", "MNIST_URLS", "MNIST_VARIANTS", "PIXEL_SCALES", "read_idx",
           "load_mnist", "mnist_datasets"]

MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
               "t10k-labels-idx1-ubyte")
MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
"""MD5 of the uncompressed canonical IDX files."""
MNIST_URLS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
"""Where ``NAME.gz`` is downloaded from, tried in order (a mirror first: the original site is often down)."""
MNIST_VARIANTS = ("pixel", "permuted", "row")
PIXEL_SCALES = ("standardized", "raw")
"""How pixel values reach the network: (p - mean) / std of the training pixels, or p / 255 in [0, 1]."""

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class MNIST(NamedTuple):
    """The raw MNIST arrays: images (N, 28, 28) uint8 in [0, 255], labels (N,) uint8 in [0, 9]."""
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def _parse_idx(data: bytes, path: Path, loader: str) -> np.ndarray:
    def bad(what: str) -> DataFormatError:
        return DataFormatError(f"{loader}: {path} is not a valid IDX file: {what}")

    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise bad("it does not start with the IDX magic number (two zero bytes, a type code, a rank)")
    dtype = _IDX_TYPES.get(data[2])
    if dtype is None:
        raise bad(f"unknown element type code 0x{data[2]:02x}")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise bad(f"the header of a rank-{ndim} array needs {header} bytes, the file has {len(data)}")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(dtype)
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise bad(f"a {'x'.join(map(str, shape))} array of {dtype.name} needs {expected} bytes, the file has "
                  f"{len(data)} ({'truncated' if len(data) < expected else 'trailing bytes'})")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))
    check_finite(array, path, loader=loader)
    return array


def read_idx(path: str | os.PathLike, *, expected_md5: str | None = None, loader: str = "read_idx") -> np.ndarray:
    """The array stored in IDX file ``path`` (gzip when the name ends ``.gz``), with the shape in its header.

    ``expected_md5``: the MD5 of the uncompressed bytes, checked first (None skips the check). Raises
    :class:`ChecksumError` or :class:`DataFormatError` naming the file (and, for a float array holding a NaN
    or an infinity, the row: the 1-based index along axis 0).
    """
    path = Path(path)
    data = read_bytes(path, loader=loader)
    check_md5(data, expected_md5, path, loader=loader, what=" (uncompressed)" if path.name.endswith(".gz") else "")
    return _parse_idx(data, path, loader)


def _locate(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def load_mnist(data_dir=None, *, download: bool = True, checksums: dict | None = MNIST_MD5,
               base_urls: tuple[str, ...] = MNIST_URLS) -> MNIST:
    """The four MNIST arrays from ``<data dir>/mnist/`` (see :func:`rnnlab.datasets.data_root`).

    Missing files are downloaded from ``base_urls`` when ``download`` and the data directory exists (checked,
    written atomically; see :func:`rnnlab.datasets.fetch_missing`);
    ``checksums`` maps each canonical name to the MD5 of its uncompressed bytes (None: no check).
    Returns :class:`MNIST`: images (N, 28, 28) uint8, labels (N,) uint8, N = 60000 train / 10000 test for the
    canonical files. Raises :class:`MissingDataError` naming the files and folder when files are absent.
    """
    folder = existing_dataset_dir("mnist", data_dir, loader="load_mnist")
    missing = [name for name in MNIST_FILES if _locate(folder, name) is None]
    cause = ""
    if missing and download and base_urls:
        sources = {f"{name}.gz": ([base.rstrip("/") + f"/{name}.gz" for base in base_urls],
                                  (checksums or {}).get(name)) for name in missing}
        cause = fetch_missing(sources, folder, data_dir, gunzip_for_md5=True, loader="load_mnist")
        missing = [name for name in MNIST_FILES if _locate(folder, name) is None]
    if missing:
        source = " or ".join(base_urls or MNIST_URLS)
        raise missing_files_error("load_mnist", folder, [f"{name}.gz" for name in missing], cause=cause,
                                  download_name="mnist", data_dir=data_dir,
                                  instructions=f"download them from {source} and put them there "
                                               "(gzip, or uncompressed without .gz)")
    paths = [_locate(folder, name) for name in MNIST_FILES]
    out = MNIST(*(read_idx(path, expected_md5=(checksums or {}).get(name), loader="load_mnist")
                  for name, path in zip(MNIST_FILES, paths)))
    _validate(out, paths)
    return out


def _validate(m: MNIST, paths: list[Path]) -> None:
    """Check shapes, dtypes and label range; ``paths`` in :data:`MNIST_FILES` order name the culprit."""
    for images, labels, image_path, label_path in ((m.train_images, m.train_labels, paths[0], paths[1]),
                                                   (m.test_images, m.test_labels, paths[2], paths[3])):
        if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
            raise DataFormatError(f"load_mnist: {image_path} holds {images.dtype} of shape {images.shape}, "
                                  "expected uint8 of shape (N, 28, 28)")
        if labels.ndim != 1 or labels.dtype != np.uint8 or len(labels) != len(images):
            raise DataFormatError(f"load_mnist: {label_path} holds {labels.dtype} of shape {labels.shape}, "
                                  f"expected uint8 of shape ({len(images)},) to match the images")
        if labels.size and labels.max() > 9:
            raise DataFormatError(f"load_mnist: {label_path} holds label {labels.max()}, expected digits 0..9")


class _PixelTransform:
    """uint8 images (B, 28, 28) -> float32 sequences (T, B, D) for one variant: x = (p - mean) / std (for
    ``raw``, mean 0 and std 255: x = p / 255)."""

    def __init__(self, variant: str, mean: float, std: float, permutation: np.ndarray | None):
        self.variant, self.mean, self.std, self.permutation = variant, mean, std, permutation

    def __call__(self, images: np.ndarray) -> np.ndarray:
        x = (images.astype(np.float32) - np.float32(self.mean)) / np.float32(self.std)
        if self.variant == "row":
            return np.ascontiguousarray(x.transpose(1, 0, 2))
        flat = x.reshape(len(x), -1)
        if self.permutation is not None:
            flat = flat[:, self.permutation]
        return np.ascontiguousarray(flat.T)[:, :, None]


def _pixel_statistics(images: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of all pixels of uint8 ``images``, exactly, from a 256-bin histogram."""
    counts = np.zeros(256, dtype=np.float64)
    for start in range(0, len(images), 4096):    # chunks keep the int conversion inside bincount small
        counts += np.bincount(images[start:start + 4096].ravel(), minlength=256)
    values = np.arange(256, dtype=np.float64)
    mean = float(counts @ values / counts.sum())
    return mean, float(np.sqrt(counts @ (values - mean) ** 2 / counts.sum()))


def mnist_datasets(variant: str, data_dir=None, *, permutation_seed: int = 0, pixels: str = "standardized",
                   mnist: MNIST | None = None, **load_options) -> tuple[SequenceDataset, SequenceDataset, dict]:
    """Train and test :class:`SequenceDataset` for ``variant`` (``pixel``, ``permuted`` or ``row``).

    Batches: inputs (784, B, 1) for pixel and permuted, (28, B, 28) for row, float32, ``pixels``
    ``standardized`` with the training pixels' mean and std or ``raw`` p / 255 in [0, 1]; targets (B,) int64
    digits. ``mnist``: arrays already loaded (else
    :func:`load_mnist` with ``data_dir`` and ``load_options``). Also returns ``{"mean", "std",
    "permutation", "pixels"}`` (mean and std as applied: 0 and 255 for ``raw``; the permutation (784,) int64,
    or None).
    """
    if variant not in MNIST_VARIANTS:
        raise ValueError(f"mnist_datasets: variant must be one of {', '.join(MNIST_VARIANTS)}, got {variant!r}")
    if pixels not in PIXEL_SCALES:
        raise ValueError(f"mnist_datasets: pixels must be one of {', '.join(PIXEL_SCALES)}, got {pixels!r}")
    m = mnist if mnist is not None else load_mnist(data_dir, **load_options)
    mean, std = _pixel_statistics(m.train_images) if pixels == "standardized" else (0.0, 255.0)
    if not std > 0:
        raise DataFormatError("mnist_datasets: the training images are constant (std 0), cannot normalize")
    permutation = np.random.default_rng(permutation_seed).permutation(784) if variant == "permuted" else None
    transform = _PixelTransform(variant, mean, std, permutation)
    train = SequenceDataset(m.train_images, m.train_labels.astype(np.int64), to_inputs=transform)
    test = SequenceDataset(m.test_images, m.test_labels.astype(np.int64), to_inputs=transform)
    return train, test, {"mean": mean, "std": std, "permutation": permutation, "pixels": pixels}
