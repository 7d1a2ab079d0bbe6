"""The papers' experiments as data: ``experiments/<group>.toml``, resolved into a :class:`TrainConfig` and run.

    rnnlab experiments list [GROUP] [--markdown]
    rnnlab experiments show NAME --tier small
    rnnlab experiments run NAME|GROUP --tier small|medium|full [--data-dir D] [--out DIR] [--resume]
    rnnlab experiments run NAME --tier small --seeds 0,1,2     # NAME, NAME_seed1, NAME_seed2; mean ± spread

One file per paper or group (its name, without ``.toml``, is the group). Its tables:

* ``[defaults]``: settings and provenance shared by every experiment of the file;
* ``[sets.S]``: shared by the experiments that say ``set = "S"`` (one table or figure; group ``FILE/S``); a
  set may name a set of its own;
* ``[NAME]``: one experiment (a row of a table, a curve of a figure): the paper's settings and their source.

``seeds = [1, 2]`` in an experiment's table (or its set's, or the defaults) adds the experiments
``NAME_seed1``, ``NAME_seed2``: NAME with ``seed`` set to each (their own run directories, so ``--resume``
continues each), for the seed-to-seed spread a verdict needs.

Each may hold tier tables ``[X.small]``, ``[X.medium]``, ``[X.full]``. Experiment E at tier T is TrainConfig's
defaults, then defaults, E's sets (outermost first) and E, then the T table of each in the same order (later
wins). Keys in :data:`PROVENANCE` are metadata; every other key is a TrainConfig key (an unknown one is an
error naming the file and table). ``out`` is not in the files: a run goes to ``<--out>/<tier>/<name>``.
"""
from __future__ import annotations

import dataclasses
import difflib
import json
from dataclasses import dataclass
from pathlib import Path

from . import checkpoints
from .config import FIELDS, ConfigError, TrainConfig, from_mapping, read_toml
from .experiment_tables import README_BEGIN, README_END, listing, markdown, paper_number, readme_with_table, to_toml
from .session import applying, check_applicable

TIERS = ("small", "medium", "full")
PROVENANCE = ("tiers", "set", "paper", "source", "row", "paper_metric", "paper_value", "paper_text",
              "guessed", "from_code", "why", "notes", "seeds")
"""tiers (default: full alone); set; paper, source (table or figure) and row; the paper's number: paper_metric
(a summary key such as ``test_accuracy``), paper_value (as the summary gives it: accuracy as a fraction),
paper_text; guessed: keys neither the paper nor its released code gives; from_code: keys from the authors'
released code where the paper is silent; why: {key: where its value comes from}; notes; seeds: the extra
seeds to run it with (``NAME_seedN``, see the module's docstring). guessed, from_code and notes add up over an
experiment's tables, why merges, the others take the last table's value."""
ADDED = ("guessed", "from_code", "notes")
RUNNER_KEYS = ("out", "data_dir")
DEFAULT_OUT = "runs/experiments"


def default_dir(package=None) -> Path:
    """The experiment files: installed (``pip install .``), the package data ``rnnlab/experiments``; in a
    source checkout or an editable install, the repository's ``experiments/``, two folders up from the
    package (``src/rnnlab``). ``package``: the folder of the ``rnnlab`` package (default: the imported one's)."""
    if package is None:
        import rnnlab
        package = Path(rnnlab.__file__).resolve().parent
    installed = Path(package) / "experiments"
    return installed if installed.is_dir() else Path(package).parents[1] / "experiments"


