"""Rendering in memory: project + figures -> pages and files as bytes (all at once, or page by page). Writes nothing."""

from __future__ import annotations

import functools
import itertools
import json
import operator
from dataclasses import dataclass, field
from gettext import NullTranslations
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, Callable, Hashable, Iterable, Iterator, Mapping, Sequence

import jinja2
import jinja2.bccache
from jinja2.nodes import EvalContext
from markupsafe import Markup

from funnel_site import charts, company_page, datajson, exports, lead_page, lead_rows, schema, table_data, views
from funnel_site.compiled import CompiledTemplates
from funnel_site.engine import BuildEnvironment
from funnel_site.figures import Figures, LeadFigures
from funnel_site.formatting import Formatter
from funnel_site.fragments import Fragments, page_rows_renderer, rows_renderer
from funnel_site.i18n import translations
from funnel_site.model import Config, Lead, Project
from funnel_site.notes import contact_url, is_web_url, render_notes, safe_url
from funnel_site.quoting import quoted_path
from funnel_site.problems import Problem
from funnel_site.restrict import Scope
from funnel_site.theme import builtin_templates, in_theme

ASSETS_DIR = "assets"


_COMPILED = CompiledTemplates(builtin_templates())


def make_environment(project_root: Path, locale: str) -> jinja2.Environment:
    """Pipeline templates first, then the built-ins; ``builtin/x.html`` names the built-in one (unless the pipeline has a
    templates/builtin/x.html of its own, which is found first)."""
    builtin = jinja2.FileSystemLoader(str(builtin_templates()))
    loaders: list[jinja2.BaseLoader] = []
    if (project_root / "templates").is_dir():
        loaders.append(jinja2.FileSystemLoader(str(project_root / "templates")))
    loaders += [builtin, jinja2.PrefixLoader({"builtin": builtin})]
    env = BuildEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
        bytecode_cache=_COMPILED.salted(locale),
        auto_reload=False,  # one environment per build: no need to stat every template on every page
        cache_size=-1,  # a plain dict of the theme's two dozen templates: Jinja's LRU cache locks and reorders on every lookup
    )
    catalog = translations(builtin_templates(), locale)
    env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
    _install_fast_gettext(env, catalog)
    Formatter(locale).install(env)
    env.filters["json_attr"] = json_attr
    env.filters["with_next"] = with_next
    env.globals.update(
        link=_link, fragment=_fresh_fragment, safe_url=safe_url, is_web_url=is_web_url, contact_url=contact_url, notes=render_notes,
        views=views, charts=charts,
    )
    return env


_JSON = json.JSONEncoder(ensure_ascii=False)  # json.dumps makes an encoder per call


def json_attr(value: Any) -> str:
    """``value`` as JSON (for a data attribute). A list of strings, a table row's tags, is written without the
    encoder, which builds its C encoder anew for every value: the same text, at a third of the cost."""
    if type(value) in (tuple, list):
        try:
            return "[" + ", ".join(map(encode_basestring, value)) + "]"
        except TypeError:  # not only strings
            pass
    return _JSON.encode(value)


def with_next(items: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
    """Each item with the one after it (None after the last): a loop without Jinja's ``loop`` object."""
    return zip(items, [*items[1:], None])


def _install_fast_gettext(env: jinja2.Environment, catalog: NullTranslations) -> None:
    """Jinja's newstyle ``_``/``gettext``/``ngettext``, same output, cheaper per call.

    Jinja's own take the template context, so every call inside a block or loop first copies the
    context (``Context.derived``); these need only the evaluation context (autoescape on or off).
    Calls without variables are memoised (``ngettext`` by its count): a page asks for the same few dozen labels.
    """
    labels: dict[str, Markup] = {}

    def label(string: str) -> Markup:
        """``_(string)`` where autoescaping is on; the code generator compiles it into the templates (engine)."""
        text = labels.get(string)
        if text is None:
            text = labels[string] = Markup(catalog.gettext(string)) % {}
        return text

    @jinja2.pass_eval_context
    def gettext(eval_ctx: EvalContext, string: str, **variables: Any) -> str:
        if not eval_ctx.autoescape:
            return catalog.gettext(string) % variables
        if variables:
            return Markup(catalog.gettext(string)) % variables
        return label(string)

    gettext.labels = labels  # type: ignore[attr-defined]  # read by FastCallContext.label, which skips the call
    gettext.label = label  # type: ignore[attr-defined]

    counts: dict[tuple[str, str, int], Markup] = {}

    @jinja2.pass_eval_context
    def ngettext(eval_ctx: EvalContext, singular: str, plural: str, num: int, **variables: Any) -> str:
        if eval_ctx.autoescape and not variables and type(num) is int:  # "(%(num)d days ago)": a few hundred distinct
            key = (singular, plural, num)
            label = counts.get(key)
            if label is None:
                label = counts[key] = Markup(catalog.ngettext(singular, plural, num)) % {"num": num}
            return label
        variables.setdefault("num", num)
        text = catalog.ngettext(singular, plural, num)
        return (Markup(text) if eval_ctx.autoescape else text) % variables

    env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext)


