"""A cell's hyperparameters: one default per hyperparameter (the class's, in Python and on the command line), a
plugin cell's never filled from a same-named setting, and its own set by ``--cell-arg NAME=VALUE`` or a
``[cell]`` table, typed by the constructor, with unknown names and wrong types refused in one line."""
import inspect
import json
import sys

import pytest
from hypothesis import event, given, strategies as st

from rnnlab.cells import CELLS, RNN
from rnnlab.cells.registry import cell_hyperparameters
from rnnlab.cli import main
from rnnlab.training import ConfigError, TrainConfig
from rnnlab.training.cell_args import cell_settings, kind_of, settable
from rnnlab.training.model import make_cells
from rnnlab.training.settings import BY_NAME, CELL, CELL_PARAMETER, SETTINGS, own_cell


class PluginRNN(RNN):
    """A plugin cell: an RNN whose constructor takes ``mu`` (also a setting of rnnlab's momentum cells, with
    another default), and parameters of every kind a command line can give."""

    def __init__(self, input_size: int, hidden_size: int, mu: float = 0.0, gain: float = 1.0, width: int = 2,
                 scaled: bool = False, label: str = "a", rng=None):
        super().__init__(input_size, hidden_size, rng=rng)
        if gain < 0:
            raise ValueError(f"PluginRNN: gain must be >= 0, got {gain}")
        self.mu, self.gain, self.width, self.scaled, self.label = mu, gain, width, scaled, label


PLUGIN = "test-plugin-rnn"
PLUGIN_MODULE = f'''
from rnnlab.cells import register_cell
from {__name__} import PluginRNN
register_cell("{PLUGIN}")(PluginRNN)
'''


@pytest.fixture
def plugin():
    """The plugin cell registered for one test, and gone afterwards (other tests list the registered cells)."""
    saved = dict(CELLS)
    CELLS[PLUGIN] = PluginRNN
    yield PluginRNN
    CELLS.clear()
    CELLS.update(saved)
    sys.modules.pop("cellplugin", None)


def test_every_cell_setting_defaults_to_the_classes_default():
    """One default per hyperparameter: each of rnnlab's cells that takes a cell setting has the setting's
    default as its constructor's (so ``MomentumLSTM(...)`` and ``--cell momentum-lstm`` agree)."""
    checked = 0
    for name, cls in CELLS.items():
        if not own_cell(cls):
            continue            # a plugin another test registered
        params = cell_hyperparameters(cls)
        for key in cell_settings(cls):
            assert params[CELL_PARAMETER.get(key, key)].default == BY_NAME[key].default, (name, key)
            checked += 1
    assert checked > 20
    cells = make_cells(TrainConfig(cell="momentum-lstm"), 1, None)
    assert (cells[0].rule.mu(1), cells[0].rule.s) == (0.9, 0.1)
    every = {s.name for s in SETTINGS if s.applies == CELL}
    assert every == set().union(*(cell_settings(c) for c in CELLS.values() if own_cell(c)))


def test_a_plugin_cells_same_named_parameter_keeps_the_classes_default(plugin):
    cfg = TrainConfig(cell=PLUGIN).validate()
    assert cfg.mu == 0.9 and make_cells(cfg, 1, None)[0].mu == 0.0
    cfg = TrainConfig(cell=PLUGIN, cell_args={"mu": "0.3", "width": "5", "scaled": "yes"}).validate()
    cell = make_cells(cfg, 1, None)[0]
    assert (cell.mu, cell.width, cell.scaled, cell.gain) == (0.3, 5, True, 1.0)
    assert cfg.cell_args == {"mu": 0.3, "width": 5, "scaled": True}


GOOD = {bool: st.sampled_from(["true", "no", "1", True]), int: st.integers(0, 9).map(str),
        float: st.floats(0, 5, allow_nan=False).map(repr), str: st.sampled_from(["a", "uniform", "reference"])}
BAD = {bool: ["maybe", "2", 1.5], int: ["2.5", "８", "x", "1_0"], float: ["x", "nan", "inf", "٣"], str: [3]}


@st.composite
def cell_arguments(draw):
    """(cell, {name: value}): a registered cell and arguments, valid or not, named as its parameters, as
    settings, or nothing it has."""
    cell = draw(st.sampled_from(sorted(CELLS)))
    cls = CELLS[cell]
    params = cell_hyperparameters(cls)
    names = st.sampled_from(sorted(params) + ["nope", "mu", "hidden", "seq_len"])
    args = {}
    for name in draw(st.lists(names, max_size=3, unique=True)):
        kind = kind_of(params[name]) if name in params else float
        args[name] = draw(st.one_of(GOOD[kind], st.sampled_from(BAD[kind])) if kind else st.just("1"))
    return cell, args


