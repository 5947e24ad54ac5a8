"""The built-in rows in Python (lead_rows.py) print what templates/rows-leads.html, rows-owner-leads.html and
rows-companies.html print, byte for byte.

The table pages, owner pages and companies.html of each pipeline are rendered twice, with the Python rows and with
the templates, and compared; so is every row alone, as the dev server renders the rows of changed leads.
"""

from __future__ import annotations

import difflib
import json
import random
import sys
from datetime import date
from pathlib import Path
from typing import Callable

import pytest
from conftest import TODAY, write_project
from test_lead_page import EDGE_CONFIG, EDGE_LEADS

from funnel_site import lead_rows
from funnel_site.build import check
from funnel_site.fragments import ROW_END
from funnel_site.render import SitePlan, json_attr, plan_site

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from generate import generate  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def _plans(root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[SitePlan, SitePlan]:
    """The plan as a build makes it (Python rows), and one whose rows come from the template."""
    checked = check(root, date.fromisoformat(TODAY))
    fast = plan_site(checked.project, checked.figures, checked.problems, checked.scope)
    assert fast.env.get_template("rows-leads.html").root_render_func is lead_rows.rows
    assert fast.env.get_template("rows-owner-leads.html").root_render_func is lead_rows.owner_rows
    assert fast.env.get_template("rows-companies.html").root_render_func is lead_rows.company_rows
    with monkeypatch.context() as patch:
        patch.setattr(lead_rows, "install", lambda env: None)
        jinja = plan_site(checked.project, checked.figures, checked.problems, checked.scope)
    assert jinja.env.get_template("rows-leads.html").root_render_func is not lead_rows.rows
    assert jinja.env.get_template("rows-owner-leads.html").root_render_func is not lead_rows.owner_rows
    assert jinja.env.get_template("rows-companies.html").root_render_func is not lead_rows.company_rows
    return fast, jinja


def _same(name: str, python_text: str, jinja_text: str) -> None:
    if python_text != jinja_text:
        diff = difflib.unified_diff(jinja_text.splitlines(), python_text.splitlines(), "rows-leads.html", "lead_rows.py", n=1, lineterm="")
        pytest.fail(f"{name} differs:\n" + "\n".join(list(diff)[:40]))


def assert_same_rows(root: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    fast, jinja = _plans(root, monkeypatch)
    pages = [index for index, (_, template, _) in enumerate(fast.pages) if template in ("leads.html", "owner.html", "companies.html")]
    for index in pages:
        (path, python_text), (_, jinja_text) = fast.render(index), jinja.render(index)
        _same(path, python_text.decode(), jinja_text.decode())
    leads = fast.context["figures"].leads
    companies = next(extra["companies"] for _, template, extra in fast.pages if template == "companies.html")
    for name, items in (("rows-leads.html", leads), ("rows-owner-leads.html", leads), ("rows-companies.html", companies)):
        for python_text, jinja_text in zip(_rows_alone(fast, name, items), _rows_alone(jinja, name, items), strict=True):
            _same(f"{name}: rows alone", python_text, jinja_text)
    return len(leads)


def _rows_alone(plan: SitePlan, name: str, leads: list) -> list[str]:
    """As the dev server renders rows: all of them ending in ROW_END, and a few one by one."""
    template = plan.env.get_template(name)
    page = {**plan.context, "root": "../", "link": lambda path: "../" + path}
    return [template.render({**page, "rows": rows, "row_end": end}) for rows, end in [(leads, ROW_END), *(([lf], "") for lf in leads[:50])]]


def test_edge_cases_print_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert assert_same_rows(write_project(tmp_path / "p", EDGE_LEADS, EDGE_CONFIG), monkeypatch) == len(EDGE_LEADS)


def test_english_rows_print_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_project(tmp_path / "p", EDGE_LEADS, EDGE_CONFIG.replace("locale: de_DE", "locale: en_US"))
    assert assert_same_rows(root, monkeypatch) == len(EDGE_LEADS)


def test_the_example_pipeline_prints_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    assert assert_same_rows(REPO, monkeypatch) > 20


def test_companies_without_any_print_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No lead names a company: companies.html says so, as the template does."""
    leads = {path: text for path, text in EDGE_LEADS.items() if "company:" not in text}
    assert leads
    root = write_project(tmp_path / "p", leads, EDGE_CONFIG)
    assert assert_same_rows(root, monkeypatch) == len(leads)
    fast, _ = _plans(root, monkeypatch)
    index = next(i for i, (_, template, _) in enumerate(fast.pages) if template == "companies.html")
    assert '<tr><td colspan="7">' in fast.render(index)[1].decode()


def test_a_generated_pipeline_prints_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generate(1200, tmp_path / "g")  # several table pages
    assert assert_same_rows(tmp_path / "g", monkeypatch) == 1200


@pytest.mark.parametrize("override", ["rows-leads.html", "macros.html"])
def test_a_pipelines_own_template_renders_as_written(make_project: Callable[..., Path], override: str) -> None:
    builtin = (REPO / "templates" / override).read_text(encoding="utf-8")
    marked = builtin.replace('<tr data-status="', '<tr data-ours="1" data-status="') if override == "rows-leads.html" else builtin.replace(
        '<span class="badge status-{{ status }}">', '<span class="badge status-{{ status }}">OURS ')
    assert marked != builtin
    root = make_project({"leads/a.md": EDGE_LEADS["leads/idea.md"], f"templates/{override}": marked})
    checked = check(root, date.fromisoformat(TODAY))
    plan = plan_site(checked.project, checked.figures, checked.problems, checked.scope)
    assert plan.env.get_template("rows-leads.html").root_render_func is not lead_rows.rows
    text = dict(plan.render(i) for i in range(len(plan.pages)))["leads.html"].decode()
    assert ('<tr data-ours="1" data-status="potential"' if override == "rows-leads.html" else '<span class="badge status-potential">OURS Idea</span>') in text


def test_json_attr_writes_what_the_json_encoder_writes() -> None:
    encode = json.JSONEncoder(ensure_ascii=False).encode
    values = [(), [], ("a",), ["ä", 'b"c', "\\", "\x00\n\u2028", "<&>", "\ud800"], [1, "a"], ("a", None), ["a", ["b"]], {"a": (1,)}, "text", 1.5]
    chars = random.Random(8)
    values += [tuple("".join(chr(chars.choice([chars.randrange(128), chars.randrange(128, 0x3000), chars.randrange(0xD800, 0xD810)]))
                             for _ in range(chars.randrange(6))) for _ in range(chars.randrange(4))) for _ in range(5000)]
    for value in values:
        assert json_attr(value) == encode(value), value