def page_url(lead: Lead) -> str:
    return f"leads/{lead.id}.html"


def owner_url(member_id: str) -> str:
    return f"owners/{member_id}.html"


@jinja2.pass_context
def _link(context: jinja2.runtime.Context, path: str) -> str:
    """A site path as an href from the page being rendered (``root`` is its way back to the top)."""
    return str(context["root"]) + quoted_path(path)


@functools.lru_cache(maxsize=64)
def _page_link(root: str) -> Callable[[str], str]:
    """``link`` for the pages at one depth: a plain function, which Jinja calls without copying the context
    (as it must for ``_link``), with the hrefs remembered (pages link the same few hundred paths)."""
    hrefs: dict[str, str] = {}

    def link(path: str) -> str:
        href = hrefs.get(path)
        if href is None:
            href = hrefs[path] = root + quoted_path(path)
        return href

    return link


def _fresh_fragment(*key: Hashable, caller: Callable[[], str]) -> str:
    """``{% call fragment(key…) %}…{% endcall %}``: the block's text, rendered every time."""
    return caller()


def _remembered_fragments() -> Callable[..., str]:
    """``fragment`` for the pages of one build: a block is rendered once per key and then reused.

    The key must name everything the block shows besides the build's own values (config, figures,
    scope): the header and footer of base.html show only those and the page's depth and section, and
    every page carries them, so rendering them once per depth saves a few dozen calls on every page.
    """
    fragments: dict[tuple[Hashable, ...], str] = {}

    def fragment(*key: Hashable, caller: Callable[[], str]) -> str:
        text = fragments.get(key)
        if text is None:
            text = fragments[key] = caller()
        return text

    return fragment


def edit_url(template: str | None, lead: Lead) -> str | None:
    """The ``edit_url`` of the config with ``{path}`` filled in, when the result is a safe link."""
    return safe_url(template.replace("{path}", quoted_path(lead.path))) if template else None


@dataclass(frozen=True)
class SitePlan:
    """What a build renders: the environment (templates loaded once) and every page, before any is rendered.

    Pages are independent of each other, so they can be rendered in any order or process.
    """

    env: jinja2.Environment
    context: Mapping[str, Any]
    pages: tuple[tuple[str, str, Mapping[str, Any]], ...]  # (path, template, page variables)
    frames: lead_page.Frames = field(default_factory=dict, compare=False)  # lead and company pages' frames, once per depth
    templates: dict[str, jinja2.Template] = field(default_factory=dict, compare=False)  # by name, as the pages ask for them

    def render(self, index: int) -> tuple[str, bytes]:
        path, name, extra = self.pages[index]
        template = self._template(name)
        data = _render(template, self.context, extra, path, self.frames)
        spliced: table_data.Spliced | None = extra.get("spliced")
        if spliced is not None:
            filled = spliced.fill(data)
            if filled is None:
                spliced.plain = True
                filled = _render(template, self.context, extra, path)
            data = filled
        return path, data

    def _template(self, name: str) -> jinja2.Template:
        """``env.get_template(name)`` without its cost per page (~1 us: a weak reference and a key made for each lookup)."""
        template = self.templates.get(name)
        if template is None:
            template = self.templates[name] = self.env.get_template(name)
        return template

    def prepare(self, indices: Sequence[int]) -> None:
        """Render the notes of the lead pages among ``indices`` in one run, before the pages ask for them.

        The built-in lead page asks for ``notes(lead.body)`` (memoised by ``render_notes``). Markdown rendered in
        a run of a hundred notes costs a lead page ~15 % less cpu than the same notes rendered between the
        templates, one per page (10k corpus: 265-308 -> 230-246 us per page): the cpu's caches hold one kind of
        work at a time. A pipeline's own lead.html may show no notes: then nothing is rendered ahead.
        """
        leads = [extra["lead"] for _, template, extra in map(self.pages.__getitem__, indices) if template == "lead.html"]
        if leads and self._builtin_lead_page:
            for lead in leads:
                render_notes(lead.body)

    @functools.cached_property
    def _builtin_lead_page(self) -> bool:
        """Once per plan: the test resolves paths and stats files (~0.1 ms, 1 us per page of a task of a hundred)."""
        return in_theme(self.env.get_template("lead.html").filename, builtin_templates())