@dataclass(frozen=True)
class Experiment:
    name: str
    group: str                  # the file's name without .toml
    path: Path
    layers: tuple               # ((label, table), ...): defaults, the set, the experiment
    seed_of: str = ""           # a seed variant: the experiment it repeats with another seed

    def tables(self, tier: str | None):
        """(label, table) of each layer's base (tier None) or its ``tier`` table, in order."""
        for label, table in self.layers:
            if tier is None:
                yield label, {k: v for k, v in table.items() if k not in TIERS}
            elif tier in table:
                yield f"{label}.{tier}", table[tier]

    def meta(self, tier: str | None = None) -> dict:
        """The provenance, merged over the layers (and ``tier``'s tables)."""
        out = {k: [] for k in ADDED}
        for _, table in [*self.tables(None), *(self.tables(tier) if tier else ())]:
            for key, value in table.items():
                if key in ADDED:
                    out[key] += [value] if isinstance(value, str) else [v for v in value if v not in out[key]]
                elif key == "why":
                    out["why"] = {**out.get("why", {}), **value}
                elif key in PROVENANCE:
                    out[key] = value
        return out

    @property
    def sets(self) -> tuple:
        """The sets it belongs to, the outermost first."""
        return tuple(label[len("sets."):] for label, _ in self.layers if label.startswith("sets."))

    @property
    def label(self) -> str:
        return f"{self.group}/{self.sets[-1]}" if self.sets else self.group

    @property
    def tiers(self) -> tuple:
        return tuple(self.meta().get("tiers", ("full",)))

    def no_tier(self, tier: str) -> ConfigError:
        return ConfigError(f"experiments: {self.name} has no tier {tier!r}; it has {', '.join(self.tiers)}")

    def config(self, tier: str, out: str = DEFAULT_OUT, data_dir: str = "", overrides=None) -> TrainConfig:
        """The TrainConfig of ``tier`` (not validated), its ``out`` ``<out>/<tier>/<name>`` unless ``overrides``
        (key -> value, ``--set``, applied last) name one (``--set out=DIR``: a second seed beside the first)."""
        if tier not in self.tiers:
            raise self.no_tier(tier)
        cfg = TrainConfig()
        for label, table in [*self.tables(None), *self.tables(tier)]:
            settings = {k: v for k, v in table.items() if k not in PROVENANCE}
            cfg = from_mapping(settings, f"{self.path} [{label}]", cfg)
        cfg = from_mapping(overrides or {}, "--set", cfg)
        if "out" not in (overrides or {}):
            cfg = dataclasses.replace(cfg, out=str(Path(out or DEFAULT_OUT) / tier / self.name))
        return dataclasses.replace(cfg, data_dir=data_dir) if data_dir else cfg


def load(root=None) -> dict[str, Experiment]:
    """Every experiment of every ``*.toml`` in ``root`` (default: the repository's ``experiments/``)."""
    root = Path(root) if root else default_dir()
    if not root.is_dir():
        raise ConfigError(f"experiments: folder {root} does not exist (give --experiments-dir)")
    found: dict[str, Experiment] = {}
    for path in sorted(root.glob("*.toml")):
        for exp in read_file(path):
            if exp.name in found:
                raise ConfigError(f"{path} [{exp.name}]: experiment {exp.name!r} is also defined in "
                                  f"{found[exp.name].path}")
            found[exp.name] = exp
    if not found:
        raise ConfigError(f"experiments: no experiments (*.toml files) in {root}")
    return found


def read_file(path: Path) -> list[Experiment]:
    """The experiments of one file, its tables checked."""
    try:
        data = read_toml(path)
    except ConfigError as exc:
        raise ConfigError(f"experiments: {str(exc).removeprefix('--config: ')}") from exc
    for key, value in data.items():
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: key {key!r} is outside a table; shared settings go under [defaults]")
    defaults, sets = data.pop("defaults", {}), data.pop("sets", {})
    check_table(path, "defaults", defaults, "defaults")
    for name, table in sets.items():
        check_table(path, f"sets.{name}", table, "set")
    out = []
    for name, table in data.items():
        check_table(path, name, table)
        exp = Experiment(name, path.stem, path, (("defaults", defaults), *set_chain(path, sets, name, table),
                                                 (name, table)))
        for tier in TIERS:
            if tier in table and tier not in exp.tiers:
                raise ConfigError(f"{path} [{name}.{tier}]: {name} has no tier {tier!r} (its tiers: "
                                  f"{', '.join(exp.tiers)})")
        out += [exp, *seed_variants(exp)]
    return out


def seed_variants(exp: Experiment) -> list[Experiment]:
    """``NAME_seedN`` for each N of the experiment's ``seeds``: the experiment with ``seed = N`` on top."""
    return [with_seed(exp, seed) for seed in exp.meta().get("seeds", ())]


def with_seed(exp: Experiment, seed: int) -> Experiment:
    """Experiment ``exp`` with ``seed`` on top, named ``NAME_seedN`` (seed 0: the experiment itself)."""
    if seed == 0:
        return exp
    return Experiment(f"{exp.name}_seed{seed}", exp.group, exp.path, (*exp.layers, (f"seed {seed}", {"seed": seed})),
                      seed_of=exp.name)


def parse_seeds(text: str) -> tuple:
    """``"0,1,2"`` -> (0, 1, 2): distinct integers >= 0, or a ConfigError naming --seeds."""
    try:
        seeds = tuple(int(s) for s in text.split(","))
    except ValueError:
        seeds = ()
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) < len(seeds):
        raise ConfigError(f"--seeds: expected distinct seeds >= 0 separated by commas (0,1,2), got {text!r}")
    return seeds