def expected(cell: str, args: dict):
    """An independent statement of the rule: the arguments typed, or the name of the one refused."""
    cls = CELLS[cell]
    params = cell_hyperparameters(cls)
    from_setting = {CELL_PARAMETER.get(k, k) for k in cell_settings(cls)}
    out = {}
    for name, value in args.items():
        if name not in params or name == "seq_len" or name in from_setting:
            return name
        kind = kind_of(params[name])
        if kind is bool:
            ok = isinstance(value, bool) or (isinstance(value, str) and value.lower() in
                                            ("true", "false", "yes", "no", "on", "off", "1", "0"))
            typed = value if isinstance(value, bool) else value.lower() in ("true", "yes", "on", "1") if ok else None
        elif kind is int:
            ok = isinstance(value, str) and value.isascii() and value.isdigit()
            typed = int(value) if ok else None
        elif kind is float:
            ok = isinstance(value, str) and value.isascii() and value not in ("nan", "inf") and \
                value.replace(".", "", 1).replace("e-", "", 1).replace("e+", "", 1).isdigit()
            typed = float(value) if ok else None
        else:
            ok, typed = isinstance(value, str), value
        if not ok:
            return name
        out[name] = typed
    return out


@given(cell_arguments())
def test_drawn_cell_arguments_are_typed_by_the_constructor_or_refused_in_one_line(drawn):
    cell, args = drawn
    saved = dict(CELLS)
    CELLS[PLUGIN] = PluginRNN
    try:
        want = expected(cell, args)
        cfg = TrainConfig(cell=cell, cell_args=args)
        try:
            got = cfg.validate().cell_args
        except ConfigError as exc:
            message = str(exc)
            event("refused")
            assert "\n" not in message and repr(cell) in message, message
            if isinstance(want, str):
                assert f"--cell-arg {want}" in message, message
                if "takes no such argument" in message:
                    assert all(p in message for p in settable(CELLS[cell])), message
            else:       # typed right, then refused by the cell's own check (a name not among its choices)
                assert "refuses its arguments" in message, message
            return
        event("accepted")
        assert got == want
        built = make_cells(cfg, 1, None)[0]
        for name, value in got.items():
            if hasattr(built, name):
                assert getattr(built, name) == value
    finally:
        CELLS.clear()
        CELLS.update(saved)


def test_cell_args_on_the_command_line_and_in_a_toml_table(plugin, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "cellplugin.py").write_text(PLUGIN_MODULE)
    tiny = ["--task", "adding", "--seq-len", "4", "--train-size", "8", "--val-size", "4", "--test-size", "4",
            "--hidden", "2", "--batch-size", "4", "--steps", "1", "--no-progress", "--plugins", "cellplugin",
            "--cell", PLUGIN]
    assert main(["train", *tiny, "--cell-arg", "gain=0.5", "--cell-arg", "width=3", "--out", "a"]) == 0
    assert json.loads((tmp_path / "a" / "config.json").read_text())["cell_args"] == {"gain": 0.5, "width": 3}
    capsys.readouterr()
    for bad, line in ((["--mu", "0.3"], "mu does not apply to cell 'test-plugin-rnn' (a plugin cell takes its own "
                                         "arguments from --cell-arg NAME=VALUE: mu, gain, width, scaled, label"),
                      (["--cell-arg", "gate=1"], "--cell-arg gate: cell 'test-plugin-rnn' takes no such argument; "
                                                 "its arguments: mu, gain, width, scaled, label"),
                      (["--cell-arg", "width=2.5"], "--cell-arg width (cell 'test-plugin-rnn') must be an integer"),
                      (["--cell-arg", "gain=-1"], "PluginRNN: gain must be >= 0"),
                      (["--cell-arg", "gain"], "cell_args must be NAME=VALUE, got 'gain'")):
        assert main(["train", *tiny, *bad, "--out", "b"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and line in err, err
    assert not (tmp_path / "b").exists()
    (tmp_path / "f.toml").write_text('task = "adding"\nseq_len = 4\ntrain_size = 8\nval_size = 4\ntest_size = 4\n'
                                     'hidden = 2\nbatch_size = 4\nsteps = 1\nprogress = false\n'
                                     f'plugins = "cellplugin"\nout = "c"\n[cell]\nname = "{PLUGIN}"\nlabel = "b"\n')
    assert main(["train", "--config", "f.toml"]) == 0
    ran = json.loads((tmp_path / "c" / "config.json").read_text())
    assert (ran["cell"], ran["cell_args"]) == (PLUGIN, {"label": "b"})


def test_an_own_cells_argument_without_a_setting_is_a_cell_arg(tmp_path):
    cfg = TrainConfig(cell="lstm", cell_args={"weight_init": "uniform"}).validate()
    assert make_cells(cfg, 1, None)[0].core is not None
    with pytest.raises(ConfigError, match=r"--cell-arg mu: cell 'momentum-lstm' takes no such argument \(mu is the "
                                          r"setting --mu, mu in a TOML file\)"):
        TrainConfig(cell="momentum-lstm", cell_args={"mu": "0.3"}).validate()
    with pytest.raises(ConfigError, match="refuses its arguments"):
        TrainConfig(cell="lstm", cell_args={"weight_init": "nope"}).validate()
    assert "weight_init" in inspect.signature(CELLS["lstm"].__init__).parameters
