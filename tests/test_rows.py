"""The rows of the pages over many leads: ``rows_of`` without the page's context, the table data's shared cells."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import jinja2
import pytest
from markupsafe import Markup

from funnel_site import formatting
from funnel_site.build import check
from funnel_site.formatting import Formatter
from funnel_site.fragments import Fragments, rows_renderer
from funnel_site.render import plan_site
from funnel_site.table_data import _Row, leads_script

SAMPLE = Path(__file__).parent / "data" / "sample"
ROWS = "{% for item in rows %}<li>{{ root }}{{ title }}:{{ item }}</li>{{ row_end }}{% endfor %}"


def _rows_of(fragments: Fragments | None, made: list[str]) -> Any:
    env = jinja2.Environment(loader=jinja2.DictLoader({"rows.html": ROWS}), autoescape=True)

    def variables(root: str) -> dict[str, Any]:
        made.append(root)
        return {"title": "<T>", "root": root}

    return rows_renderer(env, variables, fragments)


def test_rows_of_renders_with_the_builds_values_and_the_given_depth() -> None:
    made: list[str] = []
    assert _rows_of(None, made)("rows.html", ["a", "b&"], "../") == "<li>../&lt;T&gt;:a</li><li>../&lt;T&gt;:b&amp;</li>"
    assert made == ["../"]


def test_rows_of_in_serve_keeps_each_row_by_depth() -> None:
    fragments, made = Fragments(), []
    rows_of = _rows_of(fragments, made)
    items = ["a", "b"]
    first = rows_of("rows.html", items, "")
    fragments.sweep()
    assert rows_of("rows.html", items, "") == first == "<li>&lt;T&gt;:a</li><li>&lt;T&gt;:b</li>"
    assert rows_of("rows.html", items, "../") == "<li>../&lt;T&gt;:a</li><li>../&lt;T&gt;:b</li>"  # another depth, other rows
    assert [piece for _, _, piece in fragments._fresh["rows.html@../"].values()] == ["<li>../&lt;T&gt;:a</li>", "<li>../&lt;T&gt;:b</li>"]


def test_company_and_owner_pages_share_one_module_of_macros() -> None:
    """``rows_of`` takes no context, so the macros calling it (``lead_table``) can be imported once per depth."""
    checked = check(SAMPLE, date(2026, 11, 22), None, 1)
    plan = plan_site(checked.project, checked.figures, checked.problems, checked.scope)
    company = plan.env.get_template("company.html")  # the template's own block, as a pipeline's company.html: company_page.py imports nothing
    company.blocks["content"] = company.root_render_func.__globals__["block_content"]
    pages = [index for index, (_, template, _) in enumerate(plan.pages) if template in ("company.html", "owner.html")]
    for index in pages:
        plan.render(index)
    macros = plan.env.get_template("macros.html")
    shared = [module is not None for _, module in macros.shared_modules.values()]
    assert len(pages) > 2 and shared == [True, True]  # the company pages' import, the owner pages' import


TODAY_ = date(2026, 11, 22)


def _reference_row(env: Any, stage_order: dict[str, int], currency: str, labels: dict[str, str], f: Any) -> str:
    """A row of leads-data.js as the table data wrote it before its cells were kept as text: lists, then ``json.dumps``."""
    money, percent, day = env.filters["money"], env.filters["percent"], env.filters["date"]
    lead, texts = f.lead, {key: Markup(text).unescape() for key, text in labels.items()}
    active, open_ = lead.status == "active", lead.status in ("active", "potential")
    when = lead.closed_on or lead.expected_close
    stage, member = env.globals["stage"](lead.stage), env.globals["member"](lead.owner)
    number = lambda value: -1 if value is None else float(value)
    badges: list[Any] = []
    for shown, css, key in ((f.follow_up_overdue, "badge warn", "overdue"), (f.stale, "badge stale", "stale"),
                            (f.qualified and open_, "badge ok", "qualified")):
        if shown:
            badges += [" ", ["span", css, texts[key]]]
    href = lambda path: quote(path, safe="/")
    cells = [
        [lead.title, ["a", href(env.globals["page_url"](lead)), lead.title], *badges],
        [lead.company or "", ["a", href(env.globals["company_url"](lead.company)), lead.company] if lead.company else "–"],
        [lead.status, ["span", f"badge status-{lead.status}", texts.get(lead.status, lead.status)]],
        [stage_order.get(lead.stage or "", -1), stage.name if stage else (lead.stage or "–")],
        [member.name if member else lead.owner, ["a", href(env.globals["owner_url"](member.id)), member.name] if member else lead.owner],
        [number(f.value), money(f.value, currency, False)],
        [number(f.probability), percent(f.probability)],
        [number(f.weighted) if active else -1, money(f.weighted, currency, False) if active else "–"],
        [when.isoformat() if when else "", day(when)],
        [lead.follow_up.isoformat() if lead.follow_up and open_ else "", day(lead.follow_up) if open_ else "–"],
        [lead.source or "", lead.source or "–"],
        [" ".join(lead.tags), *[node for tag in lead.tags for node in (["span", "tag", tag], " ")]],
    ]
    due = open_ and lead.follow_up is not None and lead.follow_up <= TODAY_ + timedelta(days=14)  # the overview's follow-ups
    filters = [lead.status, lead.stage or "", lead.owner, lead.source or "", list(lead.tags), ["due"] * due + ["stale"] * f.stale]
    return json.dumps([filters, cells], ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _odd_leads(leads: Any) -> list[Any]:
    """The sample's leads and copies with the values a row writes in its own way: zeros of either sign, no values,
    markup, quotes and umlauts, unknown stages and owners, every badge."""
    company = next(f.lead.company for f in leads if f.lead.company)  # a company of the build: it has a page
    numbers = [
        (Decimal(0), Decimal("-0"), Decimal(0)), (Decimal("-0"), Decimal("0.00"), Decimal("-0")),
        (None, None, Decimal("0.5")), (Decimal("1.0"), Decimal(1), Decimal("1.00")),
    ]
    odd = []
    for n, (value, weighted, probability) in enumerate(numbers):
        for status in ("active", "potential", "won"):
            lead = dataclasses.replace(
                leads[0].lead, id=f"odd/{n}-{status} ä", title=f'"<T{n}>" & ü\u2028', status=status,
                stage=("offer", "nowhere", None)[n % 3], owner=("anna", "nobody")[n % 2], company=(None, company)[n % 2],
                source=(None, "", "fair")[n % 3], tags=(("a", '"b"', "<c>"), ())[n % 2], follow_up=(None, date(2026, 1, 2))[n % 2],
                closed_on=None, expected_close=(date(2027, 3, 4), None)[n % 2],
            )
            odd.append(SimpleNamespace(lead=lead, value=value, weighted=weighted, probability=probability,
                                       follow_up_overdue=n % 2 == 0, stale=n > 1, qualified=n != 2))
    return [*leads, *odd]


def test_a_table_data_row_is_the_json_of_its_cells() -> None:
    """Cells shared by many rows are written once and reused as text: the same text as the whole row's ``json.dumps``."""
    checked = check(SAMPLE, date(2026, 11, 22), None, 1)
    plan = plan_site(checked.project, checked.figures, checked.problems, checked.scope)
    labels = {"overdue": "O", "stale": "S &lt;s&gt;", "qualified": "Q", "active": "A &amp; B"}
    row = _Row(plan.env, {"offer": 2}, "EUR", TODAY_, labels)
    leads = _odd_leads(checked.figures.leads)
    for f in [*leads, *leads]:  # the second time from the kept cells
        assert row(f) == _reference_row(plan.env, {"offer": 2}, "EUR", labels, f)



