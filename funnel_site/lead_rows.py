"""The rows of the built-in all-leads table (templates/rows-leads.html) written in Python: the same text.

Every lead is a row of leads.html, so a 10k-lead site renders 10k rows: ~33 us each from the template (its
share of the page included), ~16 us here. The rows read the values the template reads, from the context ``rows_of`` gives them
(fragments.py), and call the same filters, labels and links. They replace the template's code only where
rows-leads.html and the macros.html it imports are the built-in ones (``install``); a pipeline's own
renders as written.

Kept equal to the template by tests/test_lead_rows.py, which renders the rows both ways and compares the bytes.
"""

from __future__ import annotations

from typing import Any, Iterator

import jinja2

from funnel_site.engine import escaped_str, escaped_text
from funnel_site.figures import LeadFigures
from funnel_site.lead_page import DASH, OPEN, STATUS_LABELS, Macros, badges, builtin_parts
from funnel_site.views import attention, stage_order

TEMPLATE = "rows-leads.html"


def install(env: jinja2.Environment) -> None:
    """Let ``env``'s rows-leads.html render with ``rows``, where it and macros.html are the built-in ones."""
    if builtin_parts(env, TEMPLATE, "macros.html"):
        env.get_template(TEMPLATE).root_render_func = rows


def rows(context: jinja2.runtime.Context) -> Iterator[str]:
    """The template's output, as Jinja calls a template's code: a generator of the text."""
    macros = Macros(context)
    values, labels = macros.values, macros.labels
    filters = context.environment.filters
    money, percent, day, json_attr = filters["money"], filters["percent"], filters["date"], filters["json_attr"]
    link, page_url, company_url, owner_url = values["link"], values["page_url"], values["company_url"], values["owner_url"]
    member, stage = values["member"], values["stage"]
    currency, order, today = values["config"].currency, stage_order(values["config"]), values["figures"].today
    row_end = escaped_text(values["row_end"])
    status_badges = {status: macros.status_badge(status) for status in STATUS_LABELS}  # made once, as the template does
    # The other cells' links are written out here, as rows-leads.html writes them: calling the macros (``Macros``) per
    # cell cost a row ~15 % more.
    out: list[str] = []
    lf: LeadFigures
    for lf in values["rows"]:
        lead = lf.lead
        when = lead.closed_on or lead.expected_close
        title = escaped_str(lead.title)
        out += ('<tr data-status="', lead.status, '" data-stage="', escaped_str(lead.stage or ""), '" data-owner="',
                escaped_str(lead.owner), '" data-source="', escaped_str(lead.source or ""), '" data-tags="',
                escaped_str(json_attr(lead.tags)), '" data-attention="', attention(lf, today), '">\n<th scope="row" data-sort="', title, '"><a href="',
                escaped_str(link(page_url(lead))), '">', title, "</a>")
        if lf.follow_up_overdue or lf.stale or lf.qualified:
            out.append(badges(lf, labels))
        company = lead.company
        out += ('</th>\n<td data-sort="', escaped_str(company or ""), '">')
        if company:
            out += ('<a href="', escaped_str(link(company_url(company))), '">', escaped_str(company), "</a>")
        else:
            out.append(DASH)
        lead_stage = stage(lead.stage)
        out += ('</td>\n<td data-sort="', lead.status, '">', status_badges[lead.status], '</td>\n<td data-sort="',
                str(order.get(lead.stage, -1)), '">', escaped_str(lead_stage.name) if lead_stage else escaped_str(lead.stage) if lead.stage else DASH)
        owner = member(lead.owner)
        out += ('</td>\n<td data-sort="', escaped_str(owner.name if owner else lead.owner), '">')
        if owner:
            out += ('<a href="', escaped_str(link(owner_url(owner.id))), '">', escaped_str(owner.name), "</a>")
        else:
            out.append(escaped_str(lead.owner))
        active = lead.status == "active"
        out += ('</td>\n<td class="num" data-sort="', _number(lf.value), '">', escaped_str(money(lf.value, currency, False)),
                '</td>\n<td class="num" data-sort="', escaped_text(lf.probability), '">', escaped_str(percent(lf.probability)),
                '</td>\n<td class="num" data-sort="', _number(lf.weighted if active else None), '">',
                escaped_str(money(lf.weighted, currency, False)) if active else DASH,
                '</td>\n<td data-sort="', when.isoformat() if when else "", '">', escaped_str(day(when)), '</td>\n<td data-sort="')
        if lead.status in OPEN:
            out += (lead.follow_up.isoformat() if lead.follow_up else "", '">', escaped_str(day(lead.follow_up)))
        else:
            out += ('">', DASH)
        out += ('</td>\n<td data-sort="', escaped_str(lead.source or ""), '">', escaped_str(lead.source or DASH),
                '</td>\n<td data-sort="', escaped_str(" ".join(lead.tags)), '">')
        for tag in lead.tags:
            out += ('<span class="tag">', escaped_str(tag), "</span> ")
        out += ("</td>\n</tr>\n", row_end)
    yield "".join(out)


def _number(value: Any) -> str:
    """A sort key as the template prints it: the number, or -1 for none."""
    return escaped_text(value if value is not None else -1)
