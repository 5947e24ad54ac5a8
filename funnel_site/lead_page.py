"""The content of the built-in lead page (templates/lead.html, block ``content``) written in Python: the same text.

A 10k-lead site is 10k lead pages, and this block was ~70 % of a build's template work: ~170 us a page as a
Jinja block (a few hundred lookups, calls and prints, each paying for Jinja's generality), ~35 us here. The
block reads the values the template reads, from the page's context, and calls the same filters, labels,
links and Markdown; what many leads share (a day, an amount, the checklist ...) it writes once per build, an owner's
or a company's link once per build and depth, and looks up after that (``Shown``, ``Links``: the whole page ~80 -> ~60 us
of cpu at 10k leads). It replaces the
template's block only where lead.html and the macros.html it imports are the built-in ones (``install``); a
pipeline's own lead.html or macros.html renders as written.

Kept equal to the template by tests/test_lead_page.py, which renders the pages of several pipelines both ways
and compares the bytes: change lead.html (or the macros it calls), and the test shows what to change here.

``Macros``, ``Shown`` and ``Links`` serve the company page's block and the table's rows too (company_page.py, lead_rows.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from typing import Any, Callable, Iterator

import jinja2
from jinja2.nodes import EvalContext

from funnel_site.engine import escaped_str, escaped_text
from funnel_site.figures import LeadFigures
from funnel_site.model import Config, Lead, Member, Stage
from funnel_site.shared_texts import SharedTexts, Text
from funnel_site.theme import builtin_templates, in_theme

DASH = "–"
CLOSED = ("won", "lost", "cancelled")
OPEN = ("active", "potential")
CRITERIA = {"budget": "Budget", "authority": "Authority", "need": "Need", "timeline": "Timeline"}
STATUS_LABELS = {"potential": "Idea", "active": "Active", "won": "Won", "lost": "Lost", "cancelled": "Cancelled"}
MARKS = {True: ("met", "✓", "met"), False: ("unmet", "✗", "not met")}
UNKNOWN = ("unknown", "?", "not assessed")
SHARED_SIZE = 1 << 16  # texts kept per kind of value (``Shared``): bounds memory where every lead has an amount of its own
# The pages' own pieces beyond ASCII, as UTF-8 (``_Page`` joins bytes)
_DASH, _CRUMB, _DOT, _DOT_LINK, _ROLE = (text.encode() for text in (DASH, "</a> › <span>", " · ", ' · <a href="', ' <span class="meta">· '))


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
    yield text(*page_of(context))


# What a page written in Python reads: the values of its context (its own and the globals), the environment, and
# whether it autoescapes (its ``ngettext`` gives Markup then).
Page = tuple[Mapping[str, Any], jinja2.Environment, bool]


def page_of(context: jinja2.runtime.Context) -> Page:
    """The ``Page`` of a block's context."""
    return context.get_all(), context.environment, context.eval_ctx.autoescape


# The built-in base.html around a page's title and content, by its template, root (its depth) and section: the same
# for every page of that template at that depth in a build (``framed``), as UTF-8; () where it cannot be used.
Frames = dict[tuple[str, str, str], tuple[bytes, ...]]
_TITLE, _CONTENT = "\ue002", "\ue003"  # private-use characters marking where the blocks go in a frame


def framed(template: jinja2.Template, values: dict[str, Any], frames: Frames, title: str, pieces: Callable[..., list[bytes]]) -> bytes | None:
    """The whole page, as UTF-8, of a template whose title block is ``title · config.title`` and whose content is ``pieces``, the
    built-in base.html's text around them made once per depth and section: ~20-30 us a page less than the
    template's frame (a context, the blocks' generators, the header's and footer's calls); ``pieces`` is given the ``Page``
    without a context either (Jinja's costs a page ~3 us: the globals copied, a set of their names). None where base.html is
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
    environment = template.environment
    autoescape = environment.autoescape  # as new_context's EvalContext tells, without making one (~0.6 us a page)
    if callable(autoescape):
        autoescape = autoescape(template.name)
    page = pieces({**template.globals, **values}, environment, autoescape)  # as new_context's
    page[:0] = (parts[0], escaped_text(title).encode(), parts[1])  # the frame encoded once, not per page
    page.append(parts[2])
    return b"".join(page)


def text(values: Mapping[str, Any], environment: jinja2.Environment, autoescape: bool) -> str:
    """The content of one lead page (``content`` without the generator): the values of its context, its environment, whether
    it autoescapes (``page_of``). Decoded from ``pieces``: only where a pipeline's own base.html frames the block."""
    return b"".join(pieces(values, environment, autoescape)).decode()


