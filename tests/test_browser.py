"""Real-browser tests: the system Chromium (FUNNEL_SITE_CHROMIUM) driven by Playwright, no network."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Iterator

import pytest
from playwright.sync_api import expect

from browser_support import SCREENSHOTS, axe_source, serious_violations, serve, watched_page
from conftest import BASE_CONFIG, TODAY, write_project
from funnel_site.build import build

pytestmark = pytest.mark.browser

SAMPLE = Path(__file__).parent / "data" / "sample"
EXAMPLE = Path(__file__).resolve().parent.parent  # the example pipeline at the repository root
PAGE_TYPES = [
    "index.html", "board.html", "leads.html", "ideas.html", "closed.html", "companies.html",
    "leads/stadtwerke-relaunch.html", "leads/bestandskunden/muehlenberg-shop-relaunch.html",
    "owners/julia.html", "companies/stadtwerke-lindenau-gmbh.html",
]
EVIL = "<script>alert(1)</script><img src=x onerror=alert(2)><svg onload=alert(3)>"
HOSTILE_LEAD = f"""\
---
title: '{EVIL}'
owner: anna
status: active
stage: offer
value: 1000
expected_close: 2026-12-01
created: 2026-06-01
follow_up: 2026-11-01
next_step: '{EVIL}'
company: '"><img src=x onerror=alert(4)>'
source: referral
tags: ['{EVIL}']
reason: '{EVIL}'
website: 'javascript:alert(5)'
contact:
  - name: '{EVIL}'
    email: 'javascript:alert(6)'
    phone: 'javascript:alert(7)'
    url: 'javascript:alert(8)'
history:
  - {{date: 2026-06-01, stage: offer}}
---
{EVIL}

[click me](javascript:alert(9)) <a href="javascript:alert(10)">raw</a> [data](data:text/html,<script>alert(11)</script>)