def seed_spread(summaries: list[dict]) -> dict:
    """Over one experiment's runs with different seeds: each numeric val_/test_/best_ summary key ->
    (mean, sample standard deviation (0 for one run), number of runs), for the key the runs all have."""
    keys = [k for k, v in summaries[0].items() if k.startswith(("val_", "test_", "best_test_"))
            and isinstance(v, (int, float)) and not isinstance(v, bool)]
    out = {}
    for key in keys:
        values = [s[key] for s in summaries if isinstance(s.get(key), (int, float))]
        if len(values) == len(summaries):
            mean = sum(values) / len(values)
            var = sum((v - mean) ** 2 for v in values) / (len(values) - 1) if len(values) > 1 else 0.0
            out[key] = (mean, var ** 0.5, len(values))
    return out


def spread_line(name: str, tier: str, seeds, summaries: list[dict]) -> str:
    shown = [f"{k} {m:.4g} ± {s:.2g}" for k, (m, s, _) in seed_spread(summaries).items()]
    return f"{name} [{tier}] over seeds {','.join(map(str, seeds))} (mean ± sample std): {', '.join(shown)}"


def set_chain(path, sets: dict, name: str, table: dict) -> list:
    """[(label, table)] of the sets ``table`` names, the outermost first (a set may name a set)."""
    chain, label = [], name
    while "set" in table:
        parent = table["set"]
        if parent not in sets:
            raise ConfigError(f"{path} [{label}]: unknown set {parent!r}; the file's sets: {', '.join(sets) or 'none'}")
        if any(lbl == f"sets.{parent}" for lbl, _ in chain):
            raise ConfigError(f"{path} [{label}]: set {parent!r} names itself through its sets")
        label, table = f"sets.{parent}", sets[parent]
        chain.insert(0, (label, table))
    return chain


def check_table(path, label: str, table, kind: str = "experiment") -> None:
    """One line naming the file, table and key for what an experiment file's table may not hold (``kind``:
    defaults, set, experiment or tier)."""
    where = f"{path} [{label}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    for key, value in table.items():
        if key in TIERS and kind != "tier":
            check_table(path, f"{label}.{key}", value, "tier")
        elif key in ("tiers", "guessed", "from_code"):
            allowed, what = (TIERS, "tiers") if key == "tiers" else (FIELDS, "settings (TrainConfig keys)")
            if not isinstance(value, list) or any(v not in allowed for v in value) or (key, kind) == ("tiers", "tier"):
                raise ConfigError(f"{where}: {key} must be a list of {what}" + " in a base table" * (kind == "tier")
                                  + f", got {value!r}")
        elif key == "seeds" and (kind == "tier" or not isinstance(value, list) or len(set(value)) < len(value)
                                 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value)):
            raise ConfigError(f"{where}: seeds must be a list of distinct seeds >= 1 (seed 0 is the experiment "
                              f"itself) in a base table, got {value!r}")
        elif key == "why" and (not isinstance(value, dict) or any(k not in FIELDS or not isinstance(v, str)
                                                                  for k, v in value.items())):
            raise ConfigError(f"{where}: why must map settings to strings (why.lr = \"...\"), got {value!r}")
        elif key == "paper_value" and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ConfigError(f"{where}: paper_value must be a number, got {value!r}")
        elif key == "set" and kind not in ("set", "experiment"):
            raise ConfigError(f"{where}: set belongs in an experiment's or a set's own table")
        elif key in PROVENANCE and key not in ("why", "paper_value", "seeds") and not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be a string, got {value!r}")
        elif key in RUNNER_KEYS:
            raise ConfigError(f"{where}: {key} is set by the runner (--{key.replace('_', '-')}), not in the file")
        elif isinstance(value, dict) and key != "why":
            raise ConfigError(f"{where}: unknown table {key!r}; tiers are {', '.join(TIERS)}")


def select(experiments: dict, what: str) -> list[Experiment]:
    """The experiment named ``what``, or every experiment of group ``what`` (a file, or ``FILE/SET``)."""
    if what in experiments:
        return [experiments[what]]
    hits = [e for e in experiments.values() if what == e.group or what in (f"{e.group}/{s}" for s in e.sets)]
    if hits:
        return hits
    groups = {g: None for e in experiments.values() for g in (e.group, *(f"{e.group}/{s}" for s in e.sets))}
    close = difflib.get_close_matches(what, [*experiments, *groups], n=1)
    files = [g for g in groups if "/" not in g]
    raise ConfigError(f"experiments: unknown experiment or group {what!r}"
                      + (f" (did you mean {close[0]!r}?)" if close else "")
                      + f"; groups: {', '.join(files)} (or FILE/SET, see rnnlab experiments list); experiments: "
                      + ", ".join(experiments))


