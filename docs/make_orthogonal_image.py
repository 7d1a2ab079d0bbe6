"""Make docs/img/10-orthogonal.png: singular values of dh_T/dh_t against T - t for RNN, LSTM and OrthogonalRNN.

    python docs/make_orthogonal_image.py

It runs the first code block of docs/10-orthogonal.md (which defines ``jacobian_singular_values``, so the
measurement is written once) and then measures at the picture's sizes: H = 64, 300 steps, float64. NumPy and
matplotlib are used for host data and plotting only. Takes about a minute.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np  # host data and plotting

from rnnlab import cells

DOCS = Path(__file__).resolve().parent
PAGE = DOCS / "10-orthogonal.md"
OUT = DOCS / "img" / "10-orthogonal.png"


def chapter_namespace() -> dict:
    """The namespace after the page's first ```python block (imports and jacobian_singular_values)."""
    block = re.findall(r"^```python\n(.*?)^```", PAGE.read_text(), re.DOTALL | re.MULTILINE)[0]
    namespace = {"__name__": "docs_10_orthogonal"}
    exec(compile(block, f"{PAGE.name} block 1", "exec"), namespace)  # noqa: S102  (the page's own code)
    return namespace


def main(T: int = 300, H: int = 64) -> None:
    ns = chapter_namespace()
    measure = ns["jacobian_singular_values"]
    x = np.random.default_rng(0).standard_normal((T, 1, 2))
    runs = {"RNN (tanh)": (cells.RNN(2, H, rng=0), "tab:red"),
            "LSTM (forget bias 2)": (cells.LSTM(2, H, rng=0), "tab:orange"),
            "OrthogonalRNN": (cells.OrthogonalRNN(2, H, rng=0), "tab:blue")}
    linear = cells.OrthogonalRNN(2, H, rng=0)
    linear.modrelu_bias.data = linear.modrelu_bias.data * 0.0       # b = 0: every singular value stays 1
    runs["OrthogonalRNN, b = 0"] = (linear, "tab:green")
    fig, ax = plt.subplots(figsize=(6.4, 3.9))
    steps = np.arange(1, T + 1)
    for label, (cell, color) in runs.items():
        sv = np.maximum(measure(cell, x), 1e-300)          # log axis: exact zeros drawn at the floor
        ax.fill_between(steps, sv[:, -1], sv[:, 0], color=color, alpha=0.2, lw=0)
        ax.plot(steps, np.median(sv, axis=1), color=color, ls="--" if "b = 0" in label else "-",
                label=f"{label}: median, band = min..max")
        print(f"{label:<22} after {T} steps: largest {sv[-1, 0]:.2e}, smallest {sv[-1, -1]:.2e}")
    ax.set_yscale("log")
    ax.set_ylim(1e-40, 10)
    ax.set_xlabel("T - t (steps back through time)")
    ax.set_ylabel("singular values of dh_T / dh_t")
    ax.set_title(f"Jacobian through time at initialization (H = {H}, float64)")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    OUT.parent.mkdir(exist_ok=True)
    fig.savefig(OUT, dpi=90)
    plt.close(fig)
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
