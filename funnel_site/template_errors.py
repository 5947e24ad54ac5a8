"""A broken template (usually a pipeline's own override) as a Problem with its file and line."""

from __future__ import annotations

import traceback
from pathlib import Path

import jinja2

from funnel_site.problems import Problem


def template_problem(error: jinja2.TemplateError, project_root: Path, builtin: Path) -> Problem:
    """Locate a Jinja error: the syntax error's own position, or the deepest template frame of the traceback."""
    filename, line = _location(error)
    message = error.message or type(error).__name__
    if isinstance(error, jinja2.TemplateNotFound):
        message = f"template '{error.name}' not found"
    return Problem(_display(filename, project_root, builtin), line, "template", message, rule="template")


def _location(error: jinja2.TemplateError) -> tuple[str | None, int]:
    if isinstance(error, jinja2.TemplateSyntaxError):
        return error.filename, error.lineno or 1
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.endswith((".html", ".xml", ".txt", ".j2"))]
    if frames:
        return frames[-1].filename, frames[-1].lineno or 1
    return None, 1


def _display(filename: str | None, project_root: Path, builtin: Path) -> str:
    if filename is None:
        return "templates"
    path = Path(filename).resolve()
    if path.is_relative_to(project_root.resolve()):
        return path.relative_to(project_root.resolve()).as_posix()
    if path.is_relative_to(builtin.resolve()):
        return f"builtin/{path.relative_to(builtin.resolve()).as_posix()}"
    return path.as_posix()
