"""``--config FILE``: a byte-order mark is allowed; a file that is not UTF-8, endless, or with settings both at
the top level and in ``[train]`` is one line naming the file."""
import pytest

from rnnlab.training.config import MAX_TOML_BYTES, ConfigError, load_toml, toml_settings


def test_a_byte_order_mark_is_allowed(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbfhidden = 4\n")
    assert load_toml(str(path)).hidden == 4


@pytest.mark.parametrize("content, message", [
    ("hidden = 4\n".encode("utf-16"), "is not UTF-8 text"),
    (b"hidden = 4\n[train]\nsteps = 1\n", r"both at the top level \(hidden\) and in a \[train\] table"),
    (b"# " + b"x" * (1 << 20) + b"\n", "is larger than"),
])
def test_a_bad_settings_file_is_one_error_naming_it(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message) as exc:
        toml_settings(str(path))
    assert str(path) in str(exc.value)


def test_an_endless_file_is_refused_unread():
    with pytest.raises(ConfigError, match="larger than"):
        toml_settings("/dev/zero")


@pytest.mark.parametrize("over", [-1, 0, 1])
def test_a_settings_file_of_up_to_the_limit_is_read_and_one_byte_more_is_refused(tmp_path, over):
    body = b"hidden = 4\n# "
    path = tmp_path / "edge.toml"
    path.write_bytes(body + b"x" * (MAX_TOML_BYTES + over - len(body) - 1) + b"\n")
    assert path.stat().st_size == MAX_TOML_BYTES + over
    if over <= 0:
        assert toml_settings(str(path)) == {"hidden": 4}
    else:
        with pytest.raises(ConfigError, match=f"larger than {MAX_TOML_BYTES} bytes"):
            toml_settings(str(path))


@pytest.mark.parametrize("top, inner, in_train", [(t, i, tr) for t in (True, False) for i in (True, False)
                                                   for tr in (True, False) if tr or not i])   # [train.cell] needs [train]
def test_a_cell_table_is_read_wherever_it_stands_and_refused_when_given_twice(tmp_path, top, inner, in_train):
    """The [cell] table may stand at the top level or inside [train] (as [train.cell]); both at once is one error."""
    lines = ["[train]"] if in_train else []
    lines += ["hidden = 4"] + ([] if top or inner else ['cell = "momentum-rnn"'])
    if inner:
        lines += ["[train.cell]", 'name = "momentum-rnn"', "mu = 0.25"]
    if top:
        lines += ["[cell]", 'name = "momentum-rnn"', "mu = 0.5"]
    path = tmp_path / "cell.toml"
    path.write_text("\n".join(lines) + "\n")
    if top and inner:
        with pytest.raises(ConfigError, match=r"a \[cell\] table both at the top level and in \[train\]"):
            toml_settings(str(path))
        return
    settings = toml_settings(str(path))
    assert settings["hidden"] == 4 and settings["cell"] == "momentum-rnn"
    assert settings.get("cell_args", {}) == ({"mu": 0.5} if top else {"mu": 0.25} if inner else {})
