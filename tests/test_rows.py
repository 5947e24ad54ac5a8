"""The rows of the pages over many leads: ``rows_of`` without the page's context, the table data's shared cells."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
import pytest

from funnel_site import formatting
from funnel_site.build import check
from funnel_site.formatting import Formatter
from funnel_site.fragments import Fragments, rows_renderer
from funnel_site.render import plan_site
from funnel_site.table_data import _Cells

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
    pages = [index for index, (_, template, _) in enumerate(plan.pages) if template in ("company.html", "owner.html")]
    for index in pages:
        plan.render(index)
    macros = plan.env.get_template("macros.html")
    shared = [module is not None for _, module in macros.shared_modules.values()]
    assert len(pages) > 2 and shared == [True, True]  # the company pages' import, the owner pages' import


def test_table_data_makes_an_owners_stages_statuses_and_companys_cells_once() -> None:
    checked = check(SAMPLE, date(2026, 11, 22), None, 1)
    plan = plan_site(checked.project, checked.figures, checked.problems, checked.scope)
    cells = _Cells(plan.env, {"offer": 2}, "EUR", {"overdue": "O", "stale": "S", "qualified": "Q", "active": "A &amp; B"})
    first, second = _two_of_one_owner(checked.figures.leads)
    a, b = cells(first), cells(second)
    assert a[4] is b[4] and a[4][0] == b[4][0]  # the owner's cell
    again = cells(first)
    assert again == a and all(again[i] is a[i] for i in (1, 2, 3, 4))  # company, status, stage, owner
    assert again[0] is not a[0]  # the lead's own cells are its own


def _two_of_one_owner(leads: Any) -> tuple[Any, Any]:
    seen: dict[str, Any] = {}
    for f in leads:
        if f.lead.owner in seen:
            return seen[f.lead.owner], f
        seen[f.lead.owner] = f
    raise AssertionError("the sample has two leads of one owner")


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