@pytest.mark.parametrize("kept", [False, True])
def test_leads_script_is_the_json_of_its_rows_with_markup_and_line_separators_escaped(kept: bool) -> None:
    checked = check(SAMPLE, date(2026, 11, 22), None, 1)
    plan = plan_site(checked.project, checked.figures, checked.problems, checked.scope)
    labels = {"overdue": "O", "stale": "S", "qualified": "Q"}
    leads = _odd_leads(checked.figures.leads)  # titles with "<", ">", "&", umlauts and U+2028
    script = leads_script(plan.env, leads, {"offer": 2}, "EUR", TODAY_, labels, fragments=Fragments() if kept else None)
    rows = ",".join(_reference_row(plan.env, {"offer": 2}, "EUR", labels, f) for f in leads)
    expected = f'{{"rows":[{rows}]}}'
    for raw in "<>&\u2028\u2029":
        expected = expected.replace(raw, f"\\u{ord(raw):04x}")
    assert str(script) == f"window.funnelLeads = {expected};"
    assert "\\u0026" in script and "\\u2028" in script and "ü" in script


def test_table_data_writes_a_shared_cell_once_per_value() -> None:
    checked = check(SAMPLE, date(2026, 11, 22), None, 1)
    plan = plan_site(checked.project, checked.figures, checked.problems, checked.scope)
    asked: list[Any] = []
    env = SimpleNamespace(globals=dict(plan.env.globals), filters=dict(plan.env.filters))
    for name in ("company_url", "member"):
        env.globals[name] = lambda value, name=name, asked_for=env.globals[name]: asked.append((name, value)) or asked_for(value)
    env.filters["money"] = lambda value, *args: asked.append(("money", value)) or plan.env.filters["money"](value, *args)
    row = _Row(env, {}, "EUR", TODAY_, {"overdue": "O", "stale": "S", "qualified": "Q"})
    leads = checked.figures.leads
    for f in [*leads, *leads]:
        row(f)
    companies = {f.lead.company for f in leads if f.lead.company}
    assert sorted(value for name, value in asked if name == "company_url") == sorted(companies)
    assert sorted(value for name, value in asked if name == "member") == sorted({f.lead.owner for f in leads})
    amounts = [value for name, value in asked if name == "money" and value]  # zeros are written every time
    assert len(amounts) == len(set(amounts)) > 1


@pytest.mark.parametrize("zeros", [("0", "-0"), ("-0", "0"), ("0.00", "-0.0")])
def test_zero_is_formatted_once_and_minus_zero_keeps_its_sign(zeros: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Decimal] = []
    apply = formatting.FastPattern.apply

    def counted(self: formatting.FastPattern, value: Decimal) -> str:
        calls.append(value)
        return apply(self, value)

    monkeypatch.setattr(formatting.FastPattern, "apply", counted)
    formatter = Formatter("en_US")
    texts = [formatter.money(Decimal(zero), "EUR", False) for zero in (*zeros, *zeros)]
    assert texts == [("-€0" if zero.startswith("-") else "€0") for zero in (*zeros, *zeros)]
    assert len(calls) == 3  # the plain zero once, minus zero every time
