"""Rendering in memory: project + figures -> {relative path: bytes}. Writes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import quote

import jinja2
import jinja2.bccache

from funnel_site import charts, datajson, exports, schema, views
from funnel_site.figures import Figures
from funnel_site.formatting import Formatter
from funnel_site.i18n import translations
from funnel_site.model import Lead, Project
from funnel_site.notes import is_web_url, render_notes, safe_url
from funnel_site.problems import Problem
from funnel_site.restrict import Scope

ASSETS_DIR = "assets"


def builtin_templates() -> Path:
    """The built-in theme: inside the installed package, or the repository's top-level templates/."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "base.html").is_file():
            return candidate
    raise RuntimeError(f"built-in templates not found next to {here}")


class MemoryBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept for the life of the process (serve and tests build many times).

    Jinja checks each entry against the template source's checksum, so an edited template is recompiled.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_BYTECODE = MemoryBytecodeCache()


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
        extensions=["jinja2.ext.i18n"],
        bytecode_cache=_BYTECODE,
    )
    env.install_gettext_translations(translations(builtin_templates(), locale), newstyle=True)  # type: ignore[attr-defined]
    Formatter(locale).install(env)
    env.filters["json_attr"] = lambda value: json.dumps(value, ensure_ascii=False)
    env.globals.update(link=_link, safe_url=safe_url, is_web_url=is_web_url, notes=render_notes, views=views, charts=charts)
    return env


def page_url(lead: Lead) -> str:
    return f"leads/{lead.id}.html"


def owner_url(member_id: str) -> str:
    return f"owners/{member_id}.html"


@jinja2.pass_context
def _link(context: jinja2.runtime.Context, path: str) -> str:
    """A site path as an href from the page being rendered (``root`` is its way back to the top)."""
    return str(context["root"]) + quote(path, safe="/")


def edit_url(template: str | None, lead: Lead) -> str | None:
    """The ``edit_url`` of the config with ``{path}`` filled in, when the result is a safe link."""
    return safe_url(template.replace("{path}", quote(lead.path, safe="/"))) if template else None


def render_site(project: Project, figures: Figures, warnings: Iterable[Problem], scope: Scope | None = None) -> dict[str, bytes]:
    """Every output file of a build, in memory. ``scope`` marks a restricted site (one owner's leads)."""
    warnings = list(warnings)
    config = project.config
    env = make_environment(Path(project.root), config.locale)
    slugs = views.company_slugs(f.lead.company for f in figures.leads if f.lead.company)
    leads_by_path = {lead.path: lead for lead in project.leads}

    def company_url(name: str) -> str:
        return f"companies/{slugs[name]}.html"

    env.globals.update(
        page_url=page_url, owner_url=owner_url, company_url=company_url,
        edit_url=lambda lead: edit_url(config.edit_url, lead),
        member=lambda member_id: config.member(member_id), stage=lambda stage_id: config.stage(stage_id),
        lead_at=leads_by_path.get,
    )
    context: dict[str, Any] = {"project": project, "config": config, "figures": figures, "warnings": warnings, "scope": scope}
    pages: list[tuple[str, str, dict[str, Any]]] = [
        ("index.html", "index.html", {}),
        ("board.html", "board.html", {}),
        ("leads.html", "leads.html", {}),
        ("ideas.html", "ideas.html", {}),
        ("closed.html", "closed.html", {}),
        ("companies.html", "companies.html", {}),
    ]
    pages += [(page_url(f.lead), "lead.html", {"lf": f, "lead": f.lead}) for f in figures.leads]
    pages += [(owner_url(o.member.id), "owner.html", {"owner": o}) for o in figures.owners]
    for company in views.group_by(figures.leads, views.company_of):
        pages.append((company_url(company.key), "company.html", {"company": company}))
    files = {path: _render(env, template, {**context, **extra}, path) for path, template, extra in pages}
    data = {**datajson.to_data(project, figures, warnings, page_url), "scope": scope.to_data() if scope else None}
    files["data.json"] = (datajson.dumps(data) + "\n").encode()
    files["lead.schema.json"] = schema.lead_schema_json(config)
    files["leads.csv"] = exports.leads_csv(config, figures)
    files["followups.ics"] = exports.followups_ics(config, figures, page_url)
    files.update(_assets(Path(project.root)))
    return files


def root_of(path: str) -> str:
    """The relative way from a page back to the site root: ``leads/a/b.html`` -> ``../../``."""
    return "../" * path.count("/")


def _render(env: jinja2.Environment, name: str, context: Mapping[str, Any], path: str) -> bytes:
    return env.get_template(name).render({**context, "root": root_of(path), "path": path}).encode()


def _assets(project_root: Path) -> dict[str, bytes]:
    """Built-in assets, overridden file by file by the pipeline's templates/assets/."""
    files: dict[str, bytes] = {}
    for base in (builtin_templates() / ASSETS_DIR, project_root / "templates" / ASSETS_DIR):
        if base.is_dir():
            for path in sorted(base.rglob("*")):
                if path.is_file():
                    files[f"{ASSETS_DIR}/{path.relative_to(base).as_posix()}"] = path.read_bytes()
    return files
