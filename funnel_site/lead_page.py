"""The content of the built-in lead page (templates/lead.html, block ``content``) written in Python: the same text.

A 10k-lead site is 10k lead pages, and this block was ~70 % of a build's template work: ~170 us a page as a
Jinja block (a few hundred lookups, calls and prints, each paying for Jinja's generality), ~50 us here. The
block reads the values the template reads, from the page's context, and calls the same filters, labels,
links and Markdown. It replaces the template's block only where lead.html and the macros.html it imports are
the built-in ones (``install``); a pipeline's own lead.html or macros.html renders as written.

Kept equal to the template by tests/test_lead_page.py, which renders the pages of several pipelines both ways
and compares the bytes: change lead.html (or the macros it calls), and the test shows what to change here.

``Macros``, the macros.html macros the page calls, serve the company page's block too (company_page.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from typing import Any, Callable, Iterator

import jinja2

from funnel_site.engine import escaped_str, escaped_text
from funnel_site.figures import LeadFigures
from funnel_site.model import Config, Lead
from funnel_site.theme import builtin_templates, in_theme

DASH = "–"
CLOSED = ("won", "lost", "cancelled")
OPEN = ("active", "potential")
CRITERIA = {"budget": "Budget", "authority": "Authority", "need": "Need", "timeline": "Timeline"}
STATUS_LABELS = {"potential": "Idea", "active": "Active", "won": "Won", "lost": "Lost", "cancelled": "Cancelled"}
MARKS = {True: ("met", "✓", "met"), False: ("unmet", "✗", "not met")}
UNKNOWN = ("unknown", "?", "not assessed")


def install(env: jinja2.Environment) -> None:
    """Let ``env``'s lead.html render its content with ``content``, where it and the macros it imports are built-in (a
    pipeline's templates/builtin/macros.html is found before the built-in one: the loader looks there first)."""
    if builtin_parts(env, "lead.html", "macros.html", "builtin/macros.html"):
        env.get_template("lead.html").blocks["content"] = content


def builtin_parts(env: jinja2.Environment, *names: str) -> bool:
    """Whether the templates ``names`` are the built-in ones in ``env``, and ``_`` gives its labels as the build's own
    does (``render._install_fast_gettext``): then the Python versions of those templates print what they print."""
    theme = builtin_templates()
    try:
        templates = [env.get_template(name) for name in names]
    except jinja2.TemplateError:  # a pipeline's broken template: its pages report it
        return False
    return all(in_theme(template.filename, theme) for template in templates) and getattr(env.globals.get("_"), "label", None) is not None


def content(context: jinja2.runtime.Context) -> Iterator[str]:
    """The block, as Jinja calls a block: a generator of the text."""
    yield text(context)


# The text of the built-in base.html around a page's title and content, by its template, root (its depth) and
# section: the same for every page of that template at that depth in a build (``framed``); () where it cannot be used.
Frames = dict[tuple[str, str, str], tuple[str, ...]]
_TITLE, _CONTENT = "\ue002", "\ue003"  # private-use characters marking where the blocks go in a frame


def framed(template: jinja2.Template, values: dict[str, Any], frames: Frames, title: str,
           text: Callable[[jinja2.runtime.Context], str]) -> str | None:
    """The whole page of a template whose title block is ``title · config.title`` and whose content is ``text``, the
    built-in base.html's text around them made once per depth and section: ~20-30 us a page less than the
    template's frame (a context, the blocks' generators, the header's and footer's calls). None where base.html is
    a pipeline's own, or a frame's text holds the markers (a config title holding them, say).

    The built-in base.html shows build-wide values, the page's depth and its section only (``path`` is otherwise
    compared with the top-level pages' paths, never a lead's or a company's page), so one frame serves them all.
    """
    key = (template.name or "", values["root"], values["path"].split("/", 1)[0])
    parts = frames.get(key)
    if parts is None:
        parts = frames[key] = _frame(template, values)
    if not parts:
        return None
    page_title = f"{escaped_text(title)} · {escaped_text(values['config'].title)}"  # the title block of lead.html and company.html
    return f"{parts[0]}{page_title}{parts[1]}{text(template.new_context(values))}{parts[2]}"


def text(context: jinja2.runtime.Context) -> str:
    """The content of one lead page (``content`` without the generator)."""
    return _Page(context).text()


def _marker(text: str) -> Callable[[jinja2.runtime.Context], Iterator[str]]:
    def block(context: jinja2.runtime.Context) -> Iterator[str]:  # a generator, as base.html closes what a block gives
        yield text

    return block


