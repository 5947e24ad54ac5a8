"""The content of the built-in company page (templates/company.html, block ``content``) written in Python: the same text.

A 10k-lead site has a few thousand company pages (3,538 in the 10k corpus), and this block was most of their
template work: four tiles and a table of the company's leads, whose rows macros.html's ``lead_table`` writes
out, ~110 us a page as a Jinja block, ~40 us here. The block reads the values the template reads, from the
page's context, and calls the same filters, labels and links; the texts of macros and filters many leads share
come from ``lead_page.Shown``, written once per build. It replaces the
template's block only where company.html and the macros.html it imports are the built-in ones (``install``);
a pipeline's own company.html or macros.html renders as written.

Kept equal to the template by tests/test_company_page.py, which renders the pages of several pipelines both ways
and compares the bytes: change company.html (or the macros it calls), and the test shows what to change here.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Callable, Iterator

import jinja2

from funnel_site import views
from funnel_site.engine import escaped_str, escaped_text
from funnel_site.figures import LeadFigures
from funnel_site.lead_page import DASH, OPEN, Encoded, Macros, Shared, builtin_parts, page_of


def install(env: jinja2.Environment) -> None:
    """Let ``env``'s company.html render its content with ``content``, where it and the macros.html it imports are built-in."""
    if builtin_parts(env, "company.html", "macros.html"):
        env.get_template("company.html").blocks["content"] = content


def content(context: jinja2.runtime.Context) -> Iterator[str]:
    """The block, as Jinja calls a block: a generator of the text."""
    yield text(*page_of(context))


def text(values: Mapping[str, Any], environment: jinja2.Environment, autoescape: bool) -> str:
    """The content of one company page (``content`` without the generator): the values of its context, its environment,
    whether it autoescapes (``page_of``). Decoded from ``pieces``: only where a pipeline's own base.html frames the block."""
    return b"".join(pieces(values, environment, autoescape)).decode()


def pieces(values: Mapping[str, Any], environment: jinja2.Environment, autoescape: bool) -> list[bytes]:
    """The content of one company page as UTF-8, in pieces for ``lead_page.framed`` to join with the frame's (as the
    lead page's: bytes joined, not a UCS-2 text encoded character by character)."""
    return _Page(values, environment, autoescape).pieces()


def tile_head(label: str, tone: str) -> str:
    """macros.html's ``tile`` up to its value, of a label already escaped."""
    head = f'<div class="tile {tone}">' if tone else '<div class="tile">'
    return f'{head}\n<p class="tile-label">{label}</p>\n<p class="tile-value">'


_DETAIL, _TILE_END = '</p>\n<p class="tile-detail">', "</p></div>"  # a tile's text after its value and after its detail (each has one)


class _Parts:
    """A company page's text between the values it shows, labels included, as UTF-8, and the cells many rows share: the same
    for every company page of a build (``_parts``)."""

    def __init__(self, encoded: Encoded, number: Callable[[Any], str]) -> None:
        def joined(*texts: str) -> bytes:
            return "".join(texts).encode()

        labels = encoded.shown.labels
        # a row's cells: its status's (after the lead's badges) and its stage's
        self.status_cells = Shared(lambda status: b"</th>\n<td>" + encoded.status_badges[status] + b"</td>\n<td>")
        self.stage_cells = Shared(lambda stage: encoded.stage_names[stage] + b"</td>\n<td>")
        self.numbers = Shared(lambda value: escaped_str(number(value)).encode())  # the ideas' tile's

        self.nav = joined('<nav class="crumbs" aria-label="', labels["Breadcrumb"], '"><a href="')
        self.companies = joined('">', labels["Companies"], "</a> › <span>")
        self.open = tile_head(labels["Open pipeline"], "").encode()
        self.detail = _DETAIL.encode()
        self.won = joined(_TILE_END, "\n", tile_head(labels["Won"], "good"))
        self.ideas = joined(_TILE_END, "\n", tile_head(labels["Ideas"], ""))
        self.next_reminder = joined(_DETAIL, labels["up- and cross-selling potential"], _TILE_END, "\n", tile_head(labels["Next reminder"], ""))
        self.table = joined(
            _DETAIL, labels["earliest follow-up of an open lead"], _TILE_END, "\n</div>\n",
            '<div class="table-wrap" tabindex="0" role="region" aria-label="', labels["Scrollable table"], '">\n<table class="data">\n<caption>',
            labels["Leads of this company"], '</caption>\n<thead>\n<tr>\n<th scope="col">', labels["Lead"], '</th>\n<th scope="col">',
            labels["Status"], '</th>\n<th scope="col">', labels["Stage"], '</th>\n<th scope="col">', labels["Owner"],
            '</th><th scope="col" class="num">', labels["Value"], '</th>\n<th scope="col" class="num">', labels["Weighted"],
            '</th>\n<th scope="col">', labels["Close date"], '</th>\n<th scope="col">', labels["Follow-up"], "</th>\n</tr>\n</thead>\n<tbody>\n")