def pieces(values: Mapping[str, Any], environment: jinja2.Environment, autoescape: bool) -> list[bytes]:
    """The content of one lead page as UTF-8, in pieces for ``framed`` to join with the frame's."""
    return _Page(values, environment, autoescape).pieces()


def _marker(text: str) -> Callable[[jinja2.runtime.Context], Iterator[str]]:
    def block(context: jinja2.runtime.Context) -> Iterator[str]:  # a generator, as base.html closes what a block gives
        yield text

    return block


def _frame(template: jinja2.Template, values: dict[str, Any]) -> tuple[bytes, ...]:
    """The template's page with markers for its title and content, split at them; () where that is not the page."""
    if not builtin_parts(template.environment, "base.html"):
        return ()
    context = template.new_context(values)
    # ahead of base.html's own, as lead.html's are; ``title · config.title``: the build's part goes in the frame
    context.blocks["title"] = [_marker(f"{_TITLE} · {escaped_text(values['config'].title)}")]
    context.blocks["content"] = [_marker(_CONTENT)]
    text = "".join(template.root_render_func(context))
    if text.count(_TITLE) != 1 or text.count(_CONTENT) != 1 or text.index(_TITLE) > text.index(_CONTENT):
        return ()
    before, rest = text.split(_TITLE)
    return tuple(part.encode() for part in (before, *rest.split(_CONTENT)))


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


class Shared(SharedTexts[Text]):
    """``SharedTexts`` that start afresh after ``SHARED_SIZE`` values."""

    __slots__ = ()

    def __missing__(self, value: Any) -> Text:
        # SharedTexts.__missing__ written out: a value seen first costs one Python call less (most of a lead's amounts are
        # its own, and each is written for the rows, the lead page and the company page)
        text = self.write(value)
        if value != 0:
            if len(self) >= SHARED_SIZE:
                self.clear()
            self[value] = text
        return text


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


def badge_key(lf: LeadFigures) -> tuple[bool, bool, bool]:
    """What ``badges`` shows of a lead: whether its follow-up is overdue, it is stale, it is open and qualified."""
    return lf.follow_up_overdue, lf.stale, lf.qualified and lf.lead.status in OPEN


def checklist(criteria: tuple[str, ...], qualified: bool, met: tuple[bool | None, ...], labels: Mapping[str, str]) -> str:
    """The page's qualification panel, up to its contacts: whether each of ``criteria`` is ``met`` (None: not assessed)."""
    out = ['<section class="panel" aria-labelledby="qualification-heading">\n<h2 id="qualification-heading">', labels["Qualification"], "</h2>\n"]
    if qualified:
        out += ('<p class="qualified">', labels["Qualified prospect: every criterion is met."], "</p>")
    out.append('<ul class="checklist">\n')
    for name, state in zip(criteria, met):
        css, mark, said = MARKS[state] if state is True or state is False else UNKNOWN
        criterion = labels[CRITERIA[name]] if name in CRITERIA else escaped_text(name)
        out += ('<li class="', css, '">\n<span class="mark" aria-hidden="true">', mark, "</span>\n", criterion,
                '\n<span class="visually-hidden">: ', labels[said], "</span>\n</li>\n")
    out.append("</ul>\n\n")
    return "".join(out)


