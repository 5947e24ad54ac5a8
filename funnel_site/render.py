"""Rendering in memory: project + figures -> {relative path: bytes}. Writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import jinja2

from funnel_site import datajson
from funnel_site.figures import Figures
from funnel_site.formatting import Formatter
from funnel_site.model import Lead, Project
from funnel_site.problems import Problem

ASSETS_DIR = "assets"


def builtin_templates() -> Path:
    """The built-in theme: inside the installed package, or the repository's top-level templates/."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "base.html").is_file():
            return candidate
    raise RuntimeError(f"built-in templates not found next to {here}")


def make_environment(project_root: Path, locale: str) -> jinja2.Environment:
    """Pipeline templates first, then the built-ins; ``builtin/x.html`` always names the built-in one."""
    builtin = jinja2.FileSystemLoader(str(builtin_templates()))
    loaders: list[jinja2.BaseLoader] = []
    if (project_root / "templates").is_dir():
        loaders.append(jinja2.FileSystemLoader(str(project_root / "templates")))
    loaders += [builtin, jinja2.PrefixLoader({"builtin": builtin})]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    Formatter(locale).install(env)
    return env


def page_url(lead: Lead) -> str:
    return f"leads/{lead.id}.html"


def render_site(project: Project, figures: Figures, warnings: Iterable[Problem]) -> dict[str, bytes]:
    """Every output file of a build, in memory."""
    warnings = list(warnings)
    env = make_environment(Path(project.root), project.config.locale)
    context: dict[str, Any] = {"project": project, "config": project.config, "figures": figures, "warnings": warnings}
    files: dict[str, bytes] = {
        "index.html": _render(env, "index.html", context, root=""),
        "data.json": (datajson.dumps(datajson.to_data(project, figures, warnings, page_url)) + "\n").encode(),
    }
    files.update(_assets(Path(project.root)))
    return files


def _render(env: jinja2.Environment, name: str, context: Mapping[str, Any], root: str) -> bytes:
    return env.get_template(name).render({**context, "root": root}).encode()


def _assets(project_root: Path) -> dict[str, bytes]:
    """Built-in assets, overridden file by file by the pipeline's templates/assets/."""
    files: dict[str, bytes] = {}
    for base in (builtin_templates() / ASSETS_DIR, project_root / "templates" / ASSETS_DIR):
        if base.is_dir():
            for path in sorted(base.rglob("*")):
                if path.is_file():
                    files[f"{ASSETS_DIR}/{path.relative_to(base).as_posix()}"] = path.read_bytes()
    return files