def plan_site(
    project: Project, figures: Figures, warnings: Iterable[Problem], scope: Scope | None = None, fragments: Fragments | None = None,
    env: jinja2.Environment | None = None,
) -> SitePlan:
    """The pages of a build. ``scope`` marks a restricted site (one owner's leads); ``fragments``: the dev server's rows.

    ``env``: the environment of an earlier plan of the same config and templates (the dev server's), its
    templates already loaded; this plan's globals replace that plan's.
    """
    config = project.config
    env = env or make_environment(Path(project.root), config.locale)
    # grouped before the links are followed: a group does not depend on them, and its keys are the company names
    companies = views.group_by(figures.leads, views.company_of, fragments, "company")
    slugs = views.company_slugs(map(operator.attrgetter("key"), companies))
    leads_by_path = dict(zip(map(operator.attrgetter("path"), project.leads), project.leads))
    members = {m.id: m for m in reversed(config.team)}  # reversed: the first of equal ids wins, as in Config.member
    stages = {s.id: s for s in reversed(config.stages)}

    def company_url(name: str) -> str:
        return f"companies/{slugs[name]}.html"

    context: dict[str, Any] = {"project": project, "config": config, "figures": figures, "warnings": list(warnings), "scope": scope}

    def rows_variables(root: str) -> dict[str, Any]:  # what a rows template sees: the build's values and the page's depth
        return {**context, "root": root, "link": _page_link(root)}

    own_rows = _renders_own_rows(Path(project.root))
    _set_globals(env, dict(
        page_url=page_url, owner_url=owner_url, company_url=company_url,
        edit_url=lambda lead: edit_url(config.edit_url, lead),
        member=members.get, stage=lambda stage_id: stages.get(stage_id) if isinstance(stage_id, str) else None,
        lead_at=leads_by_path.get, fragment=_remembered_fragments(), rows_of=page_rows_renderer(env) if own_rows else rows_renderer(env, rows_variables, fragments),
        kept=fragments,
    ))
    if figures.leads:  # the built-in lead and company pages and table rows in Python, same text (lead_page.py ...)
        lead_page.install(env)
        company_page.install(env)
        lead_rows.install(env)
    if fragments is not None:
        fragments.follow_links(slugs)
    pages: list[tuple[str, str, Mapping[str, Any]]] = [
        ("index.html", "index.html", {}),
        ("board.html", "board.html", {}),
        *_table_pages(env, figures, config, fragments),
        ("ideas.html", "ideas.html", {}),
        ("closed.html", "closed.html", {}),
        ("companies.html", "companies.html", {"companies": companies}),
    ]
    pages += _lead_pages(figures.leads) if fragments is None else fragments.pieces("lead pages", figures.leads, _lead_pages)
    pages += [(owner_url(o.member.id), "owner.html", {"owner": o}) for o in figures.owners]
    if fragments is None:
        pages += _company_pages(companies, company_url)
    else:  # a kept company keeps its page entry, so serve sees at once that the page shows the same
        pages += fragments.pieces("company pages", companies, functools.partial(_company_pages, company_url=company_url))
    return SitePlan(env, context, tuple(pages))


