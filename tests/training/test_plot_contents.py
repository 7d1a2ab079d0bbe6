"""What ``rnnlab plot`` draws, read back from its figures: hypothesis draws one to three run directories (their
rows, splits, metric, baseline) and the x axis, and every line, label, colour, scale and file name is checked
against the rule written out plainly here."""
import json

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

matplotlib = pytest.importorskip("matplotlib", reason="matplotlib is not installed (pip install 'rnnlab[plot]')")
import matplotlib.pyplot as plt  # noqa: E402

from rnnlab.training.plots import plot_runs  # noqa: E402

SPLITS = ("train", "val", "test")


def run_rows(draw, metric):
    rows, grad_evals = [], 0
    for step in range(1, draw(st.integers(1, 5)) + 1):
        grad_evals += draw(st.integers(1, 3))
        for split in draw(st.lists(st.sampled_from(SPLITS), min_size=1, max_size=3, unique=True)):
            row = {"step": step, "epoch": 0, "split": split, "loss": draw(st.floats(0.1, 5.0)),
                   "grad_evals": grad_evals, "wall_time": 0.0}
            if metric:
                row[metric] = draw(st.floats(0.1, 0.9)) if metric == "accuracy" else draw(st.floats(1.5, 50.0))
            rows.append(row)
    return rows


@st.composite
def run_sets(draw):
    metric = draw(st.sampled_from([None, "accuracy", "perplexity"]))
    runs = []
    for n in range(draw(st.integers(1, 3))):
        baseline = draw(st.sampled_from([None, "none in summary", 0.5, 1.25]))
        runs.append((f"run{n}" + "x" * draw(st.integers(0, 40)), run_rows(draw, metric), baseline))
    return metric, runs, draw(st.sampled_from(["step", "grad_evals"]))


def write_runs(root, runs):
    dirs = []
    for name, rows, baseline in runs:
        d = root / name
        d.mkdir()
        (d / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        if baseline is not None:
            (d / "summary.json").write_text(json.dumps({} if baseline == "none in summary" else
                                                       {"baseline_loss": baseline}))
        dirs.append(d)
    return dirs


def title_names(dirs) -> str:
    """The runs a title names: their names, joined, up to 70 characters; else how many runs."""
    names = ", ".join(d.name for d in dirs)
    return names if len(names) <= 70 else f"{len(dirs)} runs"


def expected_lines(runs, key, x):
    """(label, colour, xs, ys) of every line, in drawing order, as the plot's rule says."""
    lines = []
    for n, (name, rows, _) in enumerate(runs):
        prefix = name if len(runs) > 1 else ""
        for split in SPLITS:
            pts = [(r[x], r[key]) for r in rows if r["split"] == split and r.get(key) is not None]
            if pts:
                lines.append((f"{prefix} {split}".strip(), f"C{n}", [p[0] for p in pts], [p[1] for p in pts]))
    return lines


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=run_sets())
def test_every_line_label_colour_scale_and_file_follows_the_rule(tmp_path_factory, monkeypatch, drawn):
    metric, runs, x = drawn
    root = tmp_path_factory.mktemp("plots")
    dirs = write_runs(root, runs)
    figures, close = [], plt.close
    try:
        with monkeypatch.context() as patch:
            patch.setattr(plt, "close", figures.append)       # keep each figure to read it back
            written = plot_runs(dirs, out_dir=root / "pngs", x=x)
        suffix = "" if x == "step" else "_by_grad_evals"
        keys = ["loss"] + ([metric] if metric else [])
        assert [p.name for p in written] == [f"{k}{suffix}.png" for k in keys]
        assert all(p.stat().st_size > 0 for p in written)
        baselines = {b for _, _, b in runs if isinstance(b, float)}
        for key, fig in zip(keys, figures):
            ax = fig.axes[0]
            drawn_lines = [(line.get_label(), line.get_color(), list(line.get_xdata()), list(line.get_ydata()))
                           for line in ax.get_lines() if line.get_linestyle() != "--"]
            assert drawn_lines == expected_lines(runs, key, x)
            dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
            if key == "loss" and len(baselines) == 1:       # one baseline for all the runs that have one
                assert [(d.get_label(), list(d.get_ydata())) for d in dashed] == \
                    [("input-blind baseline", [baselines.pop()] * 2)]
            else:
                assert dashed == []
            assert ax.get_yscale() == ("linear" if key == "accuracy" else "log")
            assert ax.get_xlabel() == {"step": "optimizer step", "grad_evals": "gradient evaluations"}[x]
            assert ax.get_ylabel() == key
            assert ax.get_title() == f"{key} ({title_names(dirs)})"
            legend = [t.get_text() for t in ax.get_legend().get_texts()]
            assert legend == [line.get_label() for line in ax.get_lines()]
    finally:
        for fig in figures:
            close(fig)


