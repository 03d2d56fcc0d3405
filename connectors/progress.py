"""A small progress bar on stderr for long imports (no dependency needed)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

WIDTH = 30


class Progress:
    """Redraws one line on a terminal; elsewhere prints a line every tenth of the way."""

    def __init__(
        self,
        total: int,
        *,
        label: str,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = max(total, 1)
        self.done = 0
        self._label = label
        self._stream = stream or sys.stderr
        self._clock = clock
        self._started = clock()
        self._drawn = 0.0
        self._tty = self._stream.isatty()
        self._tenths = 0

    def advance(self, count: int) -> None:
        """Count ``count`` more rows as done."""
        self.done = min(self.total, self.done + count)
        now = self._clock()
        if self._tty and (now - self._drawn >= 0.2 or self.done == self.total):
            self._drawn = now
            self._stream.write("\r" + self._line(now))
            self._stream.flush()
        elif not self._tty and self.done * 10 // self.total > self._tenths:
            self._tenths = self.done * 10 // self.total
            self._stream.write(self._line(now) + "\n")

    def finish(self) -> None:
        """End the bar's line."""
        if self._tty:
            self._stream.write("\r" + self._line(self._clock()) + "\n")
            self._stream.flush()

    def _line(self, now: float) -> str:
        filled = WIDTH * self.done // self.total
        elapsed = max(now - self._started, 1e-9)
        return (
            f"{self._label} [{'#' * filled}{'.' * (WIDTH - filled)}] "
            f"{100 * self.done // self.total:3d}% {self.done:,}/{self.total:,} rows "
            f"{self.done / elapsed:,.0f} rows/s"
        )