def run(selected: list[Experiment], tier: str, out: str = DEFAULT_OUT, data_dir: str = "",
        resume: bool = False, progress: bool = True, echo=print, overrides=None) -> list[dict]:
    """Train each experiment of ``selected`` that has ``tier``, one after another; one line per finished run.
    With ``resume``, a run directory holding a checkpoint is continued and a finished run is reported again."""
    from .session import resume as resume_run, train
    todo = [e for e in selected if tier in e.tiers]
    if not todo:
        raise selected[0].no_tier(tier) if len(selected) == 1 else \
            ConfigError(f"experiments: no selected experiment has tier {tier!r}")
    if len(todo) < len(selected):
        echo(f"skipped (no {tier} tier): {', '.join(e.name for e in selected if e not in todo)}")
    summaries = []
    for exp in todo:
        cfg = exp.config(tier, out, data_dir, overrides)
        check_applicable(cfg, set(overrides or {}), "--set")   # the checks of rnnlab train's flags
        cfg = dataclasses.replace(cfg, progress=progress)
        run_dir = Path(cfg.out)
        if resume and (run_dir / "summary.json").exists():
            summary = json.loads((run_dir / "summary.json").read_text())
        elif resume and (run_dir / checkpoints.CHECKPOINT).exists():
            summary = resume_run(run_dir, progress=progress)
        else:
            summary = train(cfg.validate())
        echo(result_line(exp, tier, summary))
        summaries.append(summary)
    return summaries


def result_line(exp: Experiment, tier: str, summary: dict) -> str:
    shown = [f"{k} {v:.4g}" for k, v in summary.items()
             if k.startswith(("val_", "test_", "best_test_")) and isinstance(v, (int, float))]
    paper = paper_number(exp.meta())
    return (f"{exp.name} [{tier}]: {', '.join(shown)}; wall {summary.get('wall_time', 0):.0f} s; "
            f"{summary['config']['out']}" + (f" (paper: {paper})" if paper else ""))


def parse_overrides(pairs) -> dict:
    """``["backend=cupy", "batch_size=256"]`` -> {"backend": "cupy", "batch_size": "256"} (checked later)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set: expected KEY=VALUE, got {pair!r}")
        out[key.strip()] = value.strip()
    return out


def show(experiments: dict, name: str, tier: str, out: str = DEFAULT_OUT, overrides=()) -> str:
    """``rnnlab experiments show``: experiment ``name``'s configuration at ``tier`` as TOML, only the settings
    that take effect (``rnnlab train --config`` reads it back); ``overrides`` (``["KEY=VALUE", ...]``, or a
    mapping) pass train's checks first."""
    exp = select(experiments, name)
    if len(exp) != 1:
        raise ConfigError(f"experiments show: {name!r} is a group; name one experiment")
    overrides = dict(overrides) if isinstance(overrides, dict) else parse_overrides(overrides)
    cfg = exp[0].config(tier, out, overrides=overrides)
    checked = check_applicable(cfg, set(overrides), "--set")     # the checks of rnnlab train's flags
    return to_toml(exp[0], tier, cfg, keys=applying(checked))


def run_seeds(selected: list[Experiment], seeds, tier: str, out: str = DEFAULT_OUT, data_dir: str = "",
              resume: bool = False, progress: bool = True, echo=print, overrides=None) -> None:
    """Run each experiment of ``selected`` once per seed (:func:`with_seed`), then echo its mean ± spread."""
    for exp in selected:
        if exp.seed_of:
            continue                          # a declared NAME_seedN: --seeds names its seeds itself
        summaries = run([with_seed(exp, s) for s in seeds], tier, out, data_dir, resume, progress, echo=echo,
                        overrides=overrides)
        echo(spread_line(exp.name, tier, seeds, summaries))


__all__ = ["TIERS", "PROVENANCE", "Experiment", "load", "select", "run", "with_seed", "parse_seeds", "seed_spread",
           "spread_line", "default_dir", "markdown", "listing", "to_toml",
           "paper_number", "readme_with_table", "README_BEGIN", "README_END",
           "show", "run_seeds", "parse_overrides", "DEFAULT_OUT"]

if __name__ == "__main__":
    import sys

    from ..cli import main as cli_main
    sys.exit(cli_main(["experiments", *sys.argv[1:]]))
