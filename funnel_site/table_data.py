"""The all-leads table as data for ``leads-data.js``: what the table's script filters and sorts across every page.

A row is ``[filters, cells]``: ``filters`` is ``[status, stage, owner, source, tags]`` and each of the twelve
cells is ``[sort key, node, …]`` where a node is a text or ``["a", href, text]`` / ``["span", class, text]``.
The cells hold the same texts, links and sort keys as the rows of ``leads.html``; the script builds its rows
from them with ``textContent`` only.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from funnel_site.figures import LeadFigures

if TYPE_CHECKING:
    from funnel_site.fragments import Fragments

OPEN = ("active", "potential")
Node = str | list[str]
# Plain JSON is a JavaScript expression; these are escaped anyway so the file never holds markup.
_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_./~-]*")


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
    env: jinja2.Environment, rows: Iterable[LeadFigures], stage_order: Mapping[str, int], currency: str, labels: Mapping[str, str],
    fragments: Fragments | None = None, spliced: Spliced | None = None,
) -> Markup:
    """``window.funnelLeads = {"rows": [...]};`` for ``rows`` in table order.

    ``env`` gives the page helpers and filters the table's template uses; ``labels`` the translated badge
    and status texts (keys ``overdue``, ``stale``, ``qualified`` and every status). ``fragments`` (serve)
    keep the row of each unchanged lead (labels and stages come from config and templates: the dev session
    starts afresh when those change). With ``spliced`` the rows are left to it.
    """
    cells = _Cells(env, stage_order, currency, labels)
    rows = list(rows)
    pieces = [b'{"rows":[']  # what _json writes for the whole list
    if fragments is None:
        for start in range(0, len(rows), BATCH):  # a batch at a time: the rows never exist as lists all at once
            batch = _escaped(_json([[_filters(f), cells(f)] for f in rows[start:start + BATCH]]))[1:-1]
            pieces.append(("," + batch if start else batch).encode())
    else:
        kept = fragments.pieces("leads-data.js", rows, lambda missing: [_escaped(_json([_filters(f), cells(f)])).encode() for f in missing])
        pieces.append(b",".join(kept))
    pieces.append(b"]}")
    if spliced is not None and not spliced.plain:
        spliced.rows = pieces
        return Markup(f"window.funnelLeads = {SLOT};")
    return Markup(f"window.funnelLeads = {b''.join(pieces).decode()};")  # the template ends the line


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _escaped(text: str) -> str:
    for raw, escaped in _ESCAPES:
        text = text.replace(raw, escaped)  # str.replace per character: far quicker than str.translate on megabytes
    return text


def _filters(f: LeadFigures) -> list[Any]:
    lead = f.lead
    return [lead.status, lead.stage or "", lead.owner, lead.source or "", list(lead.tags)]


class _Cells:
    """The cells of a lead's row. The cells of an owner, stage, status or company are the same in every row
    that shows it, so each is made once per script (shared lists: JSON writes them alike)."""

    def __init__(self, env: jinja2.Environment, stage_order: Mapping[str, int], currency: str, labels: Mapping[str, str]) -> None:
        self.money: Callable[..., str] = env.filters["money"]
        self.percent: Callable[..., str] = env.filters["percent"]
        self.date: Callable[..., str] = env.filters["date"]
        self.page_url, self.company_url, self.owner_url = (env.globals[name] for name in ("page_url", "company_url", "owner_url"))
        self.member, self.stage = env.globals["member"], env.globals["stage"]
        self.currency = currency
        self.stage_order = stage_order
        self.labels = {key: Markup(text).unescape() for key, text in labels.items()}  # texts, not markup
        self.kept: dict[tuple[Callable[[Any], list[Any]], Any], list[Any]] = {}  # the cells every lead of a company, status, stage or owner shares

    def __call__(self, f: LeadFigures) -> list[list[Any]]:
        lead = f.lead
        active, open_ = lead.status == "active", lead.status in OPEN
        when = lead.closed_on or lead.expected_close
        return [
            [lead.title, ["a", _href(self.page_url(lead)), lead.title], *self._badges(f)],
            self._shared(self._company, lead.company),
            self._shared(self._status, lead.status),
            self._shared(self._stage, lead.stage),
            self._shared(self._owner, lead.owner),
            [_number(f.value), self.money(f.value, self.currency, False)],
            [_number(f.probability), self.percent(f.probability)],
            [_number(f.weighted) if active else -1, self.money(f.weighted, self.currency, False) if active else "–"],
            [when.isoformat() if when else "", self.date(when)],
            [lead.follow_up.isoformat() if lead.follow_up and open_ else "", self.date(lead.follow_up) if open_ else "–"],
            [lead.source or "", lead.source or "–"],
            [" ".join(lead.tags), *[node for tag in lead.tags for node in (["span", "tag", tag], " ")]],
        ]

    def _shared(self, make: Callable[[Any], list[Any]], value: Any) -> list[Any]:
        """``make(value)``, made once per value: thousands of rows show the same few owners, stages and statuses."""
        cell = self.kept.get((make, value))
        if cell is None:
            cell = self.kept[(make, value)] = make(value)
        return cell

    def _company(self, company: str | None) -> list[Any]:
        return [company or "", ["a", _href(self.company_url(company)), company] if company else "–"]

    def _status(self, status: str) -> list[Any]:
        return [status, ["span", f"badge status-{status}", self.labels.get(status, status)]]

    def _stage(self, stage_id: str | None) -> list[Any]:
        stage = self.stage(stage_id)
        return [self.stage_order.get(stage_id or "", -1), stage.name if stage else (stage_id or "–")]

    def _owner(self, owner: str) -> list[Any]:
        member = self.member(owner)
        return [member.name if member else owner, ["a", _href(self.owner_url(member.id)), member.name] if member else owner]

    def _badges(self, f: LeadFigures) -> list[Node]:
        found: list[Node] = []
        for shown, css, key in ((f.follow_up_overdue, "badge warn", "overdue"), (f.stale, "badge stale", "stale"),
                                (f.qualified and f.lead.status in OPEN, "badge ok", "qualified")):
            if shown:
                found += [" ", ["span", css, self.labels[key]]]
        return found


def _href(path: str) -> str:
    """The table's pages sit at the site root, so a site path is the href (quoted as ``link()`` does)."""
    return path if _PLAIN_PATH.fullmatch(path) else quote(path, safe="/")


def _number(value: Any) -> float:
    return -1 if value is None else float(value)
