"""Checkpoints: named arrays and JSON metadata in one ``.npz`` file, written atomically, read without pickle,
verified by checksum.

The file holds the arrays, the metadata as a JSON byte array (``__meta__``) and a SHA-256 (``__sha256__``)
over every entry's name, dtype, shape and bytes. It is written to a temporary file in the same folder and
renamed into place in one step, so a run killed mid-write leaves the previous checkpoint intact, and a
file damaged later fails the checksum (or the archive's own CRC) with a clear error.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np  # host-side file format code

META, DIGEST = "__meta__", "__sha256__"


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupted, or does not match the run loading it."""


def naming(exc: OSError, path) -> OSError:
    """``exc`` with ``path`` as its file name when it names none (a failed write or flush names no file), so
    that the one line a user sees says which file the system refused."""
    return exc if exc.filename is not None else type(exc)(exc.errno, exc.strerror or str(exc), str(path))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and an atomic rename; when the
    system refuses (the disk full, say) the temporary file is removed, ``path`` is as it was, and the
    ``OSError`` names ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())     # mkstemp makes 0600; a run's files get the usual mode
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if exc.filename is not None:
            raise
        raise naming(exc, path) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _digest(entries: dict) -> str:
    h = hashlib.sha256()
    for name in sorted(entries):
        a = np.ascontiguousarray(entries[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save(path, arrays: dict, meta: dict | None = None) -> Path:
    """Save ``arrays`` (name -> host array) and ``meta`` (JSON-able) to ``path`` (.npz), atomically."""
    path = Path(path).with_suffix(".npz")
    entries = {k: np.asarray(v) for k, v in arrays.items()}
    entries[META] = np.frombuffer(json.dumps(meta or {}).encode(), dtype=np.uint8)
    entries[DIGEST] = np.frombuffer(_digest(entries).encode(), dtype=np.uint8)
    atomic_write_bytes(path, npz_bytes(entries))
    return path


def npz_bytes(entries: dict) -> bytes:
    """An uncompressed ``.npz`` archive of ``entries`` whose bytes depend on the arrays alone (every member
    dated 1980-01-01, in sorted order), so the same state always gives the same file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(entries):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asanyarray(entries[name]), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)), member.getvalue())
    return buffer.getvalue()


def load(path) -> tuple[dict, dict]:
    """Return (arrays, meta) from a checkpoint saved by :func:`save`, after checking its SHA-256."""
    path = Path(path).with_suffix(".npz")
    if not path.exists():
        raise CheckpointError(f"checkpoint: {path} does not exist")
    if path.is_dir():
        raise CheckpointError(f"checkpoint: {path} is a folder, not a checkpoint")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise CheckpointError(f"checkpoint: {path} cannot be read ({exc.strerror})") from exc
    try:
        with np.load(path, allow_pickle=False) as archive:
            entries = {k: archive[k] for k in archive.files}
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError) as exc:
        raise CheckpointError(f"checkpoint: {path} is corrupted or not a checkpoint ({exc})") from exc
    if DIGEST not in entries or META not in entries:
        raise CheckpointError(f"checkpoint: {path} is not an rnnlab checkpoint (no {META} or {DIGEST} entry)")
    expected = entries.pop(DIGEST).tobytes().decode()
    actual = _digest(entries)
    if actual != expected:
        raise CheckpointError(f"checkpoint: {path} is corrupted (SHA-256 {actual[:12]}..., "
                              f"expected {expected[:12]}...)")
    try:
        meta = json.loads(entries.pop(META).tobytes().decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"checkpoint: {path} has unreadable metadata ({exc})") from exc
    if not isinstance(meta, dict):
        raise CheckpointError(f"checkpoint: {path} is not an rnnlab checkpoint (its metadata is not an object)")
    return entries, meta


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


# ---------------------------------------------------------------------------------------------- a run's state
CHECKPOINT, BEST = "checkpoint.npz", "best.npz"


def module_rngs(model) -> list:
    """The random generators of a model's modules (dropout masks), in a fixed order."""
    return [m.rng for _, m in model.named_modules() if hasattr(m, "rng")]


def save_run(run, path) -> None:
    """Everything a :class:`~rnnlab.training.loop.Run` needs to continue bit for bit, in one checkpoint:
    model, optimizer, schedulers, the place in the data, random generators, counters and the running
    averages between log lines."""
    from ..engine import init
    arrays = {f"model/{k}": v for k, v in run.model.state_dict().items()}
    arrays.update({f"grad_norms/{k}": v for k, v in run.records.grad_norm_arrays().items()})
    tree = {"optimizer": run.optimizer.state_dict(), "schedulers": [s.state_dict() for s in run.schedulers],
            "work": run.work.state_dict()}
    flat_meta: dict = {}
    flatten("state", tree, arrays, flat_meta)
    config = {k: v for k, v in run.cfg.to_dict().items() if k not in RESUMABLE}
    meta = {"config": config, "tree": flat_meta, "rngs": [g.bit_generator.state for g in
            module_rngs(run.model)], "global_rng": init.get_rng().bit_generator.state,
            **{k: v for k, v in run.counters().items() if k != "elapsed"}}
    if run.comm.is_root:
        save(Path(path), arrays, meta)


def load_model(model, path, config: dict | None = None) -> dict:
    """Load only the model's parameters and buffers from a run checkpoint; returns its metadata. With
    ``config`` (the run's settings), a checkpoint of another run is refused as :func:`load_run` does."""
    arrays, meta = load(path)
    if config is not None:
        check_belongs(meta.get("config", {}), config, path)
    model.load_state_dict({k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")})
    return meta


RESUMABLE = ("steps", "epochs", "progress", "distributed", "out", "data_dir", "device")
"""Settings a resumed run may change: how long, how it shows progress, and where things are on this machine."""


ADDED_LATER = {"cell_args": {}}
"""Settings newer than some saved runs, with the value that reproduces what such a run did (its checkpoint's
configuration lacks the key)."""


def check_belongs(saved: dict, config: dict, path) -> None:
    """Refuse a checkpoint whose run configuration differs from the directory's (other than RESUMABLE)."""
    saved = {**{k: v for k, v in ADDED_LATER.items() if k not in saved}, **saved}
    differ = sorted(k for k in set(saved) | set(config) if k not in RESUMABLE and saved.get(k) != config.get(k))
    if differ:
        shown = ", ".join(f"{k} ({saved.get(k)!r} in the checkpoint, {config.get(k)!r} in config.json)"
                          for k in differ[:4])
        raise CheckpointError(f"checkpoint: {path} belongs to another run: {shown}"
                              f"{' and more' if len(differ) > 4 else ''}")


def load_run(run, path) -> dict:
    """Restore what :func:`save_run` wrote into ``run``; returns the metadata (counters among it)."""
    from ..engine import init
    arrays, meta = load(path)
    check_belongs(meta.get("config", {}), run.cfg.to_dict(), path)
    run.model.load_state_dict({k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")})
    run.records.restore_grad_norms({k[len("grad_norms/"):]: v for k, v in arrays.items()
                                    if k.startswith("grad_norms/")})
    tree = unflatten("state", arrays, meta["tree"])
    run.optimizer.load_state_dict(tree["optimizer"])
    for s, state in zip(run.schedulers, tree["schedulers"]):
        s.load_state_dict(state)
    run.work.load_state_dict(tree["work"], like=run.params[0].data)
    for g, state in zip(module_rngs(run.model), meta["rngs"]):
        g.bit_generator.state = state
    init.get_rng().bit_generator.state = meta["global_rng"]
    return meta