![x](javascript:alert(12)) <iframe src="javascript:alert(13)"></iframe>
"""


def _today() -> date:
    return date.fromisoformat(TODAY)


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "site"
    build(SAMPLE, out, _today())
    return out


@pytest.fixture(scope="session")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_project(tmp_path_factory.mktemp("hostile") / "pipeline", {"leads/evil/x.md": HOSTILE_LEAD}, BASE_CONFIG)
    out = root.parent / "site"
    build(root, out, _today())
    return out


@pytest.fixture(scope="session")
def server(sample_site: Path) -> Iterator[str]:
    yield from serve(sample_site)


@pytest.mark.parametrize("page_path", PAGE_TYPES)
def test_page_loads_without_errors_or_outside_requests(context: Any, server: str, page_path: str) -> None:
    page, watch = watched_page(context)
    response = page.goto(f"{server}/{page_path}")
    assert response is not None and response.status == 200
    page.wait_for_load_state("load")
    assert page.locator("h1").count() == 1
    assert watch.console_errors == [] and watch.page_errors == [] and watch.outside == []


def test_pages_work_from_file_urls(context: Any, sample_site: Path) -> None:
    page, watch = watched_page(context)
    page.goto((sample_site / "leads.html").as_uri())
    page.select_option("select[name=status]", "won")
    assert page.locator("#lead-table tbody tr:visible").count() == 2
    page.goto((sample_site / "leads/bestandskunden/muehlenberg-shop-relaunch.html").as_uri())
    page.get_by_role("link", name="Alle Leads").first.click()
    assert page.url.endswith("/leads.html")
    assert watch.clean(), watch


def test_filtering_the_lead_table(context: Any, server: str) -> None:
    page, watch = watched_page(context)
    page.goto(f"{server}/leads.html")
    rows = page.locator("#lead-table tbody tr")
    visible = page.locator("#lead-table tbody tr:visible")
    assert rows.count() == 9 and visible.count() == 9
    assert page.locator("#lead-count").inner_text() == "9 von 9 Leads"
    page.select_option("select[name=status]", "active")
    assert visible.count() == 4
    page.select_option("select[name=owner]", "julia")
    assert [t.strip() for t in page.locator("#lead-table tbody tr:visible th a").all_inner_texts()] == ["Relaunch Website & Kundenportal"]
    page.get_by_role("button", name="Zurücksetzen").click()
    page.fill("input[name=q]", "mühlenberg")
    assert visible.count() == 2
    page.fill("input[name=q]", "kein solcher lead")
    assert visible.count() == 0
    assert page.locator("#no-match").is_visible()
    assert page.locator("#lead-count").inner_text() == "0 von 9 Leads"
    page.fill("input[name=q]", "")
    page.select_option("select[name=tag]", "barrierefreiheit")
    assert visible.count() >= 1
    page.keyboard.press("Enter")  # a submit would be blocked by the CSP and logged as an error
    assert watch.clean(), watch


def test_the_table_shows_the_leads_that_need_attention_as_the_overview_lists_them(context: Any, server: str) -> None:
    page, watch = watched_page(context)
    page.goto(f"{server}/index.html")
    listed = page.locator("#followups-heading + p + ul.items li a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    page.goto(f"{server}/leads.html#attention=due")  # where "and N more in the table" links when the list is long
    assert page.locator("select[name=attention]").input_value() == "due"
    shown = page.locator("#lead-table tbody tr:visible th a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert sorted(shown) == sorted(listed) and len(shown) == 5
    page.select_option("select[name=attention]", "stale")
    assert page.locator("#lead-count").inner_text() == "1 von 9 Leads"
    assert watch.clean(), watch


def test_rows_of_an_earlier_theme_hide_the_attention_filter_they_cannot_serve(context: Any, tmp_path: Path) -> None:
    import shutil

    pipeline = tmp_path / "pipeline"
    shutil.copytree(Path(__file__).parent / "data" / "sample", pipeline)
    shutil.copy(Path(__file__).parent / "data" / "older-theme" / "rows-leads.html", pipeline / "templates" / "rows-leads.html")
    build(pipeline, tmp_path / "site", _today())
    page, watch = watched_page(context)
    page.goto((tmp_path / "site" / "leads.html").as_uri() + "#attention=due")
    assert page.locator("select[name=attention]").is_hidden()
    assert page.locator("#lead-count").inner_text() == "9 von 9 Leads"  # the address's filter is not applied
    page.select_option("select[name=status]", "active")
    assert page.locator("#lead-table tbody tr:visible").count() == 4
    assert watch.clean(), watch


def test_sorting_the_lead_table_by_value(context: Any, server: str) -> None:
    page, watch = watched_page(context)
    page.goto(f"{server}/leads.html")
    header = page.locator("#lead-table thead th").nth(5)
    header.get_by_role("button").click()
    values = [float(v) for v in page.locator("#lead-table tbody tr td:nth-child(6)").evaluate_all("cells => cells.map(c => c.dataset.sort)")]
    assert values == sorted(values)
    assert header.get_attribute("aria-sort") == "ascending"
    header.get_by_role("button").press("Enter")  # keyboard works too
    values = [float(v) for v in page.locator("#lead-table tbody tr td:nth-child(6)").evaluate_all("cells => cells.map(c => c.dataset.sort)")]
    assert values == sorted(values, reverse=True)
    assert watch.clean(), watch


def test_board_shows_every_active_lead(context: Any, server: str, sample_site: Path) -> None:
    page, _ = watched_page(context)
    page.goto(f"{server}/board.html")
    shown = sorted(page.locator(".card[data-lead]").evaluate_all("cards => cards.map(c => c.dataset.lead)"))
    assert shown == _active_ids(sample_site) and len(shown) == 4


def _active_ids(site: Path) -> list[str]:
    import json

    data = json.loads((site / "data.json").read_text(encoding="utf-8"))
    return sorted(lead["id"] for lead in data["leads"] if lead["status"] == "active")


@pytest.fixture(scope="session")
def hostile_server(hostile_site: Path) -> Iterator[str]:
    yield from serve(hostile_site)


def test_hostile_lead_fires_no_dialog_on_any_page(browser: Any, hostile_site: Path, hostile_server: str) -> None:
    pages = sorted(p.relative_to(hostile_site).as_posix() for p in hostile_site.rglob("*.html"))
    assert "leads/evil/x.html" in pages and len(pages) == 10
    for base in (None, "file"):
        ctx = browser.new_context()
        page, watch = watched_page(ctx)
        for relative in pages:
            if base == "file":
                page.goto((hostile_site / relative).as_uri())
            else:
                page.goto(f"{hostile_server}/{relative}")
            page.wait_for_load_state("load")
            assert page.locator("[href^='javascript' i], [src^='javascript' i], iframe, [onerror], [onload]").count() == 0, relative
            for link in page.locator("main a").all():
                link.hover()
            assert watch.dialogs == [], relative
        assert watch.clean(), watch
        ctx.close()


@pytest.mark.parametrize("page_path", ["index.html", "board.html", "leads.html", "leads/stadtwerke-relaunch.html"])
def test_axe_finds_no_serious_violation(context: Any, server: str, page_path: str) -> None:
    page, _ = watched_page(context)
    page.goto(f"{server}/{page_path}")
    assert serious_violations(page, axe_source()) == []


@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_of_overview_and_lead_page(browser: Any, tmp_path_factory: pytest.TempPathFactory, width: int) -> None:
    """Screenshots of the example pipeline (what `make site` shows) for people to look at; CI keeps them."""
    out = tmp_path_factory.mktemp("example") / "site"
    build(EXAMPLE, out, _today())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ctx = browser.new_context(viewport={"width": width, "height": 900})
    page, watch = watched_page(ctx)
    for name, path in (("overview", "index.html"), ("lead", "leads/stadtwerke-relaunch.html")):
        page.goto((out / path).as_uri())
        target = SCREENSHOTS / f"{name}-{width}.png"
        page.screenshot(path=str(target), full_page=True)
        assert target.stat().st_size > 10_000
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways at {width}px"
    assert watch.clean(), watch
    ctx.close()


@pytest.fixture(scope="session")
def big_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,101 leads: three table pages, and a board column longer than its cap."""
    from test_render import many_leads

    root = write_project(tmp_path_factory.mktemp("big") / "pipeline", many_leads(1100), BASE_CONFIG)
    out = root.parent / "site"
    build(root, out, _today())
    return out


