"""Checkpoints: named arrays in one ``.npz`` file, written atomically, read without pickle, verified by checksum.

A checkpoint ``NAME.npz`` has a sidecar ``NAME.json`` holding its SHA-256 and any plain metadata
(step, epoch, configuration). Both are written to a temporary file in the same folder and renamed into
place, so a run killed mid-write leaves the previous checkpoint intact; the sidecar is renamed last, so
a checksum never describes a half-written archive.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np  # host-side file format code


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupted, or does not match the run loading it."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(path, arrays: dict, meta: dict | None = None) -> Path:
    """Save ``arrays`` (name -> host array) to ``path`` (.npz) and ``meta`` with the checksum to ``path``.json."""
    path = Path(path).with_suffix(".npz")
    buffer = io.BytesIO()
    np.savez(buffer, **{k: np.asarray(v) for k, v in arrays.items()})
    data = buffer.getvalue()
    atomic_write_bytes(path, data)
    sidecar = {"sha256": hashlib.sha256(data).hexdigest(), "meta": meta or {}}
    atomic_write_bytes(path.with_suffix(".json"), json.dumps(sidecar, indent=1).encode())
    return path


def load(path) -> tuple[dict, dict]:
    """Return (arrays, meta) from a checkpoint saved by :func:`save`, after checking its SHA-256."""
    path = Path(path).with_suffix(".npz")
    sidecar_path = path.with_suffix(".json")
    if not path.exists() or not sidecar_path.exists():
        raise CheckpointError(f"checkpoint: {path} or its checksum file {sidecar_path.name} is missing")
    data = path.read_bytes()
    try:
        sidecar = json.loads(sidecar_path.read_text())
        expected = sidecar["sha256"]
    except (ValueError, KeyError) as exc:
        raise CheckpointError(f"checkpoint: {sidecar_path} is not a valid checksum file ({exc})") from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise CheckpointError(f"checkpoint: {path} is corrupted (SHA-256 {actual[:12]}..., "
                              f"expected {expected[:12]}...)")
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    return arrays, sidecar.get("meta", {})


def flatten(prefix: str, state, out: dict, meta: dict) -> None:
    """Flatten a nested state (dicts, lists, arrays, numbers, strings) into arrays and JSON metadata.

    Arrays go to ``out`` under dotted names; everything else goes to ``meta`` under the same names, so
    an optimizer's ``state_dict`` can be stored without pickle and rebuilt by :func:`unflatten`.
    """
    if isinstance(state, dict):
        meta[prefix + "/"] = {"kind": "dict", "keys": [str(k) for k in state]}
        for k, v in state.items():
            flatten(f"{prefix}/{k}", v, out, meta)
    elif isinstance(state, (list, tuple)):
        meta[prefix + "/"] = {"kind": "list", "length": len(state)}
        for i, v in enumerate(state):
            flatten(f"{prefix}/{i}", v, out, meta)
    elif isinstance(state, np.ndarray):
        out[prefix] = state
    elif isinstance(state, np.generic):
        meta[prefix] = state.item()
    else:
        meta[prefix] = state


def unflatten(prefix: str, arrays: dict, meta: dict):
    """Rebuild what :func:`flatten` stored under ``prefix``."""
    node = meta.get(prefix + "/")
    if node is None:
        return arrays[prefix] if prefix in arrays else meta[prefix]
    if node["kind"] == "dict":
        return {_key(k): unflatten(f"{prefix}/{k}", arrays, meta) for k in node["keys"]}
    return [unflatten(f"{prefix}/{i}", arrays, meta) for i in range(node["length"])]


def _key(k: str):
    """Dict keys come back as ints when they were ints (optimizer state is indexed by parameter number)."""
    return int(k) if k.lstrip("-").isdigit() else k
