"""Progress of a long build or check on a terminal; nothing at all in CI logs or pipes."""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

DELAY = 2.0  # seconds of silence first: most builds finish before anything is shown
INTERVAL = 0.1  # at most ten updates a second


class Progress:
    """``update("parsed", 500, 10000)`` shows ``parsed 500 of 10000 lead files`` on one rewritten line."""

    def __init__(self, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = clock()
        self.last = 0.0
        self.shown = False

    def update(self, what: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if now - self.started < DELAY or (now - self.last < INTERVAL and done < total):
            return
        self.last, self.shown = now, True
        self.stream.write(f"\r\033[K{what} {done} of {total}")
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()

    def finish(self) -> None:
        """Clear the progress line, so the summary that follows starts on a clean line."""
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False


SILENT = Progress(stream=None)
SILENT.enabled = False