def _frame(template: jinja2.Template, values: dict[str, Any]) -> tuple[str, ...]:
    """The template's page with markers for its title and content, split at them; () where that is not the page."""
    if not builtin_parts(template.environment, "base.html"):
        return ()
    context = template.new_context(values)
    context.blocks["title"] = [_marker(_TITLE)]  # ahead of base.html's own, as lead.html's are
    context.blocks["content"] = [_marker(_CONTENT)]
    text = "".join(template.root_render_func(context))
    if text.count(_TITLE) != 1 or text.count(_CONTENT) != 1 or text.index(_TITLE) > text.index(_CONTENT):
        return ()
    before, rest = text.split(_TITLE)
    return (before, *rest.split(_CONTENT))


class _Labels(dict[str, str]):
    """The text of the labels the pages show, each asked of the build's ``_`` once (its ``label``: the message's text, autoescaped)."""

    def __init__(self, label: Callable[[str], str]) -> None:
        super().__init__()
        self.label = label

    def __missing__(self, message: str) -> str:
        text = self[message] = str(self.label(message))
        return text


@lru_cache(maxsize=8)
def _labels(label: Callable[[str], str]) -> dict[str, str]:
    """The labels of the build whose ``_`` has this ``label``: one dict for all its pages."""
    return _Labels(label)


def badges(lf: LeadFigures, labels: Mapping[str, str]) -> str:
    """macros.html's ``badges``: the lead's warning and qualification badges."""
    text = ""
    if lf.follow_up_overdue:
        text += f' <span class="badge warn">{labels["Follow-up overdue"]}</span>'
    if lf.stale:
        text += f' <span class="badge stale">{labels["Stale"]}</span>'
    if lf.qualified and lf.lead.status in OPEN:
        text += f' <span class="badge ok">{labels["Qualified"]}</span>'
    return text


class Macros:
    """The macros of macros.html that the pages written in Python call (status_label ... stage_name), as they print,
    with the values of one page's context."""

    def __init__(self, context: jinja2.runtime.Context) -> None:
        self.values = values = context.get_all()  # the context's own dict where the page sets no variables: read once, not per name
        self.context = context
        self.link: Callable[[str], str] = values["link"]
        self.member, self.stage = values["member"], values["stage"]
        self.labels = _labels(values["_"].label)
        self.count_label, self.eval_ctx = values["ngettext"], context.eval_ctx

    def ngettext(self, singular: str, plural: str, num: int) -> str:
        """The build's ``ngettext``, which gives Markup where autoescaping is on (as on every HTML page): printed as it is."""
        return self.count_label(self.eval_ctx, singular, plural, num)

    def status_label(self, status: str) -> str:
        return self.labels[STATUS_LABELS[status]] if status in STATUS_LABELS else escaped_text(status)

    def status_badge(self, status: str) -> str:
        return f'<span class="badge status-{escaped_text(status)}">{self.status_label(status)}</span>'

    def owner_link(self, owner_id: str) -> str:
        member = self.member(owner_id)
        if not member:
            return escaped_text(owner_id)
        return f'<a href="{escaped_text(self.link(self.values["owner_url"](member.id)))}">{escaped_text(member.name)}</a>'

    def company_link(self, name: str) -> str:
        if not name:
            return DASH
        return f'<a href="{escaped_text(self.link(self.values["company_url"](name)))}">{escaped_text(name)}</a>'

    def stage_name(self, stage_id: str | None) -> str:
        stage = self.stage(stage_id)
        if stage:
            return escaped_text(stage.name)
        return escaped_text(stage_id) if stage_id else DASH