@pytest.fixture(scope="session")
def big_server(big_site: Path) -> Iterator[str]:
    yield from serve(big_site)


def _row_ids(page: Any) -> list[str]:
    hrefs = page.locator("#lead-table tbody th a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    return [href.removeprefix("leads/").removesuffix(".html") for href in hrefs]


def test_without_javascript_every_lead_is_reachable_through_the_page_links(browser: Any, big_site: Path) -> None:
    ctx = browser.new_context(java_script_enabled=False)
    page, watch = watched_page(ctx)
    page.goto((big_site / "leads.html").as_uri())
    seen: list[str] = []
    while True:
        assert page.locator("#lead-filters").is_hidden()
        seen += _row_ids(page)
        following = page.locator("#table-pages a[rel=next]")
        if following.count() == 0:
            break
        following.click()
    assert page.url.endswith("/leads-3.html")
    assert page.locator("#table-pages p").inner_text() == "Rows 1,001–1,101 of 1,101"
    assert sorted(seen) == sorted([f"deal-{i:04d}" for i in range(1100)] + ["needle"])
    assert watch.clean(), watch
    ctx.close()


def test_filtering_and_sorting_reach_leads_on_every_page(context: Any, big_server: str) -> None:
    page, watch = watched_page(context)
    page.goto(f"{big_server}/leads.html")
    count = page.locator("#lead-count")
    assert count.inner_text() == "1101 of 1101 leads" and len(_row_ids(page)) == 500
    assert page.locator("#table-pages").is_visible()
    page.fill("input[name=q]", "zeppelin")  # the last lead of the last page
    assert _row_ids(page) == ["needle"] and count.inner_text() == "1 of 1101 leads"
    assert page.locator("#table-pages").is_hidden()
    page.fill("input[name=q]", "")
    page.select_option("select[name=status]", "lost")
    assert count.inner_text() == "111 of 1101 leads" and len(_row_ids(page)) == 111  # 110 deals and the needle
    page.get_by_role("button", name="Reset").click()  # the script re-filters after the form's fields are reset
    expect(page.locator("#lead-count")).to_have_text("1101 of 1101 leads")
    assert len(_row_ids(page)) == 500 and page.locator("#table-pages").is_visible()
    page.locator("#lead-table thead th").nth(5).get_by_role("button").click()  # value, ascending, over all pages
    assert _row_ids(page)[:2] == ["needle", "deal-0000"] and len(_row_ids(page)) == 500
    page.locator("#show-more button").click()
    ids = _row_ids(page)
    assert len(ids) == 1000 and ids[-1] == "deal-0998"
    assert page.locator("#show-more").is_visible()
    assert watch.clean(), watch


def test_rows_built_by_the_script_equal_the_pages_rows(context: Any, big_site: Path) -> None:
    page, watch = watched_page(context)
    page.goto((big_site / "leads-3.html").as_uri())
    cells = "#lead-table tbody tr:last-child > *"
    on_page = page.locator(cells).evaluate_all("cells => cells.map(c => [c.tagName, c.className, c.dataset.sort, c.innerHTML.trim()])")
    page.goto((big_site / "leads.html").as_uri())
    page.fill("input[name=q]", "zeppelin needle")
    built = page.locator(cells).evaluate_all("cells => cells.map(c => [c.tagName, c.className, c.dataset.sort, c.innerHTML.trim()])")
    assert built == on_page and len(built) == 12
    page.fill("input[name=q]", "deal 0003")  # a lead with badges, tags left empty
    assert _row_ids(page) == ["deal-0003"]
    assert watch.clean(), watch


def test_board_shows_or_counts_every_active_lead_and_links_to_the_filtered_table(context: Any, big_server: str, big_site: Path) -> None:
    page, watch = watched_page(context)
    page.goto(f"{big_server}/board.html")
    shown = page.locator(".card[data-lead]").evaluate_all("cards => cards.map(c => c.dataset.lead)")
    counted = [int(text.split()[1]) for text in page.locator(".column .more a").all_inner_texts()]
    assert len(shown) == 100 and sum(counted) + len(shown) == len(_active_ids(big_site))
    page.get_by_role("link", name="and 390 more in the table").click()
    assert page.url.endswith("/leads.html#status=active&stage=offer")
    page.wait_for_load_state("load")
    assert page.locator("select[name=stage]").input_value() == "offer"
    assert page.locator("#lead-count").inner_text() == "440 of 1101 leads"
    assert watch.clean(), watch


def test_the_stale_leads_of_every_table_page_are_found_from_the_address(context: Any, big_site: Path) -> None:
    """The script's rows (leads-data.js) carry the same attention as the pages' rows."""
    import re

    stale = sum(re.findall(r'data-attention="([^"]*)"', (big_site / name).read_text(encoding="utf-8")).count("stale")
                for name in ("leads.html", "leads-2.html", "leads-3.html"))
    page, watch = watched_page(context)
    page.goto((big_site / "leads-2.html").as_uri() + "#attention=stale")
    assert stale > 500 and page.locator("#lead-count").inner_text() == f"{stale} of 1101 leads"
    assert watch.clean(), watch


@pytest.mark.parametrize("page_path", ["leads.html", "leads-2.html", "board.html"])
def test_axe_finds_no_serious_violation_on_long_lists(context: Any, big_server: str, page_path: str) -> None:
    page, _ = watched_page(context)
    page.goto(f"{big_server}/{page_path}")
    assert serious_violations(page, axe_source()) == []
