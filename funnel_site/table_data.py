"""The all-leads table as data for ``leads-data.js``: what the table's script filters and sorts across every page.

A row is ``[filters, cells]``: ``filters`` is ``[status, stage, owner, source, tags]`` and each of the twelve
cells is ``[sort key, node, …]`` where a node is a text or ``["a", href, text]`` / ``["span", class, text]``.
The cells hold the same texts, links and sort keys as the rows of ``leads.html``; the script builds its rows
from them with ``textContent`` only.
"""

from __future__ import annotations

import json
from datetime import date
from json.encoder import encode_basestring as _text  # how _json writes a str (in C)
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import jinja2
from markupsafe import Markup

from funnel_site import views
from funnel_site.figures import LeadFigures
from funnel_site.quoting import quoted_path
from funnel_site.shared_texts import SharedTexts

if TYPE_CHECKING:
    from funnel_site.fragments import Fragments

OPEN = ("active", "potential")
Node = str | list[str]
# Plain JSON is a JavaScript expression; these are escaped anyway so the file never holds markup.
_ESCAPES = tuple(
    (raw.encode(), escaped.encode())
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))
)


SLOT = "\ue004"  # a private-use character standing for the rows in the rendered page
BATCH = 1000  # rows encoded at a time when none are kept


class Spliced:
    """The rows of ``leads-data.js`` as UTF-8 pieces: the page is rendered around ``SLOT`` and the megabytes
    (65 MB at 100k leads) are put in as bytes once, not built as one text, copied through the template's
    strings and encoded again."""

    def __init__(self) -> None:
        self.rows: list[bytes] | None = None
        self.plain = False  # the page holds the marker itself: the rows go through the template after all

    def fill(self, page: bytes) -> bytes | None:
        """The page with the rows in place; ``None`` when it does not hold the marker exactly once. The rows are
        let go: a page is filled once."""
        parts = page.split(SLOT.encode())
        rows, self.rows = self.rows, None
        if rows is None or len(parts) != 2:
            return None
        return b"".join([parts[0], *rows, parts[1]])


def leads_script(
    env: jinja2.Environment, rows: Iterable[LeadFigures], stage_order: Mapping[str, int], currency: str, today: date,
    labels: Mapping[str, str], fragments: Fragments | None = None, spliced: Spliced | None = None,
) -> Markup:
    """``window.funnelLeads = {"rows": [...]};`` for ``rows`` in table order.

    ``env`` gives the page helpers and filters the table's template uses; ``labels`` the translated badge
    and status texts (keys ``overdue``, ``stale``, ``qualified`` and every status). ``fragments`` (serve)
    keep the row of each unchanged lead (labels and stages come from config and templates: the dev session
    starts afresh when those change). With ``spliced`` the rows are left to it.
    """
    row = _Row(env, stage_order, currency, today, labels)
    rows = list(rows)
    pieces = [b'{"rows":[']  # what _json writes for the whole list
    if fragments is None:
        for start in range(0, len(rows), BATCH):  # a batch at a time: the rows never exist as one text all at once
            batch = ",".join([row(f) for f in rows[start:start + BATCH]])
            pieces.append(_escaped(("," + batch if start else batch).encode()))
    else:
        kept = fragments.pieces("leads-data.js", rows, lambda missing: [_escaped(row(f).encode()) for f in missing])
        pieces.append(b",".join(kept))
    pieces.append(b"]}")
    if spliced is not None and not spliced.plain:
        spliced.rows = pieces
        return Markup(f"window.funnelLeads = {SLOT};")
    return Markup(f"window.funnelLeads = {b''.join(pieces).decode()};")  # the template ends the line


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _escaped(data: bytes) -> bytes:
    """The JSON's UTF-8 with ``_ESCAPES`` made: a replace per character is far quicker than a translate on megabytes,
    and quicker on the bytes than on the text (each character of a text holding "ü" or "–" is two bytes to search)."""
    for raw, escaped in _ESCAPES:
        data = data.replace(raw, escaped)
    return data