def _set_globals(env: jinja2.Environment, values: dict[str, Any]) -> None:
    """The globals of one plan, also in the templates an earlier plan loaded (they copy the globals on loading)."""
    env.globals.update(values)
    for template in env.cache.values() if env.cache is not None else ():
        template.globals.update(values)


def _company_pages(companies: Sequence[views.Group], company_url: Callable[[str], str]) -> list[tuple[str, str, Mapping[str, Any]]]:
    return [(company_url(company.key), "company.html", {"company": company}) for company in companies]


def _lead_pages(leads: Sequence[LeadFigures]) -> list[tuple[str, str, Mapping[str, Any]]]:
    return [(page_url(f.lead), "lead.html", {"lf": f, "lead": f.lead}) for f in leads]


def _table_pages(
    env: jinja2.Environment, figures: Figures, config: Config, fragments: Fragments | None = None,
) -> list[tuple[str, str, Mapping[str, Any]]]:
    """The all-leads table in pages of ``views.TABLE_PAGE_SIZE`` rows, plus ``leads-data.js`` when there are several.

    Sorted and counted once here, not on each of the pages.
    """
    rows = views.table_order(figures.leads, config, fragments)
    stage_order = views.stage_order(config)
    sources, tags = views.values_of(figures.leads, "source", "tags", fragments=fragments)
    menus = {"sources": sources, "tags": tags, "stage_order": stage_order}  # stage_order: for a pipeline's rows-leads.html
    pages = views.table_pages(len(rows))
    found: list[tuple[str, str, Mapping[str, Any]]] = [
        (page.path, "leads.html", {"table_page": page, "rows": rows[page.start:page.end], **menus}) for page in pages
    ]
    if len(pages) > 1:
        spliced = table_data.Spliced()
        script = functools.partial(table_data.leads_script, env, rows, stage_order, config.currency, figures.today, fragments=fragments,
                                   spliced=spliced)
        found.append(("leads-data.js", "leads-data.js", {"leads_script": script, "spliced": spliced}))
    return found


def render_data_files(plan: SitePlan, fragments: Fragments | None = None) -> dict[str, bytes]:
    """Everything besides the HTML pages: data.json, schema, exports and assets. ``fragments``: the dev server's lines."""
    return {path: b"".join(pieces) for path, pieces in data_files(plan, fragments).items()}


def data_files(plan: SitePlan, fragments: Fragments | None = None) -> dict[str, Iterable[bytes]]:
    """``render_data_files`` in pieces, made as they are asked for: a build writes the exports (100+ MB at 100k leads)
    piece by piece instead of holding them."""
    return site_data_files(*(plan.context[key] for key in ("project", "figures", "warnings", "scope")), fragments=fragments)


def site_data_files(
    project: Project, figures: Figures, warnings: Iterable[Problem], scope: Scope | None, fragments: Fragments | None = None,
) -> dict[str, Iterable[bytes]]:
    """``data_files`` without a plan: they show no page's links but the lead pages' (``page_url``), so a build can
    make them while it plans the pages."""
    config = project.config
    files: dict[str, Iterable[bytes]] = {}
    extra = {"scope": scope.to_data() if scope else None}
    files["data.json"] = datajson.pieces(project, figures, warnings, page_url, extra, fragments)
    # the dev server keeps the schema while the config stays (its fragments start afresh when the config changes)
    schema_json = schema.lead_schema_json(config) if fragments is None else fragments.get("lead.schema.json", (config,), None, lambda: schema.lead_schema_json(config))
    files["lead.schema.json"] = [schema_json]
    files["leads.csv"] = exports.leads_csv_pieces(config, figures, fragments)
    files["followups.ics"] = exports.followups_ics_pieces(config, figures, page_url, fragments)
    files.update((path, [data]) for path, data in _assets(Path(project.root)).items())  # read every time: see _assets
    return files