@pytest.mark.parametrize("first, shown", [(33, True), (34, True), (35, False)])
def test_a_title_names_its_runs_up_to_70_characters_and_counts_them_beyond(tmp_path, monkeypatch, first, shown):
    runs = [("a" * first, [{"step": 1, "epoch": 0, "split": "train", "loss": 1.0, "grad_evals": 1}], None),
            ("b" * 34, [{"step": 1, "epoch": 0, "split": "train", "loss": 2.0, "grad_evals": 1}], None)]
    dirs = write_runs(tmp_path, runs)
    figures, close = [], plt.close
    try:
        with monkeypatch.context() as patch:
            patch.setattr(plt, "close", figures.append)
            plot_runs(dirs, out_dir=tmp_path / "pngs")
        names = f"{'a' * first}, {'b' * 34}"            # 69, 70 or 71 characters
        assert figures[0].axes[0].get_title() == (f"loss ({names})" if shown else "loss (2 runs)")
    finally:
        for fig in figures:
            close(fig)


@st.composite
def norm_runs(draw):
    """One to three runs' grad_norms.npz: 1-4 logged steps, 1-2 layers, T of 1-6."""
    runs = []
    for n in range(draw(st.integers(1, 3))):
        logged, layers, T = draw(st.integers(1, 4)), draw(st.integers(1, 2)), draw(st.integers(1, 6))
        steps = sorted(draw(st.sets(st.integers(1, 10_000), min_size=logged, max_size=logged)))
        curves = {f"layer{i}": [[draw(st.sampled_from([0.0, 1e-3, 0.5, 7.0])) for _ in range(T)]
                                for _ in steps] for i in range(layers)}
        runs.append((f"run{n}", steps, curves))
    return runs


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(runs=norm_runs())
def test_the_gradient_flow_plot_draws_each_layer_at_its_first_and_last_logged_step(tmp_path_factory, monkeypatch,
                                                                                  runs):
    import numpy as np
    from rnnlab.training import checkpoints
    root = tmp_path_factory.mktemp("norms")
    dirs = []
    for name, steps, curves in runs:
        d = root / name
        d.mkdir()
        (d / "metrics.jsonl").write_text(json.dumps({"step": 1, "epoch": 0, "split": "train", "loss": 1.0}) + "\n")
        checkpoints.save(d / "grad_norms.npz", {"steps": np.array(steps), **{k: np.array(v)
                                                                             for k, v in curves.items()}})
        dirs.append(d)
    figures, close = [], plt.close
    try:
        with monkeypatch.context() as patch:
            patch.setattr(plt, "close", figures.append)
            written = plot_runs(dirs, out_dir=root / "pngs")
        assert written[-1].name == "grad_norms.png"
        ax = figures[-1].axes[0]
        expected = []
        for name, steps, curves in runs:
            prefix = f"{name} " if len(runs) > 1 else ""
            shown = [0, len(steps) - 1] if len(steps) > 1 else [0]
            for layer in sorted(curves):
                for r in shown:
                    alpha = 0.5 if r == 0 and len(shown) > 1 else 1
                    expected.append((f"{prefix}{layer}, step {steps[r]}", alpha,
                                     [max(v, 1e-300) for v in curves[layer][r]]))
        assert [(line.get_label(), line.get_alpha(), list(line.get_ydata())) for line in ax.get_lines()] == expected
        assert ax.get_yscale() == "log" and ax.get_xlabel() == "time step t"
    finally:
        for fig in figures:
            close(fig)
