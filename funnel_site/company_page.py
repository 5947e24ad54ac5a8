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
from typing import Any, Iterator

import jinja2

from funnel_site import views
from funnel_site.engine import escaped_str, escaped_text
from funnel_site.figures import LeadFigures
from funnel_site.lead_page import DASH, OPEN, Macros, badges, builtin_parts, page_of


def install(env: jinja2.Environment) -> None:
    """Let ``env``'s company.html render its content with ``content``, where it and the macros.html it imports are built-in."""
    if builtin_parts(env, "company.html", "macros.html"):
        env.get_template("company.html").blocks["content"] = content


def content(context: jinja2.runtime.Context) -> Iterator[str]:
    """The block, as Jinja calls a block: a generator of the text."""
    yield text(*page_of(context))


def text(values: Mapping[str, Any], environment: jinja2.Environment, autoescape: bool) -> str:
    """The content of one company page (``content`` without the generator): the values of its context, its environment,
    whether it autoescapes (``page_of``)."""
    return _Page(values, environment, autoescape).text()


def pieces(values: Mapping[str, Any], environment: jinja2.Environment, autoescape: bool) -> list[bytes]:
    return [text(values, environment, autoescape).encode()]


def tile(label: str, value: str, detail: str, tone: str) -> str:
    """macros.html's ``tile`` with a detail (every tile of the page has one), of texts already escaped."""
    head = f'<div class="tile {tone}">' if tone else '<div class="tile">'
    return f'{head}\n<p class="tile-label">{label}</p>\n<p class="tile-value">{value}</p>\n<p class="tile-detail">{detail}</p></div>'


class _Page(Macros):
    """One company page's content: the values the template reads, and its parts in the template's order."""

    def text(self) -> str:
        company: views.Group = self.values["company"]
        labels, shown, filters = self.labels, self.shown, self.filters
        counts = company.counts
        name = escaped_text(company.label)
        return "".join((
            '<nav class="crumbs" aria-label="', labels["Breadcrumb"], '"><a href="', escaped_str(self.values["link"]("companies.html")), '">',
            labels["Companies"], "</a> › <span>", name, "</span></nav>\n<h1>", name, '</h1>\n<div class="tiles">\n',
            tile(labels["Open pipeline"], shown.whole_amounts[company.open_value],
                 shown.counts["%(num)d active lead", "%(num)d active leads", counts.get("active", 0)], ""), "\n",
            tile(labels["Won"], shown.whole_amounts[company.won_value],
                 shown.counts["%(num)d deal", "%(num)d deals", counts.get("won", 0)], "good"), "\n",
            tile(labels["Ideas"], escaped_str(filters["number"](counts.get("potential", 0))),
                 labels["up- and cross-selling potential"], ""), "\n",
            tile(labels["Next reminder"], shown.days[company.next_follow_up], labels["earliest follow-up of an open lead"], ""),
            "\n</div>\n", self.lead_table(views.sorted_leads(company.leads, self.values["config"])), "\n",
        ))

    def lead_table(self, leads: list[LeadFigures]) -> str:
        """macros.html's ``lead_table`` as the page calls it: with the owner, without the company, never empty (a company has leads)."""
        labels = self.labels
        out = ['<div class="table-wrap" tabindex="0" role="region" aria-label="', labels["Scrollable table"], '">\n<table class="data">\n<caption>',
               labels["Leads of this company"], '</caption>\n<thead>\n<tr>\n<th scope="col">', labels["Lead"], '</th>\n<th scope="col">',
               labels["Status"], '</th>\n<th scope="col">', labels["Stage"], '</th>\n<th scope="col">', labels["Owner"],
               '</th><th scope="col" class="num">', labels["Value"], '</th>\n<th scope="col" class="num">', labels["Weighted"],
               '</th>\n<th scope="col">', labels["Close date"], '</th>\n<th scope="col">', labels["Follow-up"], "</th>\n</tr>\n</thead>\n<tbody>\n"]
        link, page_url, shown, owners = self.values["link"], self.values["page_url"], self.shown, self.links.owners
        amounts, days = shown.whole_amounts, shown.days
        for lf in leads:
            lead = lf.lead
            status = lead.status
            out += ('<tr>\n<th scope="row"><a href="', escaped_str(link(page_url(lead))), '">', escaped_str(lead.title), "</a>",
                    badges(lf, labels), "</th>\n<td>", shown.status_badges[status], "</td>\n<td>", shown.stage_names[lead.stage],
                    "</td>\n<td>", owners[lead.owner], '</td><td class="num">', amounts[lf.value],
                    '</td>\n<td class="num">', amounts[lf.weighted] if status == "active" else DASH,
                    "</td>\n<td>", days[lead.closed_on or lead.expected_close], "</td>\n<td>",
                    days[lead.follow_up] if status in OPEN else DASH, "</td>\n</tr>\n")
        out.append("</tbody>\n</table>\n</div>")
        return "".join(out)