def render_site(project: Project, figures: Figures, warnings: Iterable[Problem], scope: Scope | None = None) -> dict[str, bytes]:
    """Every output file of a build, in memory. ``scope`` marks a restricted site (one owner's leads)."""
    plan = plan_site(project, figures, warnings, scope)
    files = dict(plan.render(index) for index in range(len(plan.pages)))
    files.update(render_data_files(plan))
    return files


def root_of(path: str) -> str:
    """The relative way from a page back to the site root: ``leads/a/b.html`` -> ``../../``."""
    return "../" * path.count("/")


def _render(
    template: jinja2.Template, context: Mapping[str, Any], extra: Mapping[str, Any], path: str, frames: lead_page.Frames | None = None,
) -> bytes:
    root = root_of(path)
    values = {**context, **extra, "root": root, "path": path, "link": _page_link(root)}
    framing = _FRAMED.get(template.blocks.get("content")) if frames is not None else None  # type: ignore[arg-type]
    if framing is not None:
        title, pieces = framing
        page = lead_page.framed(template, values, frames, title(values), pieces)  # type: ignore[arg-type]
        if page is not None:
            return page
    return template.render(values).encode()


# The pages whose content is written in Python, framed in the built-in base.html once per depth (lead_page.framed):
# their title block's own part, and their content.
_FRAMED: dict[Callable[..., Any], tuple[Callable[[Mapping[str, Any]], str], Callable[..., list[bytes]]]] = {
    lead_page.content: (lambda values: values["lead"].title, lead_page.pieces),
    company_page.content: (lambda values: values["company"].label, company_page.pieces),
}


def _assets(project_root: Path) -> dict[str, bytes]:
    """Built-in assets, overridden file by file by the pipeline's templates/assets/. Read on every build, serve's
    too: a symlinked assets folder changes without the watcher seeing it, and reading them costs ~1 ms."""
    files: dict[str, bytes] = {}
    for base in (builtin_templates() / ASSETS_DIR, project_root / "templates" / ASSETS_DIR):
        if base.is_dir():
            for path in sorted(base.rglob("*")):
                if path.is_file():
                    files[f"{ASSETS_DIR}/{path.relative_to(base).as_posix()}"] = path.read_bytes()
    return files


# Pages whose plan entry is kept by the fragments while what it shows is the very same objects (``plan_site``):
# a lead page shows its LeadFigures (custom fields and company link included: a changed company file name
# drops every kept piece), a company page its kept Group. The same entry object means the same page.
KEPT_ENTRIES = frozenset({"lead.html", "company.html"})


class PageCache(dict[str, tuple[Any, bytes]]):
    """The dev server's pages: page path -> (what the page shows, its bytes), and the rows and lines of the
    pages and files over all leads (``fragments``)."""

    def __init__(self) -> None:
        super().__init__()
        self.fragments = Fragments()
        self.env: jinja2.Environment | None = None  # the templates, loaded once while config and templates stay
        self.entries: tuple[tuple[str, str, Mapping[str, Any]], ...] = ()  # the last plan's pages
        self.pages: dict[str, bytes] = {}  # the last build's pages
        self.changed: list[str] = []  # the files the last build made anew (the others are last build's bytes objects)


