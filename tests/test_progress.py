"""Progress lines: on a terminal after two seconds, never in a pipe or CI log."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from conftest import TODAY, lead, write_project
from funnel_site.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_silent_for_the_first_two_seconds_then_one_rewritten_line() -> None:
    terminal, clock = Terminal(), Clock()
    with Progress(terminal, clock) as progress:
        progress.update("parsed lead files:", 10, 100)
        assert terminal.getvalue() == ""
        clock.now += 2.5
        progress.update("parsed lead files:", 40, 100)
        progress.update("parsed lead files:", 41, 100)  # within 0.1 s: skipped
        clock.now += 0.2
        progress.update("wrote pages:", 100, 100)
    assert terminal.getvalue() == "\r\033[Kparsed lead files: 40 of 100\r\033[Kwrote pages: 100 of 100\r\033[K"


def test_nothing_when_not_a_terminal() -> None:
    pipe, clock = io.StringIO(), Clock()
    with Progress(pipe, clock) as progress:
        clock.now += 60
        progress.update("wrote pages:", 5, 10)
    assert pipe.getvalue() == ""


def test_build_in_a_pipe_prints_no_progress(tmp_path: Path) -> None:
    leads = {f"leads/l{i}.md": lead(title=f"L{i}", owner="anna", stage="offer", value=i, expected_close="2026-12-01", next_step="x")
             for i in range(30)}
    root = write_project(tmp_path / "p", leads)
    result = subprocess.run([sys.executable, "-m", "funnel_site", "build", str(root), "-o", str(tmp_path / "out"), "--today", TODAY],
                            capture_output=True, text=True, check=True)
    assert result.stderr == "" and "\r" not in result.stdout
