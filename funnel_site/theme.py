"""Where the built-in theme lives; a module of its own so that a build with nothing changed can
fingerprint the theme without importing the renderer (Jinja2, Babel)."""

from __future__ import annotations

from pathlib import Path


def builtin_templates() -> Path:
    """The built-in theme: inside the installed package, or the repository's top-level templates/."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "base.html").is_file():
            return candidate
    raise RuntimeError(f"built-in templates not found next to {here}")


def in_theme(filename: str | None, theme: Path) -> bool:
    """Whether a template's file lies in the theme folder ``theme`` (links followed on both sides)."""
    return filename is not None and Path(filename).resolve().is_relative_to(theme.resolve())
