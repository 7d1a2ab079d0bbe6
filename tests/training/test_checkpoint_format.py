"""The checkpoint's archive format, read back member by member: an uncompressed ``.npz`` whose members are
in sorted order, each dated 1980-01-01 00:00:00, each loadable without pickle, so that its bytes depend on the
arrays alone; and a write stopped midway leaves the file it replaces (hypothesis draws the names, dtypes, shapes and the order the entries are given in)."""
import io
import os
import zipfile

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given
from hypothesis.extra.numpy import arrays, array_shapes

from rnnlab.training.checkpoints import atomic_write_bytes, npz_bytes

NAMES = st.text(st.sampled_from("abcxyz_0123456789."), min_size=1, max_size=8)
ARRAYS = arrays(st.sampled_from([np.float32, np.float64, np.int64, np.uint8, np.bool_]),
                array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))


@given(entries=st.dictionaries(NAMES, ARRAYS, min_size=1, max_size=5), data=st.data())
def test_members_are_sorted_stored_dated_1980_and_the_bytes_depend_on_the_arrays_alone(entries, data):
    blob = npz_bytes(entries)
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == [f"{name}.npy" for name in sorted(entries)]
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.compress_type for i in infos} == {zipfile.ZIP_STORED}
    with np.load(io.BytesIO(blob), allow_pickle=False) as loaded:
        for name, array in entries.items():
            np.testing.assert_array_equal(loaded[name], array)
            assert loaded[name].dtype == array.dtype and loaded[name].shape == array.shape
    order = data.draw(st.permutations(sorted(entries)), label="order")
    assert npz_bytes({name: entries[name] for name in order}) == blob


@pytest.mark.parametrize("fault", [KeyboardInterrupt(), OSError(28, "No space left on device")])
def test_a_write_stopped_midway_leaves_the_previous_file_and_no_temporary_file(tmp_path, monkeypatch, fault):
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(b"the previous checkpoint")

    def stopped(fd):
        raise fault

    monkeypatch.setattr(os, "fsync", stopped)
    with pytest.raises(type(fault)) as exc:
        atomic_write_bytes(path, b"a newer checkpoint")
    if isinstance(fault, OSError):
        assert exc.value.filename == str(path)               # the one line names the file the system refused
    assert path.read_bytes() == b"the previous checkpoint"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.npz"]