_parts = lru_cache(maxsize=8)(_Parts)  # one per build, as its ``Encoded``


# A row's text around its values (``_Page.lead_table``), as UTF-8
_ROW, _NOT_ACTIVE, _NOT_OPEN = (text.encode() for text in (
    '<tr>\n<th scope="row"><a href="', f'</td>\n<td class="num">{DASH}</td>\n<td>', f"</td>\n<td>{DASH}</td>\n</tr>\n"))


class _Page(Macros):
    """One company page's content: the values the template reads, and its parts in the template's order, as UTF-8."""

    def pieces(self) -> list[bytes]:
        company: views.Group = self.values["company"]
        encoded = self.shown.encoded
        self.parts = parts = _parts(encoded, self.filters["number"])
        counts = company.counts
        name = escaped_text(company.label).encode()
        out = [
            parts.nav, self.links.encoded_hrefs["companies.html"], parts.companies, name, b"</span></nav>\n<h1>", name, b'</h1>\n<div class="tiles">\n',
            parts.open, encoded.whole_amounts[company.open_value], parts.detail,
            encoded.counts["%(num)d active lead", "%(num)d active leads", counts.get("active", 0)],
            parts.won, encoded.whole_amounts[company.won_value], parts.detail, encoded.counts["%(num)d deal", "%(num)d deals", counts.get("won", 0)],
            parts.ideas, parts.numbers[counts.get("potential", 0)], parts.next_reminder, encoded.days[company.next_follow_up], parts.table,
        ]
        self.lead_table(views.sorted_leads(company.leads, self.values["config"]), out)
        out.append(b"</tbody>\n</table>\n</div>\n")
        return out

    def lead_table(self, leads: list[LeadFigures], out: list[bytes]) -> None:
        """The rows of macros.html's ``lead_table`` as the page calls it: with the owner, without the company, never empty (a company
        has leads)."""
        link, page_url, encoded, owners = self.values["link"], self.values["page_url"], self.shown.encoded, self.links.encoded_owners
        amounts, days, badges, status_cells, stage_cells = (
            encoded.whole_amounts, encoded.days, encoded.badges, self.parts.status_cells, self.parts.stage_cells)
        for lf in leads:
            lead = lf.lead
            status = lead.status
            out += (_ROW, escaped_str(link(page_url(lead))).encode(), b'">', escaped_str(lead.title).encode(), b"</a>",
                    badges[lf.follow_up_overdue, lf.stale, lf.qualified and status in OPEN], status_cells[status], stage_cells[lead.stage],
                    owners[lead.owner], b'</td><td class="num">', amounts[lf.value])
            if status == "active":
                out += (b'</td>\n<td class="num">', amounts[lf.weighted], b"</td>\n<td>")
            else:
                out.append(_NOT_ACTIVE)
            out.append(days[lead.closed_on or lead.expected_close])
            if status in OPEN:
                out += (b"</td>\n<td>", days[lead.follow_up], b"</td>\n</tr>\n")
            else:
                out.append(_NOT_OPEN)