class _Row:
    """A lead's row as the JSON text ``_json`` writes for it. Besides the filters, only the title's and the tags' cells
    are the lead's own: the others show a value that many rows share (a company, status, stage or owner, an amount,
    a probability, a day, a source), so each such cell is written once per script and then reused as text."""

    def __init__(self, env: jinja2.Environment, stage_order: Mapping[str, int], currency: str, today: date, labels: Mapping[str, str]) -> None:
        money: Callable[..., str] = env.filters["money"]
        percent: Callable[..., str] = env.filters["percent"]
        date: Callable[..., str] = env.filters["date"]
        self.page_url: Callable[[Any], str] = env.globals["page_url"]
        company_url, owner_url, member, stage = (env.globals[name] for name in ("company_url", "owner_url", "member", "stage"))
        self.labels = {key: Markup(text).unescape() for key, text in labels.items()}  # texts, not markup

        def company_cell(company: str | None) -> str:
            """``[company, ["a", href, company]]`` as ``_json`` writes it: written here, the texts of most companies
            are written once a script anyway."""
            if not company:
                return _NO_COMPANY
            name = _text(company)
            return f'[{name},["a",{_text(quoted_path(company_url(company)))},{name}]]'

        def status_cell(status: str) -> list[Any]:
            return [status, ["span", f"badge status-{status}", self.labels.get(status, status)]]

        def stage_cell(stage_id: str | None) -> list[Any]:
            found = stage(stage_id)
            return [stage_order.get(stage_id or "", -1), found.name if found else (stage_id or "–")]

        def owner_cell(owner: str) -> list[Any]:
            found = member(owner)
            return [found.name if found else owner, ["a", quoted_path(owner_url(found.id)), found.name] if found else owner]

        self.today = today
        self.attention = SharedTexts(lambda needs: _json(needs.split()))  # "due stale" -> ["due","stale"]
        self.company = SharedTexts(company_cell)
        self.status, self.stage, self.owner = (
            SharedTexts(lambda value, cell=cell: _json(cell(value))) for cell in (status_cell, stage_cell, owner_cell))
        self.amount = SharedTexts(lambda value: _pair(_number(value), money(value, currency, False)))
        self.probability = SharedTexts(lambda value: _pair(_number(value), percent(value)))
        self.day = SharedTexts(lambda day: _pair(day.isoformat() if day else "", date(day)))
        self.source = SharedTexts(lambda source: _pair(source or "", source or "–"))
        self.badges = SharedTexts(lambda shown: "".join("," + _json(node) for node in self._badges(shown)))

    def __call__(self, f: LeadFigures) -> str:
        lead = f.lead
        status, tags = lead.status, lead.tags
        active, open_ = status == "active", status in OPEN
        title = _text(lead.title)
        badges = self.badges[f.follow_up_overdue, f.stale, f.qualified and open_]
        tag_texts = list(map(_text, tags))  # most leads have a set of tags of their own: written each time
        filters = (f"[{_text(status)},{_text(lead.stage or '')},{_text(lead.owner)},{_text(lead.source or '')},[{','.join(tag_texts)}],"
                   f"{self.attention[views.attention(f, self.today)]}]")
        amount, day = self.amount, self.day
        return (
            f'[{filters},[[{title},["a",{_text(quoted_path(self.page_url(lead)))},{title}]{badges}],'
            f"{self.company[lead.company]},{self.status[status]},{self.stage[lead.stage]},{self.owner[lead.owner]},"
            f"{amount[f.value]},{self.probability[f.probability]},{amount[f.weighted] if active else _NOT_ACTIVE},"
            f"{day[lead.closed_on or lead.expected_close]},{day[lead.follow_up if open_ else None]},"
            f"{self.source[lead.source]},{_tags_cell(tags, tag_texts)}]]"
        )

    def _badges(self, shown: tuple[bool, bool, bool]) -> list[Node]:
        """What follows the title's link: a space and a badge for each of overdue, stale and qualified shown."""
        found: list[Node] = []
        for show, css, key in zip(shown, ("badge warn", "badge stale", "badge ok"), ("overdue", "stale", "qualified")):
            if show:
                found += [" ", ["span", css, self.labels[key]]]
        return found


_NOT_ACTIVE = _json([-1, "–"])  # the weighted cell of a lead that is not active
_NO_COMPANY = _json(["", "–"])


def _tags_cell(tags: Sequence[str], texts: Sequence[str]) -> str:
    """``[" ".join(tags), ["span", "tag", tag], " ", …]`` as JSON, ``texts`` the tags' JSON texts."""
    nodes = "".join([_TAG_NODES % tag for tag in texts])
    return f"[{_text(' '.join(tags))}{nodes}]"


_TAG_NODES = ',["span","tag",%s]," "'  # a tag's nodes after the cell's sort key


def _pair(key: float | str, text: str) -> str:
    """``[key, text]`` as ``_json`` writes it: a number as its ``repr`` (json's way with a finite float)."""
    return f"[{_text(key) if isinstance(key, str) else repr(key)},{_text(text)}]"


def _number(value: Any) -> float:
    return -1 if value is None else float(value)