class Shown:
    """What the pages written in Python print of the values many leads share, each text written once per build
    (``shown``) and then looked up by value, in C: days, amounts, percentages, and macros.html's ``status_label`` ...
    ``stage_name``. A page calling the filters and macros for them made a few Python calls each. None of them links
    (``Links``): the pages at every depth share them (10k: a company page shows the amounts its leads' rows showed).
    Each kind keeps ``SHARED_SIZE`` texts at most."""

    def __init__(
        self, label: Callable[[str], str], ngettext: Callable[..., str], environment: jinja2.Environment, autoescape: bool,
        member: Callable[[str], Member | None], stage: Callable[[str | None], Stage | None], currency: str,
    ) -> None:
        self.labels = labels = _labels(label)
        date_filter, money, percent = (environment.filters[name] for name in ("date", "money", "percent"))
        self.days = days = Shared(lambda day: escaped_str(date_filter(day)))
        self.times = Shared(lambda day: f'<time datetime="{escaped_str(day.isoformat())}">{days[day]}</time>')  # a history entry's
        self.amounts = Shared(lambda value: escaped_str(money(value, currency)))
        self.whole_amounts = Shared(lambda value: escaped_str(money(value, currency, False)))
        self.percents = Shared(lambda value: escaped_str(percent(value)))
        eval_ctx = EvalContext(environment)  # all that ngettext reads of it: whether to autoescape
        eval_ctx.autoescape = autoescape
        # (singular, plural, count): the build's ngettext, which gives Markup where autoescaping is on (as on every HTML page)
        self.counts = Shared(lambda message: ngettext(eval_ctx, *message))

        def status_label(status: str) -> str:
            return labels[STATUS_LABELS[status]] if status in STATUS_LABELS else escaped_text(status)

        def stage_name(stage_id: str | None) -> str:
            found = stage(stage_id)
            if found:
                return escaped_text(found.name)
            return escaped_text(stage_id) if stage_id else DASH

        def owner_name(owner_id: str) -> str:
            found = member(owner_id)
            return escaped_text(found.name if found else owner_id)

        self.stage_names = Shared(stage_name)
        self.status_badges = Shared(lambda status: f'<span class="badge status-{escaped_text(status)}">{status_label(status)}</span>')
        self.steps = Shared(lambda step: status_label(step) if step in CLOSED else stage_name(step))  # a history entry's
        self.owner_names = Shared(owner_name)
        self.checklists = Shared(lambda key: checklist(*key, labels))  # by criteria, qualified and whether each is met
        self.encoded = Encoded(self)


class EncodedTexts(dict[Any, bytes]):
    """``texts`` as UTF-8, each encoded once and kept as ``Shared`` keeps texts (zeros every time, ``SHARED_SIZE`` at most).
    Its own ``__missing__``, not a ``Shared`` of a function: a value seen first costs one Python call, not three
    (most of a lead's amounts are its own: 1k corpus, ~5 first sights a lead page)."""

    __slots__ = ("texts",)

    def __init__(self, texts: Mapping[Any, str]) -> None:
        super().__init__()
        self.texts = texts

    def __missing__(self, value: Any) -> bytes:
        data = self.texts[value].encode()
        if value != 0:
            if len(self) >= SHARED_SIZE:
                self.clear()
            self[value] = data
        return data


class Encoded:
    """``Shown``'s texts as UTF-8, for the pages assembled from bytes (``_Page``, company_page.py): a page joined as text
    holds '–', '€', '›' or '✓', so the join widened it to UCS-2 and its ``encode`` went character by character
    (1k corpus, callgrind: ~60k of a lead page's ~340k instructions); joining bytes copies them. Also ``badges`` by
    ``badge_key``."""

    def __init__(self, shown: Shown) -> None:
        self.shown = shown
        self.labels = labels = EncodedTexts(shown.labels)
        self.days, self.times, self.amounts, self.whole_amounts, self.percents, self.counts = map(
            EncodedTexts, (shown.days, shown.times, shown.amounts, shown.whole_amounts, shown.percents, shown.counts))
        self.stage_names, self.status_badges, self.steps, self.checklists = map(
            EncodedTexts, (shown.stage_names, shown.status_badges, shown.steps, shown.checklists))
        kinds = (("warn", "Follow-up overdue"), ("stale", "Stale"), ("ok", "Qualified"))  # as ``badges`` prints them
        self.stage_badges = Shared(lambda stage: b' <span class="badge stage">' + self.stage_names[stage] + b"</span>")  # the lead page's
        self.lead_parts = _Parts(labels)
        # a history entry up to its duration, by its day and step, and its duration to its end, by its days
        self.entries = Shared(lambda key: b'<li>\n%s\n<span class="step">%s</span>\n' % (self.times[key[0]], self.steps[key[1]]))
        self.durations = Shared(lambda days: b'<span class="meta">%s</span></li>\n' % self.counts["%(num)d day", "%(num)d days", days])
        self.badges = Shared(lambda key: b"".join(b' <span class="badge %s">%s</span>' % (css.encode(), labels[label])
                                                  for shown, (css, label) in zip(key, kinds) if shown))


