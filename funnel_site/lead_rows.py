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
from funnel_site.views import attention, stage_order

TEMPLATE = "rows-leads.html"


def install(env: jinja2.Environment) -> None:
    """Let ``env``'s rows-leads.html render with ``rows``, where it and macros.html are the built-in ones."""
    if builtin_parts(env, TEMPLATE, "macros.html"):
        env.get_template(TEMPLATE).root_render_func = rows


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
