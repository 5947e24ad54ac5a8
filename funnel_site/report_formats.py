"""Problems in the formats CI systems read. Pure: problems in, text out."""

from __future__ import annotations

import json
from typing import Callable, Sequence

from funnel_site.problems import Problem


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(problems: Sequence[Problem]) -> str:
    """GitHub Actions workflow commands: ``::error file=…,line=…,title=…::message``."""
    lines = []
    for p in problems:
        properties = f"file={_escape_property(p.path)},line={p.line},title={_escape_property('funnel-site ' + p.field)}"
        lines.append(f"::{p.severity} {properties}::{_escape_data(f'{p.field}: {p.message}')}\n")
    return "".join(lines)


def as_json(problems: Sequence[Problem]) -> str:
    rows = [
        {"file": p.path, "line": p.line, "field": p.field, "severity": p.severity, "rule": p.rule, "message": p.message}
        for p in problems
    ]
    return json.dumps({"problems": rows, "errors": sum(p.is_error for p in problems)}, ensure_ascii=False, indent=2) + "\n"


FORMATS: dict[str, Callable[[Sequence[Problem]], str]] = {"github": github, "json": as_json}