class Links:
    """macros.html's links to an owner's and a company's page as the pages at one depth print them, each written once
    per build and depth (``links``)."""

    def __init__(
        self, link: Callable[[str], str], member: Callable[[str], Member | None], owner_url: Callable[[str], str],
        company_url: Callable[[str], str],
    ) -> None:
        def owner(owner_id: str) -> str:
            found = member(owner_id)
            if not found:
                return escaped_text(owner_id)
            return f'<a href="{escaped_text(link(owner_url(found.id)))}">{escaped_text(found.name)}</a>'

        def company(name: str | None) -> str:
            return f'<a href="{escaped_text(link(company_url(name)))}">{escaped_text(name)}</a>' if name else DASH

        self.owners, self.companies = Shared(owner), Shared(company)
        self.encoded_owners, self.encoded_companies = EncodedTexts(self.owners), EncodedTexts(self.companies)
        self.encoded_hrefs = Shared(lambda path: escaped_str(link(path)).encode())


# One ``Shown`` per build, one ``Links`` per build and depth: the arguments are every function and value their texts
# depend on (a new build's functions are new keys, so its texts are its own). Eight: a build's pages at a few depths;
# the dev server's earlier builds (each plans anew) are let go after a few rebuilds.
_shown = lru_cache(maxsize=8)(Shown)
_links = lru_cache(maxsize=8)(Links)


class Macros:
    """What the pages written in Python share: one page's values, its labels, its ``Shown`` texts and its ``Links``."""

    def __init__(self, values: Mapping[str, Any], environment: jinja2.Environment, autoescape: bool) -> None:
        self.values, self.filters = values, environment.filters
        member = values["member"]
        self.shown = shown = _shown(values["_"].label, values["ngettext"], environment, autoescape, member, values["stage"],
                                    values["config"].currency)
        self.links = _links(values["link"], member, values["owner_url"], values["company_url"])
        self.labels = shown.labels


class _Parts:
    """A lead page's text between the values it shows, labels included, as UTF-8: the same for every lead page of a
    build (``Encoded.lead_parts``), so a page joins one piece where it joined a few (~30 labels a page looked up)."""

    def __init__(self, labels: Mapping[str, bytes]) -> None:
        def joined(*texts: str | bytes) -> bytes:  # labels by name (bytes), text of the page (str)
            return b"".join(text.encode() if isinstance(text, str) else text for text in texts)

        label = labels.__getitem__
        self.nav = joined('<nav class="crumbs" aria-label="', label("Breadcrumb"), '"><a href="')
        self.all_leads = joined('">', label("All leads"), "</a> › <span>")
        self.edit_button = joined('">', label("Edit this file"), "</a></p>")
        self.facts = joined('</div>\n\n<div class="lead-grid">\n<section class="panel" aria-labelledby="facts-heading">\n<h2 id="facts-heading">',
                            label("Facts"), '</h2>\n<dl class="facts">\n<dt>', label("Value"), "</dt>\n<dd>")
        self.probability = joined("<dt>", label("Probability"), "</dt><dd>")
        self.set_on_lead = joined(' <span class="meta">', label("(set on the lead)"), "</span>")
        self.weighted = joined("</dd>\n<dt>", label("Weighted"), "</dt><dd>")
        self.expected_close = joined("<dt>", label("Expected close"), "</dt><dd>")
        self.closed_on = joined("<dt>", label("Closed on"), "</dt><dd>")
        self.reason = joined("<dt>", label("Reason"), "</dt><dd>")
        self.follow_up = joined("<dt>", label("Follow-up"), "</dt><dd>")
        self.overdue = joined(' <span class="badge warn">', label("overdue"), "</span>")
        self.next_step = joined("</dd>\n<dt>", label("Next step"), "</dt><dd>")
        self.created = joined("<dt>", label("Created"), "</dt><dd>")
        self.last_contact = joined("</dd>\n<dt>", label("Last contact"), "</dt><dd>")
        self.last_activity = joined("<dt>", label("Last activity"), "</dt><dd>")
        self.stage_since = joined("<dt>", label("In this stage since"), "</dt><dd>")
        self.source = joined("<dt>", label("Source"), "</dt><dd>")
        self.tags = joined("</dd>\n<dt>", label("Tags"), "</dt><dd>")
        self.contacts = joined("<h2>", label("Contacts"), "</h2>\n")
        self.history = joined('<section class="panel" aria-labelledby="history-heading">\n<h2 id="history-heading">', label("Stage history"),
                              '</h2>\n<ol class="timeline">\n')
        self.custom = joined('<section class="panel" aria-labelledby="custom-heading">\n<h2 id="custom-heading">', label("More fields"),
                             '</h2>\n<dl class="facts">\n')
        self.notes = joined('\n<section class="panel notes" aria-labelledby="notes-heading">\n<h2 id="notes-heading">', label("Notes"), "</h2>\n")
        self.no_notes = joined('<p class="empty">', label("No notes yet."), "</p>")
        self.file = joined('</section>\n\n<p class="file">', label("File:"), " <code>")
        self.edit_file = joined('">', label("Edit this file"), "</a>")


