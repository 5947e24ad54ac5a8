"""A worker renders the notes of its share of lead pages in one run before the pages (render.SitePlan.prepare)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Callable

from conftest import TODAY, lead
from funnel_site import render
from funnel_site.build import check
from funnel_site.notes import render_notes
from funnel_site.render import SitePlan, plan_site

LEADS = {f"leads/l{n}.md": lead(title=f"L{n}", owner="anna", status="potential").replace("Notes.", f"Note *{n}*.") for n in range(3)}


def _plan(root: Path) -> SitePlan:
    checked = check(root, date.fromisoformat(TODAY))
    return plan_site(checked.project, checked.figures, checked.problems, checked.scope)


def test_the_notes_of_built_in_lead_pages_are_rendered_ahead(make_project: Callable[..., Path]) -> None:
    plan = _plan(make_project(LEADS))
    render_notes.cache_clear()
    plan.prepare(range(len(plan.pages)))
    assert render_notes.cache_info().currsize == 3
    pages = dict(plan.render(index) for index in range(len(plan.pages)))
    assert render_notes.cache_info().misses == 3  # the pages found them rendered
    assert b"<p>Note <em>1</em>.</p>" in pages["leads/l1.html"]


def test_a_pipelines_own_lead_page_gets_no_notes_ahead(make_project: Callable[..., Path]) -> None:
    root = make_project(LEADS)
    (root / "templates").mkdir()
    (root / "templates/lead.html").write_text("{{ lead.title }}\n", encoding="utf-8")
    plan = _plan(root)
    render_notes.cache_clear()
    plan.prepare(range(len(plan.pages)))
    assert render_notes.cache_info().currsize == 0


def test_a_build_prepares_every_share_of_pages(make_project: Callable[..., Path], run_cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    prepared: list[int] = []
    original = SitePlan.prepare
    monkeypatch.setattr(SitePlan, "prepare", lambda plan, indices: prepared.extend(indices) or original(plan, indices))
    assert run_cli("build", str(make_project(LEADS)), "-o", str(tmp_path / "site"), "--today", TODAY, "--no-cache").code == 0
    assert sorted(prepared) == list(range(len(prepared))) and len(prepared) > len(LEADS)


def test_a_plan_looks_up_its_lead_template_once(make_project: Callable[..., Path], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    plan = _plan(make_project(LEADS))
    looked_up: list[str | None] = []
    original = render.in_theme
    monkeypatch.setattr(render, "in_theme", lambda filename, theme: looked_up.append(filename) or original(filename, theme))
    render_notes.cache_clear()
    for index in range(len(plan.pages)):
        plan.prepare([index])
    assert render_notes.cache_info().currsize == 3
    assert looked_up == [plan.env.get_template("lead.html").filename]
