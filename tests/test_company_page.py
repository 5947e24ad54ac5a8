"""The built-in company page's content in Python (company_page.py) prints what templates/company.html prints, byte for byte.

Each pipeline's company pages are rendered twice, with the Python block and with the template's own Jinja
block, and compared (test_lead_page.assert_same_pages). A failure names the page and shows the first
differing lines: change company_page.py to match the template (or the template, if the template is what was wrong).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Callable

import pytest

from funnel_site import company_page
from conftest import BASE_CONFIG, TODAY, write_project
from test_lead_page import assert_same_pages, own_template_pages, plans

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from generate import generate  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
MARKUP = 'Müller & <Söhne> "GmbH"'


def _lead(title: str, facts: str, company: str = MARKUP) -> str:
    return f"---\ntitle: {title}\ncompany: '{company}'\n{facts}---\n"


# One company with many leads: every status, stages known and none, badges (overdue, stale, qualified), a foreign
# currency, markup in titles and names, no follow-up, one on a closed lead, no close date; and a small company whose leads are all closed.
EDGE_LEADS = {
    "leads/a-offer.md": _lead("Offer <b>big</b> & bold", "owner: ben\nstage: offer\nvalue: 12000.50\ncurrency: USD\n"
                              "expected_close: 2026-12-20\nfollow_up: 2026-11-01\nlast_contact: 2026-11-20\n"
                              "qualification: {budget: true, authority: true, need: true, timeline: true}\n"),
    "leads/a-lead.md": _lead("First contact", "owner: anna\nstage: lead\nvalue: 500\nexpected_close: 2027-01-31\n"
                             "last_contact: 2026-01-01\n"),
    "leads/a-nego.md": _lead("Negotiation", "owner: ben\nstage: negotiation\nvalue: 80000\nprobability: 35\n"
                             "expected_close: 2026-12-01\nfollow_up: 2026-12-03\nlast_contact: 2026-11-21\n"),
    "leads/a-idea.md": _lead("An idea", "owner: anna\nstatus: potential\nvalue: 3000\nfollow_up: 2026-12-24\n"
                             "qualification: {budget: true, authority: true, need: true, timeline: true}\n"),
    "leads/a-idea-bare.md": _lead("A bare idea", "owner: ben\nstatus: potential\n"),
    "leads/a-idea-staged.md": _lead("An idea with a stage", "owner: ben\nstatus: potential\nstage: offer\nfollow_up: 2026-11-02\n"),
    "leads/a-won.md": _lead("Won deal", "owner: anna\nstatus: won\nstage: negotiation\nvalue: 5000\nclosed_on: 2026-11-02\n"
                            "qualification: {budget: true, authority: true, need: true, timeline: true}\n"),
    "leads/a-won-usd.md": _lead("Won in dollars", "owner: ben\nstatus: won\nvalue: 1999.99\ncurrency: USD\nclosed_on: 2026-10-02\n"),
    "leads/a-lost.md": _lead("Lost one", "owner: anna\nstatus: lost\nreason: price\nvalue: 7000\nclosed_on: 2026-10-10\nfollow_up: 2026-11-30\n"),
    "leads/a-cancelled.md": _lead("Cancelled", "owner: ben\nstatus: cancelled\nreason: stopped\nclosed_on: 2026-10-11\n"),
    "leads/b-won.md": _lead("Closed only", "owner: anna\nstatus: won\nvalue: 100\nclosed_on: 2026-09-30\n", "Beta AG"),
    "leads/b-lost.md": _lead("Closed too", "owner: ben\nstatus: lost\nreason: timing\nclosed_on: 2026-08-01\n", "Beta AG"),
    "leads/no-company.md": "---\ntitle: Without a company\nowner: anna\nstatus: potential\n---\n",
}

EDGE_CONFIG = BASE_CONFIG.replace("locale: en_US", "locale: de_DE").replace("Ben Ott", "'Ben <Ott> & Co'") + (
    "qualification: [budget, authority, need, timeline]\n"
)


def test_edge_cases_print_the_same(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", EDGE_LEADS, EDGE_CONFIG)
    assert assert_same_pages(root, name="company.html", block=company_page.content) == 2
    fast, _ = plans(root, date.fromisoformat(TODAY), "company.html", company_page.content)  # one look at the output itself
    text = dict(fast.render(i) for i in range(len(fast.pages)))["companies/mueller-soehne-gmbh.html"].decode()
    assert "<h1>Müller &amp; &lt;Söhne&gt; &#34;GmbH&#34;</h1>" in text
    assert '<a href="../leads/a-offer.html">Offer &lt;b&gt;big&lt;/b&gt; &amp; bold</a> <span class="badge warn">' in text
    assert '<td><a href="../owners/ben.html">Ben &lt;Ott&gt; &amp; Co</a></td>' in text
    assert text.count("<tr>\n<th scope=\"row\">") == 10


def test_english_pages_print_the_same(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", EDGE_LEADS, EDGE_CONFIG.replace("locale: de_DE", "locale: en_US"))
    assert assert_same_pages(root, name="company.html", block=company_page.content) == 2


def test_the_example_pipeline_prints_the_same() -> None:
    assert assert_same_pages(REPO, name="company.html", block=company_page.content) > 20


def test_a_generated_pipeline_prints_the_same(tmp_path: Path) -> None:
    generate(400, tmp_path / "g")
    assert assert_same_pages(tmp_path / "g", date(2026, 11, 22), "company.html", company_page.content) > 100


def test_a_difference_shows_as_a_diff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the test says when the Python block is changed: the page and the lines, the template's and the module's."""
    root = write_project(tmp_path / "p", {"leads/a-won.md": EDGE_LEADS["leads/a-won.md"]}, EDGE_CONFIG)
    monkeypatch.setattr(company_page, "tile_head", lambda label, tone: f"<div>{label}</div>")
    with pytest.raises(pytest.fail.Exception) as failure:
        assert_same_pages(root, name="company.html", block=company_page.content)
    message = str(failure.value)
    assert message.startswith("companies/mueller-soehne-gmbh.html differs:\n--- company.html\n+++ funnel_site.company_page\n")
    assert '\n-<div class="tile">\n-<p class="tile-label">Offene Pipeline</p>\n' in message
    assert "\n+<div>Offene Pipeline</div>" in message


@pytest.mark.parametrize(("override", "old", "new", "shown"), [
    ("company.html", "<h1>{{ company.label }}</h1>", "<h1>OURS {{ company.label }}</h1>", "<h1>OURS Müller &amp; &lt;Söhne&gt; &#34;GmbH&#34;</h1>"),
    ("macros.html", '<p class="tile-label">{{ label }}</p>', '<p class="tile-label">OURS {{ label }}</p>', '<p class="tile-label">OURS Open pipeline</p>'),
])
def test_a_pipelines_own_template_renders_as_written(make_project: Callable[..., Path], override: str, old: str, new: str, shown: str) -> None:
    """Where the pipeline has its own company.html or macros.html, the template's block renders: what it writes shows."""
    plan, pages = own_template_pages(make_project, {"leads/a.md": EDGE_LEADS["leads/a-won.md"]}, override, old, new)
    assert plan.env.get_template("company.html").blocks["content"] is not company_page.content
    assert shown in pages["companies/mueller-soehne-gmbh.html"]
