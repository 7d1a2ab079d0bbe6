"""A one-line progress bar for long work: ``[#####.....] 512/1000 loss 0.0312 acc 0.95 12.3 it/s``."""
from __future__ import annotations

import sys
import time


class Progress:
    """Redraws one line on a terminal (``\\r``); elsewhere (logs, CI) prints a line every ``every`` seconds."""

    def __init__(self, total: int, desc: str = "", enabled: bool = True, stream=None, width: int = 24,
                 every: float = 10.0):
        self.total, self.desc, self.enabled, self.width = max(total, 1), desc, enabled, width
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = self.last = time.perf_counter()
        self.every = every if not self.tty else 0.1
        self.n = 0
        self.stats: dict = {}

    def update(self, n: int = 1, **stats) -> None:
        self.n += n
        self.stats.update({k: v for k, v in stats.items() if v is not None})
        now = time.perf_counter()
        if self.enabled and (now - self.last >= self.every or self.n >= self.total):
            self.last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        done = min(self.n / self.total, 1.0)
        filled = int(done * self.width)
        rate = self.n / max(now - self.start, 1e-9)
        stats = " ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in self.stats.items())
        line = (f"{self.desc} [{'#' * filled}{'.' * (self.width - filled)}] {self.n}/{self.total} "
                f"{stats} {rate:.1f} it/s")
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
