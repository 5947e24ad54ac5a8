"""The dashboard under ``funnel-site serve`` in Chromium: served from memory, it loads cleanly and reloads itself."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
from playwright.sync_api import expect

from browser_support import watched_page
from test_browser import SAMPLE
from test_serve import Server

pytestmark = pytest.mark.browser
WAIT_MS = 20_000  # a generous bound for a loaded CI machine, not a speed assertion


@pytest.fixture
def dev_server(tmp_path: Path) -> Iterator[Server]:
    root = tmp_path / "pipeline"
    shutil.copytree(SAMPLE, root)
    running = Server(root)
    running.root = root  # type: ignore[attr-defined]
    running.wait_for_line("Serving ")
    yield running
    running.stop()


@pytest.mark.parametrize("page_path", ["", "leads.html", "board.html", "leads/bestandskunden/muehlenberg-shop-relaunch.html"])
def test_pages_load_without_errors(context: Any, dev_server: Server, page_path: str) -> None:
    page, watch = watched_page(context)
    response = page.goto(f"http://127.0.0.1:{dev_server.port}/{page_path}")
    assert response is not None and response.status == 200
    page.wait_for_load_state("load")
    assert page.locator("h1").count() == 1 and page.locator('script[src="/__livereload.js?build=1"]').count() == 1
    assert watch.clean(), watch


def test_a_saved_lead_reloads_its_open_page(context: Any, dev_server: Server) -> None:
    page, watch = watched_page(context)
    page.goto(f"http://127.0.0.1:{dev_server.port}/leads/stadtwerke-relaunch.html")
    facts = page.locator("dl.facts").first
    expect(facts).to_contain_text("148.000,00 €")
    lead = dev_server.root / "leads" / "stadtwerke-relaunch.md"  # type: ignore[attr-defined]
    lead.write_text(lead.read_text(encoding="utf-8").replace("value: 148000", "value: 149000"), encoding="utf-8")
    expect(facts).to_contain_text("149.000,00 €", timeout=WAIT_MS)
    assert page.locator('script[src="/__livereload.js?build=2"]').count() == 1
    assert watch.clean(), watch
