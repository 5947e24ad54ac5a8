"""The rows of the built-in all-leads table (templates/rows-leads.html) written in Python: the same text.

Every lead is a row of leads.html, so a 10k-lead site renders 10k rows: ~33 us each from the template (its
share of the page included), 13-20 us here (its texts written before or not). The rows read the values the template
reads, from the context ``rows_of`` gives them (fragments.py), and call the same filters, labels and links; the cells
of values many rows share (a company, status, stage, owner, day, source) are written once per build (``_Cells``).
They replace the template's code only where rows-leads.html and the macros.html it imports are the built-in ones
(``install``); a pipeline's own renders as written.

Kept equal to the template by tests/test_lead_rows.py, which renders the rows both ways and compares the bytes.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterator

import jinja2

from funnel_site.engine import escaped_str, escaped_text
from funnel_site.figures import LeadFigures
from funnel_site.lead_page import DASH, OPEN, Links, Macros, Shared, Shown, badges, builtin_parts, page_of
from funnel_site.shared_texts import SharedTexts
from funnel_site.views import Group, attention, stage_order

TEMPLATE = "rows-leads.html"
OWNER_TEMPLATE = "rows-owner-leads.html"
COMPANY_TEMPLATE = "rows-companies.html"


def install(env: jinja2.Environment) -> None:
    """Let ``env``'s rows-leads.html, rows-owner-leads.html and rows-companies.html render with ``rows``, ``owner_rows`` and
    ``company_rows``, each where it (and the macros.html it imports) is the built-in one."""
    for name, render in ((TEMPLATE, rows), (OWNER_TEMPLATE, owner_rows), (COMPANY_TEMPLATE, company_rows)):
        if builtin_parts(env, name, "macros.html"):
            env.get_template(name).root_render_func = render


def rows(context: jinja2.runtime.Context) -> Iterator[str]:
    """The template's output, as Jinja calls a template's code: a generator of the text."""
    macros = Macros(*page_of(context))
    values, shown = macros.values, macros.shown
    json_attr, link, page_url, today = macros.filters["json_attr"], values["link"], values["page_url"], values["figures"].today
    amounts, percents = shown.whole_amounts, shown.percents
    cells = _cells(shown, macros.links)
    companies, statuses, owners, days, sources = cells.companies, cells.statuses, cells.owners, cells.days, cells.sources
    order = stage_order(values["config"])
    stages = SharedTexts(lambda stage_id: f'<td data-sort="{order.get(stage_id, -1)}">{shown.stage_names[stage_id]}</td>\n')
    row_end = "</td>\n</tr>\n" + escaped_text(values["row_end"])
    out: list[str] = []
    lf: LeadFigures
    for lf in values["rows"]:
        lead = lf.lead
        status, tags, value, weighted = lead.status, lead.tags, lf.value, lf.weighted
        title = escaped_str(lead.title)
        out += ('<tr data-status="', status, '" data-stage="', escaped_str(lead.stage or ""), '" data-owner="', escaped_str(lead.owner),
                '" data-source="', escaped_str(lead.source or ""), '" data-tags="', escaped_str(json_attr(tags)), '" data-attention="',
                attention(lf, today), '">\n<th scope="row" data-sort="', title, '"><a href="', escaped_str(link(page_url(lead))), '">', title, "</a>")
        if lf.follow_up_overdue or lf.stale or lf.qualified:
            out.append(badges(lf, macros.labels))
        # the amounts' sort keys as the template prints them: the number (equal amounts may print differently: 1.0, 1), or -1
        out += ("</th>\n", companies[lead.company], statuses[status], stages[lead.stage], owners[lead.owner],
                '<td class="num" data-sort="', str(value) if value is not None else "-1", '">', amounts[value],
                '</td>\n<td class="num" data-sort="', str(lf.probability), '">', percents[lf.probability])
        if status == "active":
            out += ('</td>\n<td class="num" data-sort="', str(weighted) if weighted is not None else "-1", '">', amounts[weighted], "</td>\n")
        else:
            out.append(_NOT_ACTIVE)
        # most leads have a list of tags of their own (10k corpus: 4,993 lists): written each time
        out += (days[lead.closed_on or lead.expected_close], days[lead.follow_up if status in OPEN else None], sources[lead.source],
                '<td data-sort="', escaped_str(" ".join(tags)), '">')
        for tag in tags:
            out += ('<span class="tag">', escaped_str(tag), "</span> ")
        out.append(row_end)
    yield "".join(out)


_NOT_ACTIVE = '</td>\n<td class="num" data-sort="-1">–</td>\n'  # the weighted cell of a lead that is not active


def owner_rows(context: jinja2.runtime.Context) -> Iterator[str]:
    """rows-owner-leads.html's output: an owner's page lists all the owner's leads (10k corpus: ~830 rows a page, ~40 us
    a row from the template), with the cells many rows share from ``Shown`` and ``Links``."""
    macros = Macros(*page_of(context))
    values, shown, labels = macros.values, macros.shown, macros.labels
    link, page_url, companies = values["link"], values["page_url"], macros.links.companies
    amounts, days, stage_names, status_badges = shown.whole_amounts, shown.days, shown.stage_names, shown.status_badges
    row_end = "</td>\n</tr>\n" + escaped_text(values["row_end"])
    out: list[str] = []
    lf: LeadFigures
    for lf in values["rows"]:
        lead = lf.lead
        status = lead.status
        out += ('<tr>\n<th scope="row"><a href="', escaped_str(link(page_url(lead))), '">', escaped_str(lead.title), "</a>")
        if lf.follow_up_overdue or lf.stale or lf.qualified:
            out.append(badges(lf, labels))
        out += ("</th>\n<td>", companies[lead.company], "</td><td>", status_badges[status], "</td>\n<td>", stage_names[lead.stage],
                '</td>\n<td class="num">', amounts[lf.value], '</td>\n<td class="num">', amounts[lf.weighted] if status == "active" else DASH,
                "</td>\n<td>", days[lead.closed_on or lead.expected_close], "</td>\n<td>", days[lead.follow_up] if status in OPEN else DASH,
                row_end)
    yield "".join(out)


def company_rows(context: jinja2.runtime.Context) -> Iterator[str]:
    """rows-companies.html's output: a row per company (10k corpus: 3,538 rows, ~35 us a row from the template). A company's
    link is the one the table's rows showed (``Links``: the same page depth)."""
    macros = Macros(*page_of(context))
    values, shown = macros.values, macros.shown
    groups: list[Group] = values["rows"]
    if not groups:
        yield f'<tr><td colspan="7">{macros.labels["No lead names a company."]}</td></tr>\n'
        return
    link, company_url, companies = values["link"], values["company_url"], macros.links.companies
    amounts, days = shown.whole_amounts, shown.days
    row_end = "</td>\n</tr>\n" + escaped_text(values["row_end"])
    out: list[str] = []
    for group in groups:
        key, label = group.key, group.label
        counts = group.counts
        count = counts.get
        out += ('<tr>\n<th scope="row">',
                companies[key] if key == label else f'<a href="{escaped_str(link(company_url(key)))}">{escaped_text(label)}</a>',
                '</th>\n<td class="num">', str(count("active", 0) + count("potential", 0)), '</td>\n<td class="num">', str(count("won", 0)),
                '</td>\n<td class="num">', str(count("lost", 0) + count("cancelled", 0)), '</td>\n<td class="num">', amounts[group.open_value],
                '</td>\n<td class="num">', amounts[group.won_value], "</td>\n<td>", days[group.next_follow_up], row_end)
    yield "".join(out)


class _Cells:
    """The cells of values that many rows show (a company, status, owner, day, source), each written once per build and
    depth (``_cells``)."""

    def __init__(self, shown: Shown, links: Links) -> None:
        self.companies = Shared(lambda company: f'<td data-sort="{escaped_str(company or "")}">{links.companies[company]}</td>\n')
        self.statuses = Shared(lambda status: f'<td data-sort="{status}">{shown.status_badges[status]}</td>\n')
        self.owners = Shared(lambda owner_id: f'<td data-sort="{shown.owner_names[owner_id]}">{links.owners[owner_id]}</td>\n')
        self.days = Shared(lambda day: f'<td data-sort="{day.isoformat() if day else ""}">{shown.days[day]}</td>\n')
        self.sources = Shared(lambda source: f'<td data-sort="{escaped_str(source or "")}">{escaped_str(source or DASH)}</td>\n')


@lru_cache(maxsize=8)
def _cells(shown: Shown, links: Links) -> _Cells:
    return _Cells(shown, links)