class _Page(Macros):
    """One lead page's content: the values the template reads, and its parts in the template's order."""

    def __init__(self, context: jinja2.runtime.Context) -> None:
        super().__init__(context)
        values = self.values
        self.lead: Lead = values["lead"]
        self.lf: LeadFigures = values["lf"]
        self.config: Config = values["config"]
        self.contact_url = values["contact_url"]
        filters = context.environment.filters
        self.money, self.date, self.percent = filters["money"], filters["date"], filters["percent"]
        self.out: list[str] = []

    def text(self) -> str:
        context, lead = self.context, self.lead
        edit = context["edit_url"](lead)
        self.head(edit)
        self.facts()
        self.qualification()
        self.contacts()
        self.history()
        self.custom()
        labels, out = self.labels, self.out
        out += ("\n<section class=\"panel notes\" aria-labelledby=\"notes-heading\">\n<h2 id=\"notes-heading\">",
                labels["Notes"], "</h2>\n")
        if lead.body.strip():
            out.append(escaped_text(context["notes"](lead.body)))
        else:
            out += ('<p class="empty">', labels["No notes yet."], "</p>")
        out += ("</section>\n\n<p class=\"file\">", labels["File:"], " <code>", escaped_str(lead.path), "</code>")
        if edit:
            out += (' · <a href="', escaped_text(edit), '">', labels["Edit this file"], "</a>")
        out.append("</p>\n")
        return "".join(out)

    def head(self, edit: str | None) -> None:
        lead, labels, out = self.lead, self.labels, self.out
        title = escaped_str(lead.title)
        out += ('<nav class="crumbs" aria-label="', labels["Breadcrumb"], '"><a href="', escaped_str(self.link("leads.html")),
                '">', labels["All leads"], "</a> › <span>", title, '</span></nav>\n<div class="lead-head">\n<div>\n<h1>', title,
                '</h1>\n<p class="subtitle">\n')
        if lead.company:
            out += (self.company_link(lead.company), " · ")
        out += (self.owner_link(lead.owner), '\n</p>\n<p class="badges">', self.status_badge(lead.status))
        if lead.stage:
            out += (' <span class="badge stage">', self.stage_name(lead.stage), "</span>")
        out += (self.badges(), "</p>\n</div>\n")
        if edit:
            out += ('<p class="actions"><a class="button" href="', escaped_text(edit), '">', labels["Edit this file"], "</a></p>")

    def facts(self) -> None:
        lead, lf, labels, out = self.lead, self.lf, self.labels, self.out
        money, day, currency = self.money, self.date, self.config.currency
        out += ('</div>\n\n<div class="lead-grid">\n<section class="panel" aria-labelledby="facts-heading">\n<h2 id="facts-heading">',
                labels["Facts"], '</h2>\n<dl class="facts">\n<dt>', labels["Value"], "</dt>\n<dd>")
        if lead.value is not None and lead.currency != currency:
            out += (escaped_str(money(lead.value, lead.currency)), ' <span class="meta">(= ', escaped_str(money(lf.value, currency)), ")</span>")
        else:
            out.append(escaped_str(money(lf.value, currency)))
        out.append("</dd>\n")
        if lead.status in OPEN:
            out += ("<dt>", labels["Probability"], "</dt><dd>", escaped_str(self.percent(lf.probability)))
            if lead.probability is not None:
                out += (' <span class="meta">', labels["(set on the lead)"], "</span>")
            out += ("</dd>\n<dt>", labels["Weighted"], "</dt><dd>", escaped_str(money(lf.weighted, currency)), "</dd>\n")
        if lead.status == "active":
            out += ("<dt>", labels["Expected close"], "</dt><dd>", escaped_str(day(lead.expected_close)), "</dd>\n")
        if lead.closed_on:
            out += ("<dt>", labels["Closed on"], "</dt><dd>", escaped_str(day(lead.closed_on)), "</dd>")
        if lead.reason:
            out += ("<dt>", labels["Reason"], "</dt><dd>", escaped_str(lead.reason), "</dd>")
        if lead.status in OPEN:
            out += ("<dt>", labels["Follow-up"], "</dt><dd>", escaped_str(day(lead.follow_up)))
            if lf.follow_up_overdue:
                out += (' <span class="badge warn">', labels["overdue"], "</span>")
            out += ("</dd>\n<dt>", labels["Next step"], "</dt><dd>", escaped_str(lead.next_step or DASH), "</dd>\n")
        out += ("<dt>", labels["Created"], "</dt><dd>", escaped_str(day(lead.created)))
        if lf.age_days is not None:
            out += (' <span class="meta">', self.ngettext("(%(num)d day ago)", "(%(num)d days ago)", lf.age_days), "</span>")
        out += ("</dd>\n<dt>", labels["Last contact"], "</dt><dd>", escaped_str(day(lead.last_contact)), "</dd>\n")
        if lf.days_since_touch is not None:
            out += ("<dt>", labels["Last activity"], "</dt><dd>", self.ngettext("%(num)d day ago", "%(num)d days ago", lf.days_since_touch), "</dd>")
        if lf.stage_since and lead.status == "active":
            out += ("<dt>", labels["In this stage since"], "</dt><dd>", escaped_str(day(lf.stage_since)), "</dd>")
        out += ("<dt>", labels["Source"], "</dt><dd>", escaped_str(lead.source or DASH), "</dd>\n<dt>", labels["Tags"], "</dt><dd>")
        for tag in lead.tags:
            out += ('<span class="tag">', escaped_str(tag), "</span> ")
        if not lead.tags:
            out.append(DASH)
        out.append("</dd>\n</dl>\n</section>\n\n")

    def qualification(self) -> None:
        lead, labels, out = self.lead, self.labels, self.out
        out += ('<section class="panel" aria-labelledby="qualification-heading">\n<h2 id="qualification-heading">',
                labels["Qualification"], "</h2>\n")
        if self.lf.qualified:
            out += ('<p class="qualified">', labels["Qualified prospect: every criterion is met."], "</p>")
        out.append('<ul class="checklist">\n')
        for name in self.config.qualification:
            met = lead.qualification.get(name)
            css, mark, state = MARKS[met] if met is True or met is False else UNKNOWN
            criterion = labels[CRITERIA[name]] if name in CRITERIA else escaped_text(name)
            out += ('<li class="', css, '">\n<span class="mark" aria-hidden="true">', mark, "</span>\n", criterion,
                    '\n<span class="visually-hidden">: ', labels[state], "</span>\n</li>\n")
        out.append("</ul>\n\n")

    def contacts(self) -> None:
        out = self.out
        if self.lead.contacts:
            out += ("<h2>", self.labels["Contacts"], "</h2>\n")
        for contact in self.lead.contacts:
            out += ('<div class="contact">\n<p class="contact-name">', escaped_text(contact.get("name", DASH)))
            if contact.get("role"):
                out += (' <span class="meta">· ', escaped_text(contact.get("role")), "</span>")
            out.append("</p>\n<ul>\n")
            for key, value in contact.items():
                if key not in ("name", "role"):
                    out += ('<li><span class="meta">', escaped_text(key), ":</span> ", self.contact_value(key, value), "</li>\n")
            out.append("</ul>\n</div>\n")
        out.append("</section>\n</div>\n\n")

    def history(self) -> None:
        lead, out = self.lead, self.out
        if not lead.history:
            out.append("\n")
            return
        out += ('<section class="panel" aria-labelledby="history-heading">\n<h2 id="history-heading">', self.labels["Stage history"],
                '</h2>\n<ol class="timeline">\n')
        today = self.context["figures"].today if lead.status == "active" else None
        for entry, after in zip(lead.history, [*lead.history[1:], None]):
            until: date | None = after.date if after is not None else today
            step = self.status_label(entry.stage) if entry.stage in CLOSED else self.stage_name(entry.stage)
            out += ('<li>\n<time datetime="', escaped_str(entry.date.isoformat()), '">', escaped_str(self.date(entry.date)),
                    '</time>\n<span class="step">', step, "</span>\n")
            if until:
                out += ('<span class="meta">', self.ngettext("%(num)d day", "%(num)d days", (until - entry.date).days), "</span>")
            out.append("</li>\n")
        out.append("</ol>\n</section>\n\n")

    def custom(self) -> None:
        out = self.out
        if self.lead.custom:
            out += ('<section class="panel" aria-labelledby="custom-heading">\n<h2 id="custom-heading">', self.labels["More fields"],
                    '</h2>\n<dl class="facts">\n')
            for key, value in self.lead.custom.items():
                out += ("<dt>", escaped_text(key), "</dt><dd>", self.field_value(value), "</dd>\n")
            out.append("</dl>\n</section>\n")

    # The page's own macros of macros.html (badges, field_value, contact_value), as they print.

    def badges(self) -> str:
        return badges(self.lf, self.labels)

    def field_value(self, value: Any) -> str:
        if isinstance(value, str):
            if self.context["is_web_url"](value):
                return f'<a href="{escaped_text(self.context["safe_url"](value))}">{escaped_str(value)}</a>'
            return escaped_str(value)
        if value is True or value is False:
            return self.labels["yes" if value else "no"]
        if value is None:
            return DASH
        if isinstance(value, Mapping):
            return '<dl class="nested">' + "".join(f"<dt>{escaped_text(k)}</dt><dd>{escaped_text(v)}</dd>" for k, v in value.items()) + "</dl>"
        try:
            items = iter(value)
        except TypeError:
            return escaped_str(self.date(value)) if hasattr(value, "isoformat") else escaped_text(value)
        return ", ".join(map(escaped_text, items))

    def contact_value(self, key: Any, value: Any) -> str:
        url = self.contact_url(key, value)
        return f'<a href="{escaped_text(url)}">{escaped_text(value)}</a>' if url else self.field_value(value)