def render_site_cached(project: Project, figures: Figures, warnings: Iterable[Problem], cache: PageCache) -> dict[str, bytes]:
    """``render_site`` for the dev server: a lead, company or owner page whose inputs equal last time's keeps its bytes;
    the pages and files over all leads keep the rows of unchanged leads (``fragments.Fragments``).

    Only valid while config, templates and today stay the same; the dev session starts a new cache
    when they change. A pipeline's own templates may show anything anywhere: then nothing is reused.
    """
    reuse = not _has_overrides(Path(project.root))
    fragments = cache.fragments if reuse else None
    plan = plan_site(project, figures, warnings, fragments=fragments, env=cache.env)
    cache.env = plan.env
    keys = _page_keys(figures, fragments) if fragments is not None else {}
    if reuse and len(cache.entries) == len(plan.pages):  # an edit: look only at the entries that are not last plan's
        places = list(itertools.compress(itertools.count(), map(operator.is_not, cache.entries, plan.pages)))
        pages = dict(cache.pages)
        for gone in {cache.entries[i][0] for i in places} - {plan.pages[i][0] for i in places}:
            del pages[gone]
            cache.pop(gone, None)
    else:
        places, pages = list(range(len(plan.pages))), {}
        for gone in cache.keys() - {path for path, _, _ in plan.pages}:
            del cache[gone]
    cache.changed = []
    for index in places:
        path, template, extra = plan.pages[index]
        old = cache.pop(path, None)
        if reuse and template in KEPT_ENTRIES:  # the very same entry as last time: see plan_site's fragments
            key: Any = plan.pages[index]
            same = old is not None and old[0] is key
        else:
            key = keys.get(path) if template != "leads.html" else _table_page_key(extra, fragments)
            same = key is not None and old is not None and old[0] == key
        data = old[1] if same else plan.render(index)[1]  # type: ignore[index]
        if key is not None:
            cache[path] = (key, data)
        if not same:
            cache.changed.append(path)
        pages[path] = data
    cache.entries, cache.pages = plan.pages, pages
    data_files = render_data_files(plan, fragments)
    cache.changed += data_files
    cache.fragments.sweep()
    return {**pages, **data_files}


def _renders_own_rows(project_root: Path) -> bool:
    """Whether a pipeline's own templates take part in rendering rows: a rows template of its own, or a template
    calling ``rows_of``. Such templates may be written for the earlier ``rows_of(template, items)``, whose rows
    saw the page's variables (``fragments.page_rows_renderer``)."""
    if not _has_overrides(project_root):
        return False
    for path in (project_root / "templates").glob("**/*.html"):
        try:
            if path.name.startswith("rows-") or "rows_of" in path.read_text(encoding="utf-8", errors="replace"):
                return True
        except OSError:  # unreadable: Jinja reports it if a page needs it; the earlier way is the safe one meanwhile
            return True
    return False


def _has_overrides(project_root: Path) -> bool:
    """A pipeline's own template may show other leads on a lead page, so nothing is reused then."""
    own = project_root / "templates"
    if own.is_dir() and own.resolve() == builtin_templates().resolve():  # this repository's example pipeline
        return False
    return any(own.glob("**/*.html"))


def _page_keys(figures: Figures, fragments: Fragments) -> dict[str, Any]:
    """What each reusable page besides lead and company pages (``KEPT_ENTRIES``) shows: its bytes depend on
    nothing else while config and templates stay.

    Leads take part as the very same ``LeadFigures`` objects (``Same``): values that compare equal can print
    differently (``1``, ``1.0``), and an unchanged lead's custom fields are the same objects. Company links
    are counted by ``fragments.links``; the owners' figures compare with ``==`` (standard numbers are rounded on output).
    """
    by_owner = views.owners(figures.leads, fragments)
    by_status = figures.by_status
    keys: dict[str, Any] = {  # the two list pages an edit of an active lead leaves alone: ideas, and closed with its rates
        "ideas.html": (fragments.links, Same(by_status.get("potential", ()))),
        "closed.html": (
            fragments.links,
            Same(f for status in ("won", "lost", "cancelled") for f in by_status.get(status, ())),
            frozenset(fragments.counted("sources", figures.leads, _source_of)),  # every source has a row in the rates by source
        ),
    }
    for owner in figures.owners:
        keys[owner_url(owner.member.id)] = (owner, fragments.links, Same(by_owner.get(owner.member.id, ())))
    return keys


def _table_page_key(page: Mapping[str, Any], fragments: Fragments | None) -> Any:
    """What a page of the all-leads table shows besides config and templates (``_table_pages``): its rows, the
    filter menus and where it stands among the pages; the rows' company links are counted by ``fragments.links``."""
    if fragments is None:
        return None
    return (fragments.links, Same(page["rows"]), tuple(page["sources"]), tuple(page["tags"]), page["table_page"])


def _source_of(f: LeadFigures) -> tuple[str | None]:
    return (f.lead.source,)


class Same(tuple[Any, ...]):
    """Items that equal another ``Same`` only when both hold the very same objects in the same places."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Same) and len(self) == len(other) and all(map(operator.is_, self, other))

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = tuple.__hash__