class _Page(Macros):
    """One lead page's content: the values the template reads, and its parts in the template's order, as UTF-8."""

    def __init__(self, values: Mapping[str, Any], environment: jinja2.Environment, autoescape: bool) -> None:
        super().__init__(values, environment, autoescape)
        self.lead: Lead = values["lead"]
        self.lf: LeadFigures = values["lf"]
        self.config: Config = values["config"]
        self.encoded = encoded = self.shown.encoded
        self.parts = encoded.lead_parts
        self.out: list[bytes] = []

    def pieces(self) -> list[bytes]:
        values, lead, parts = self.values, self.lead, self.parts
        edit = values["edit_url"](lead)
        self.head(edit)
        self.facts()
        self.qualification()
        self.contacts()
        self.history()
        self.custom()
        out = self.out
        out.append(parts.notes)
        body = lead.body
        if body and not body.isspace():  # the template's ``lead.body.strip()``, without a copy of the body
            out.append(escaped_text(values["notes"](body)).encode())
        else:
            out.append(parts.no_notes)
        out += (parts.file, escaped_str(lead.path).encode(), b"</code>")
        if edit:
            out += (_DOT_LINK, escaped_text(edit).encode(), parts.edit_file)
        out.append(b"</p>\n")
        return out

    def head(self, edit: str | None) -> None:
        lead, encoded, links, parts, out = self.lead, self.encoded, self.links, self.parts, self.out
        title = escaped_str(lead.title).encode()
        out += (parts.nav, links.encoded_hrefs["leads.html"], parts.all_leads, title, b'</span></nav>\n<div class="lead-head">\n<div>\n<h1>', title,
                b'</h1>\n<p class="subtitle">\n')
        if lead.company:
            out += (links.encoded_companies[lead.company], _DOT)
        out += (links.encoded_owners[lead.owner], b'\n</p>\n<p class="badges">', encoded.status_badges[lead.status])
        if lead.stage:
            out.append(encoded.stage_badges[lead.stage])
        out += (encoded.badges[badge_key(self.lf)], b"</p>\n</div>\n")
        if edit:
            out += (b'<p class="actions"><a class="button" href="', escaped_text(edit).encode(), parts.edit_button)

    def facts(self) -> None:
        lead, lf, encoded, parts, out = self.lead, self.lf, self.encoded, self.parts, self.out
        days, amounts, counts = encoded.days, encoded.amounts, encoded.counts
        out.append(parts.facts)
        if lead.value is not None and lead.currency != self.config.currency:
            out += (escaped_str(self.filters["money"](lead.value, lead.currency)).encode(), b' <span class="meta">(= ',
                    amounts[lf.value], b")</span>")
        else:
            out.append(amounts[lf.value])
        out.append(b"</dd>\n")
        status = lead.status
        if status in OPEN:
            out += (parts.probability, encoded.percents[lf.probability])
            if lead.probability is not None:
                out.append(parts.set_on_lead)
            out += (parts.weighted, amounts[lf.weighted], b"</dd>\n")
        if status == "active":
            out += (parts.expected_close, days[lead.expected_close], b"</dd>\n")
        if lead.closed_on:
            out += (parts.closed_on, days[lead.closed_on], b"</dd>")
        if lead.reason:
            out += (parts.reason, escaped_str(lead.reason).encode(), b"</dd>")
        if status in OPEN:
            out += (parts.follow_up, days[lead.follow_up])
            if lf.follow_up_overdue:
                out.append(parts.overdue)
            out += (parts.next_step, escaped_str(lead.next_step or DASH).encode(), b"</dd>\n")
        out += (parts.created, days[lead.created])
        if lf.age_days is not None:
            out += (b' <span class="meta">', counts["(%(num)d day ago)", "(%(num)d days ago)", lf.age_days], b"</span>")
        out += (parts.last_contact, days[lead.last_contact], b"</dd>\n")
        if lf.days_since_touch is not None:
            out += (parts.last_activity, counts["%(num)d day ago", "%(num)d days ago", lf.days_since_touch], b"</dd>")
        if lf.stage_since and status == "active":
            out += (parts.stage_since, days[lf.stage_since], b"</dd>")
        out += (parts.source, escaped_str(lead.source or DASH).encode(), parts.tags)
        for tag in lead.tags:
            out += (b'<span class="tag">', escaped_str(tag).encode(), b"</span> ")
        if not lead.tags:
            out.append(_DASH)
        out.append(b"</dd>\n</dl>\n</section>\n\n")

    def qualification(self) -> None:
        criteria = self.config.qualification
        self.out.append(self.encoded.checklists[criteria, self.lf.qualified, tuple(map(self.lead.qualification.get, criteria))])

    def contacts(self) -> None:
        out, contact_url = self.out, self.values["contact_url"]
        if self.lead.contacts:
            out.append(self.parts.contacts)
        for contact in self.lead.contacts:  # texts only (lead.py), as their keys (strict_yaml.py)
            out += (b'<div class="contact">\n<p class="contact-name">', escaped_str(contact.get("name", DASH)).encode())
            if contact.get("role"):
                out += (_ROLE, escaped_str(contact["role"]).encode(), b"</span>")
            out.append(b"</p>\n<ul>\n")
            for key, value in contact.items():
                if key not in ("name", "role"):
                    url = contact_url(key, value)  # macros.html's contact_value
                    shown = f'<a href="{escaped_str(url)}">{escaped_str(value)}</a>' if url else self.field_value(value)
                    out += (b'<li><span class="meta">', escaped_str(key).encode(), b":</span> ", shown.encode(), b"</li>\n")
            out.append(b"</ul>\n</div>\n")
        out.append(b"</section>\n</div>\n\n")

    def history(self) -> None:
        lead, out = self.lead, self.out
        if not lead.history:
            out.append(b"\n")
            return
        out.append(self.parts.history)
        today = self.values["figures"].today if lead.status == "active" else None
        entries, durations = self.encoded.entries, self.encoded.durations
        for entry, after in zip(lead.history, [*lead.history[1:], None]):
            until: date | None = after.date if after is not None else today
            out += (entries[entry.date, entry.stage], durations[(until - entry.date).days] if until else b"</li>\n")
        out.append(b"</ol>\n</section>\n\n")

    def custom(self) -> None:
        out = self.out
        if self.lead.custom:
            out.append(self.parts.custom)
            for key, value in self.lead.custom.items():
                out += (b"<dt>", escaped_text(key).encode(), b"</dt><dd>", self.field_value(value).encode(), b"</dd>\n")
            out.append(b"</dl>\n</section>\n")

    # The page's own macro of macros.html (field_value), as it prints.

    def field_value(self, value: Any) -> str:
        if isinstance(value, str):
            if self.values["is_web_url"](value):
                return f'<a href="{escaped_text(self.values["safe_url"](value))}">{escaped_str(value)}</a>'
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
            return escaped_str(self.filters["date"](value)) if hasattr(value, "isoformat") else escaped_text(value)
        return ", ".join(map(escaped_text, items))
