"""Problems are values: every user mistake becomes a `Problem` with a file and a line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One finding, reported as ``path:line: field: message``."""

    path: str  # relative to the pipeline directory, with forward slashes
    line: int  # 1-based line in the file
    field: str  # the front-matter or config key, e.g. ``stage`` or ``stages[2].probability``
    message: str
    severity: Severity = "error"
    rule: str = "invalid"  # machine-readable kind, used by CI report formats

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.path}:{self.line}: {prefix}{self.field}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def sort_problems(problems: list[Problem] | tuple[Problem, ...]) -> list[Problem]:
    """Sort by file and line, so a run reads top to bottom like the files do."""
    return sorted(problems, key=lambda p: (p.path, p.line, p.field, p.message))


class ConfigError(Exception):
    """The pipeline's config (or its location) is unusable: exit code 2."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class UsageError(Exception):
    """The command line asked for something impossible: exit code 2."""


class WorkerDied(Exception):
    """A process of the build ended before its work was done (the out-of-memory killer, ``kill -9``, a crash in a C
    extension): exit code 2, as for an output that cannot be written."""
