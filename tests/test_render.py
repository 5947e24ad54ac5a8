"""The dashboard: page set, escaping of hostile values, relative links, locale, determinism."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from conftest import TODAY, lead
from funnel_site.notes import render_notes, safe_url
from funnel_site.render import builtin_templates
from funnel_site.views import capped, company_slugs, table_pages

ACME = lead(
    title="Website relaunch", owner="anna", status="active", stage="offer", value=12000,
    expected_close="2026-12-15", created="2026-10-01", follow_up="2026-11-20", next_step="Call",
    company="ACME GmbH", source="referral", tags="[web, relaunch]",
)
NESTED = lead(
    title="Hosting renewal", owner="ben", status="won", value=3000, closed_on="2026-11-02",
    created="2026-09-01", company="Müller & Söhne",
)
IDEA = lead(title="Shop idea", owner="ben", status="potential", follow_up="2027-01-10", company="ACME GmbH")
LOST = lead(title="Old tender", owner="anna", status="lost", closed_on="2026-10-10", reason="price", value=5000)

HOSTILE_TEXT = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
HOSTILE = f"""\
---
title: '{HOSTILE_TEXT}'
owner: anna
status: active
stage: lead
value: 100
expected_close: 2026-12-01
next_step: '<b onmouseover=alert(3)>x</b>'
company: '"><svg onload=alert(4)>'
source: referral
tags: ['<script>alert(5)</script>']
website: 'javascript:alert(6)'
homepage: 'https://example.com/?a=1&b="2"'
contact:
  - name: '<img src=x onerror=alert(7)>'
    email: 'x@example.com" onclick="alert(8)'
    url: 'javascript:alert(9)'
---
<script>alert(10)</script>

[click](javascript:alert(11)) [mail](mailto:a@example.com) [ok](https://example.com/a)

<img src=x onerror=alert(12)>
"""


def build(run_cli: Callable[..., object], root: Path, out: Path) -> dict[str, str]:
    result = run_cli("build", str(root), "-o", str(out), "--today", TODAY)
    assert result.code == 0, result.err  # type: ignore[attr-defined]
    return {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in sorted(out.rglob("*.html"))}


@pytest.fixture
def site(make_project: Callable[..., Path], run_cli: Callable[..., object], tmp_path: Path) -> dict[str, str]:
    root = make_project({
        "leads/acme.md": ACME, "leads/bestandskunden/mueller hosting.md": NESTED,
        "leads/shop-idea.md": IDEA, "leads/old.md": LOST,
    })
    return build(run_cli, root, tmp_path / "site")


def test_every_page_type_is_built(site: dict[str, str]) -> None:
    assert sorted(site) == [
        "board.html", "closed.html", "companies.html",
        "companies/acme-gmbh.html", "companies/mueller-soehne.html",
        "ideas.html", "index.html",
        "leads.html", "leads/acme.html", "leads/bestandskunden/mueller hosting.html",
        "leads/old.html", "leads/shop-idea.html",
        "owners/anna.html", "owners/ben.html",
    ]


def test_exports_and_assets_sit_next_to_the_pages(make_project: Callable[..., Path], run_cli: Callable[..., object], tmp_path: Path) -> None:
    build(run_cli, make_project({"leads/acme.md": ACME}), tmp_path / "site")
    names = sorted(p.relative_to(tmp_path / "site").as_posix() for p in (tmp_path / "site").rglob("*") if p.is_file() and p.suffix != ".html")
    assert names == [".funnel-site", "assets/leads-table.js", "assets/style.css", "data.json", "followups.ics", "lead.schema.json", "leads.csv"]


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value or "" for name, value in attrs if name in ("href", "src")]


def test_every_relative_link_and_source_points_at_a_built_file(site: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "site"
    checked = 0
    for page, html in site.items():
        parser = Links()
        parser.feed(html)
        for url in parser.urls:
            if urlsplit(url).scheme or url.startswith("#"):
                continue
            target = urlsplit(urljoin(f"http://site/{quote_path(page)}", url)).path
            assert (out / unquote(target.lstrip("/"))).is_file(), f"{page}: {url}"
            checked += 1
    assert checked > 200


def quote_path(page: str) -> str:
    return page.replace(" ", "%20")


def test_nested_lead_page_links_back_up_two_levels(site: dict[str, str]) -> None:
    page = site["leads/bestandskunden/mueller hosting.html"]
    assert '<link rel="stylesheet" href="../../assets/style.css">' in page
    assert '<a href="../../companies/mueller-soehne.html">Müller &amp; Söhne</a>' in page
    assert '<a href="leads/bestandskunden/mueller%20hosting.html">Hosting renewal</a>' in site["closed.html"]


def test_hostile_values_are_escaped_everywhere(make_project: Callable[..., Path], run_cli: Callable[..., object], tmp_path: Path) -> None:
    site = build(run_cli, make_project({"leads/evil.md": HOSTILE, "leads/acme.md": ACME}), tmp_path / "site")
    page = site["leads/evil.html"]
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(2)&gt;</h1>" in page
    assert "<dt>website</dt><dd>javascript:alert(6)</dd>" in page
    assert '<dt>homepage</dt><dd><a href="https://example.com/?a=1&amp;b=&#34;2&#34;">https://example.com/?a=1&amp;b=&#34;2&#34;</a></dd>' in page
    assert '<a href="mailto:x@example.com&#34; onclick=&#34;alert(8)">' not in page  # space inside: not a link
    assert '<li><span class="meta">email:</span> x@example.com&#34; onclick=&#34;alert(8)</li>' in page
    assert '<li><span class="meta">url:</span> javascript:alert(9)</li>' in page
    assert "<p>&lt;script&gt;alert(10)&lt;/script&gt;</p>" in page
    assert '<p>[click](javascript:alert(11)) <a href="mailto:a@example.com">mail</a> <a href="https://example.com/a">ok</a></p>' in page
    assert "<p>&lt;img src=x onerror=alert(12)&gt;</p>" in page
    for name, html in site.items():
        assert not re.search(r"<(script|img|svg|b)[^>]*(alert|onerror|onload|onmouseover)", html), name
        assert not re.search(r"""(href|src)=["']?\s*javascript:""", html, re.I), name
        tags = Tags()
        tags.feed(html)
        assert [a for a in tags.attributes if a.startswith("on") or a == "style"] == [], name
        assert [t for t in tags.scripts if not t] == [], name


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.attributes: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes += [name for name, _ in attrs]
        if tag == "script":
            self.scripts.append(dict(attrs).get("src") or "")


def test_attributes_are_always_quoted(site: dict[str, str]) -> None:
    for name, html in site.items():
        for tag in re.findall(r"<[a-zA-Z][^>]*>", html):
            unquoted = re.findall(r"""\s[\w:-]+=(?!["'])""", re.sub(r'"[^"]*"', '""', tag))
            assert not unquoted, f"{name}: {tag}"


def test_pages_carry_a_strict_csp_and_no_inline_script(site: dict[str, str]) -> None:
    csp = """<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'">"""
    for name, html in site.items():
        assert csp in html, name
        assert re.findall(r"<script[^>]*>", html) in ([], ['<script src="assets/leads-table.js">']), name


def test_edit_link_fills_in_the_quoted_path(make_project: Callable[..., Path], run_cli: Callable[..., object], tmp_path: Path) -> None:
    from conftest import BASE_CONFIG

    config = BASE_CONFIG + "edit_url: https://git.example.com/edit/main/{path}\n"
    site = build(run_cli, make_project({"leads/a b/acme.md": ACME}, config=config), tmp_path / "site")
    assert '<a class="button" href="https://git.example.com/edit/main/leads/a%20b/acme.md">Edit this file</a>' in site["leads/a b/acme.html"]


def test_no_edit_link_without_edit_url(site: dict[str, str]) -> None:
    assert "Edit this file" not in site["leads/acme.html"]


def test_german_locale_translates_and_formats(make_project: Callable[..., Path], run_cli: Callable[..., object], tmp_path: Path) -> None:
    from conftest import BASE_CONFIG

    site = build(run_cli, make_project({"leads/acme.md": ACME}, config=BASE_CONFIG.replace("en_US", "de_DE")), tmp_path / "site")
    index = site["index.html"]
    assert '<html lang="de">' in index
    assert '<p class="tile-label">Offene Pipeline</p>\n<p class="tile-value">12.000\xa0€</p>\n<p class="tile-detail">1 aktiver Lead</p>' in index
    assert "<span class=\"asof\">Stand: 22. November 2026</span>" in index
    assert "Wiedervorlage überfällig" in site["leads.html"]


def test_english_is_the_default_ui(site: dict[str, str]) -> None:
    assert '<p class="tile-label">Open pipeline</p>\n<p class="tile-value">€12,000</p>\n<p class="tile-detail">1 active lead</p>' in site["index.html"]


def test_every_template_message_has_a_german_translation() -> None:
    templates = builtin_templates()
    found = {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(str(templates), method_map=[("**.html", "jinja2")], options_map={"**.html": {"extensions": "jinja2.ext.i18n"}})
    }
    with (templates / "locale/de/LC_MESSAGES/messages.po").open("rb") as source:
        catalog = read_po(source)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and all(m.string if isinstance(m.string, tuple) else [m.string])}
    assert found - translated == set()
    assert translated - found == set(), "obsolete entries in messages.po"


def test_charts_are_accessible_svg_with_a_table_of_the_same_numbers(site: dict[str, str]) -> None:
    index = site["index.html"]
    assert index.count('role="img"') == 3
    assert '<svg class="chart chart-funnel" viewBox="0 0 640 156" role="img" aria-labelledby="funnel-title" focusable="false">\n<title id="funnel-title">Open value and weighted value of active leads by stage</title>' in index
    assert '<tr><th scope="row">Offer</th><td class="num">50%</td><td class="num">1</td><td class="num">€12,000</td><td class="num">€6,000</td></tr>' in index


def test_same_input_gives_identical_bytes(make_project: Callable[..., Path], run_cli: Callable[..., object], tmp_path: Path) -> None:
    root = make_project({"leads/acme.md": ACME, "leads/old.md": LOST, "leads/bestandskunden/x.md": NESTED})
    first = build(run_cli, root, tmp_path / "one")
    second = build(run_cli, root, tmp_path / "two")
    assert first == second


def test_board_lists_active_leads_under_their_stage(site: dict[str, str]) -> None:
    board = site["board.html"]
    offer = board.split('<h2 id="stage-2">')[1].split("</section>")[0]
    assert offer.startswith('Offer <span class="count">1</span></h2>')
    assert '<a href="leads/acme.html">Website relaunch</a>' in offer
    assert "Hosting renewal" not in board


def test_table_rows_carry_their_filter_values(site: dict[str, str]) -> None:
    table = site["leads.html"]
    assert ('<tr data-status="active" data-stage="offer" data-owner="anna" data-source="referral" data-tags="[&#34;web&#34;, &#34;relaunch&#34;]"'
            ' data-attention="due stale">') in table  # its follow-up was two days ago, its last activity in October
    assert '<tr data-status="potential" data-stage="" data-owner="ben" data-source="" data-tags="[]" data-attention="">' in table  # due in 7 weeks


def test_company_slugs_are_readable_and_collision_safe() -> None:
    slugs = company_slugs(["ACME GmbH", "Acme GmbH", "Müller & Söhne", "株式会社"])
    assert slugs == {
        "ACME GmbH": "acme-gmbh-" + slugs["ACME GmbH"][-8:],
        "Acme GmbH": "acme-gmbh-" + slugs["Acme GmbH"][-8:],
        "Müller & Söhne": "mueller-soehne",
        "株式会社": "company-" + slugs["株式会社"][-8:],
    }
    assert len(set(slugs.values())) == 4
    assert company_slugs(["Acme GmbH", "ACME GmbH", "Other"])["Acme GmbH"] == slugs["Acme GmbH"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a", "https://example.com/a"),
        ("  mailto:a@example.com ", "mailto:a@example.com"),
        ("tel:+4930123", "tel:+4930123"),
        ("docs/offer.pdf", "docs/offer.pdf"),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        ("java\tscript:alert(1)", None),
        ("\x01javascript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("vbscript:x", None),
        ("file:///etc/passwd", None),
        (42, None),
    ],
)
def test_safe_url_allows_only_listed_schemes(url: object, expected: str | None) -> None:
    assert safe_url(url) == expected


def test_notes_render_markdown_without_raw_html_and_with_safe_links() -> None:
    html = render_notes("# Call\n\n<b>x</b> [a](javascript:alert(1)) ![p](https://tracker.example/p.png)\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n")
    assert html == (
        "<h3>Call</h3>\n"
        '<p>&lt;b&gt;x&lt;/b&gt; [a](javascript:alert(1)) <a href="https://tracker.example/p.png">p</a></p>\n'
        "<table>\n<thead>\n<tr>\n<th>a</th>\n<th class=\"align-right\">b</th>\n</tr>\n</thead>\n"
        "<tbody>\n<tr>\n<td>1</td>\n<td class=\"align-right\">2</td>\n</tr>\n</tbody>\n</table>\n"
    )


def many_leads(count: int) -> dict[str, str | bytes]:
    """``count`` leads: three in five active (two thirds of them in "offer"), then ideas, won and lost ones.

    The last one, ``needle``, is a lost lead: in the table's order it sits on the last page.
    """
    files: dict[str, str | bytes] = {}
    for i in range(count):
        common = {"title": f"Deal {i:04d}", "owner": ("anna", "ben")[i % 2], "value": 1000 + 7 * i, "created": "2026-06-01", "company": f"Firm {i % 40:02d}"}
        kind = i % 5
        if kind < 3:
            extra = {"status": "active", "stage": "negotiation" if i % 3 == 0 else "offer", "expected_close": f"2027-01-{1 + i % 28:02d}"}
        elif kind == 3:
            extra = {"status": "potential", "follow_up": "2027-02-01"}
        else:
            extra = {"status": ("won", "lost")[i % 2], "closed_on": "2026-10-01", "reason": "price"}
        files[f"leads/deal-{i:04d}.md"] = lead(**common, **extra)
    files["leads/needle.md"] = lead(title="Zeppelin needle", owner="ben", status="lost", closed_on="2026-09-01", reason="price", value=1, created="2026-06-01", company="Needle GmbH")
    return files


@pytest.fixture(scope="module")
def big_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from datetime import date

    from conftest import write_project
    from funnel_site.build import build as build_site

    root = write_project(tmp_path_factory.mktemp("big") / "pipeline", many_leads(1100))
    build_site(root, root.parent / "site", date.fromisoformat(TODAY))
    return root.parent / "site"


def test_table_pages_and_board_caps_are_counted_right() -> None:
    assert [(p.path, p.start, p.end) for p in table_pages(0)] == [("leads.html", 0, 0)]
    assert [(p.path, p.start, p.end) for p in table_pages(500)] == [("leads.html", 0, 500)]
    assert [(p.path, p.start, p.end, p.count) for p in table_pages(1001)] == [
        ("leads.html", 0, 500, 3), ("leads-2.html", 500, 1000, 3), ("leads-3.html", 1000, 1001, 3),
    ]


def test_a_long_table_is_split_into_linked_pages_holding_every_lead_once(big_site: Path) -> None:
    pages = {p.name: p.read_text(encoding="utf-8") for p in big_site.glob("leads*.html")}
    assert sorted(pages) == ["leads-2.html", "leads-3.html", "leads.html"]
    ids = []
    for name in ("leads.html", "leads-2.html", "leads-3.html"):
        ids += re.findall(r'<th scope="row" data-sort="[^"]*"><a href="leads/([^"]+)\.html">', pages[name])
    assert sorted(ids) == sorted([f"deal-{i:04d}" for i in range(1100)] + ["needle"])
    assert ids[-1] == "needle"  # lost, the smallest value: last in the documented order
    assert "<p>Rows 501–1,000 of 1,101</p>" in pages["leads-2.html"]
    assert '<li><a href="leads.html" rel="prev">Previous</a></li>' in pages["leads-2.html"]
    assert '<li><a href="leads-3.html" rel="next">Next</a></li>' in pages["leads-2.html"]
    assert '<a href="leads-2.html" aria-current="page" aria-label="Page 2">2</a>' in pages["leads-2.html"]
    assert 'rel="next"' not in pages["leads-3.html"] and 'rel="prev"' not in pages["leads.html"]
    assert '<p class="hint" id="lead-count" aria-live="polite" data-template="{shown} of {total} leads">1101 leads</p>' in pages["leads-3.html"]
    for html in pages.values():
        assert re.findall(r"<script[^>]*>", html) == ['<script src="leads-data.js">', '<script src="assets/leads-table.js">']


def test_the_table_data_script_holds_every_lead_as_text(big_site: Path) -> None:
    script = (big_site / "leads-data.js").read_text(encoding="utf-8")
    assert script.startswith("window.funnelLeads = {") and script.endswith("};\n")
    rows = json.loads(script.removeprefix("window.funnelLeads = ").removesuffix(";\n"))["rows"]
    assert len(rows) == 1101
    assert rows[-1] == [
        ["lost", "", "ben", "", [], []],
        [
            ["Zeppelin needle", ["a", "leads/needle.html", "Zeppelin needle"]],
            ["Needle GmbH", ["a", "companies/needle-gmbh.html", "Needle GmbH"]],
            ["lost", ["span", "badge status-lost", "Lost"]], [-1, "–"], ["Ben Ott", ["a", "owners/ben.html", "Ben Ott"]],
            [1.0, "€1"], [0.0, "0%"], [-1, "–"], ["2026-09-01", "Sep 1, 2026"], ["", "–"], ["", "–"], [""],
        ],
    ]


def test_hostile_values_in_the_table_data_stay_text(make_project: Callable[..., Path]) -> None:
    from datetime import date

    from funnel_site import figures as compute_figures
    from funnel_site.load import load_project
    from funnel_site.render import plan_site

    project = load_project(make_project({"leads/evil.md": HOSTILE, **many_leads(500)}))
    plan = plan_site(project, compute_figures.compute(project, date.fromisoformat(TODAY)), [])
    index = [path for path, _, _ in plan.pages].index("leads-data.js")
    script = plan.render(index)[1].decode()
    assert "<" not in script and ">" not in script and "&" not in script
    data = json.loads(script.removeprefix("window.funnelLeads = ").removesuffix(";\n"))
    evil = next(row for row in data["rows"] if row[1][0][0] == HOSTILE_TEXT)
    assert evil[1][0][1] == ["a", "leads/evil.html", HOSTILE_TEXT]


def test_a_long_board_column_shows_the_largest_leads_and_counts_the_rest(big_site: Path) -> None:
    board = (big_site / "board.html").read_text(encoding="utf-8")
    offer = board.split('<h2 id="stage-2">')[1].split("</section>")[0]
    assert offer.startswith('Offer <span class="count">440</span></h2>')
    assert offer.count('<li class="card') == 50
    assert '<p class="more"><a href="leads.html#status=active&amp;stage=offer">and 390 more in the table</a></p>' in offer
    shown = re.findall(r'data-lead="deal-(\d+)"', offer)
    offer_ids = [i for i in range(1100) if i % 5 < 3 and i % 3 != 0]
    assert sorted(map(int, shown)) == offer_ids[-50:]  # the largest values (7 € more per number)
    lead_column = board.split('<h2 id="stage-1">')[1].split("</section>")[0]
    assert "No leads in this stage." in lead_column and 'class="more"' not in lead_column


def test_capped_keeps_the_column_order() -> None:
    from types import SimpleNamespace

    leads = [SimpleNamespace(weighted=w, lead=SimpleNamespace(id=str(i))) for i, w in enumerate([5, 1, 9, None, 7])]
    assert [f.lead.id for f in capped(leads, 3)] == ["0", "2", "4"]  # type: ignore[arg-type]
    assert capped(leads, 5) == tuple(leads)  # type: ignore[arg-type]


def test_an_owner_page_lists_their_follow_ups_or_says_nothing_is_due(site: dict[str, str]) -> None:
    def follow_ups(page: str) -> str:
        return site[page].split('<ul class="items">\n', 1)[1].split("</ul>", 1)[0]

    assert follow_ups("owners/anna.html") == (
        '<li><span class="when overdue">Nov 20, 2026</span> <a href="../leads/acme.html">Website relaunch</a>'
        ' <span class="meta">Call</span></li>\n')
    assert follow_ups("owners/ben.html") == '<li class="empty">Nothing due.</li>\n'


def test_long_lists_show_their_first_rows_and_count_or_link_the_rest(big_site: Path) -> None:
    def page(name: str) -> str:
        return (big_site / name).read_text(encoding="utf-8")

    ideas = page("ideas.html")
    assert ideas.count("<tr>\n<th scope=\"row\">") == 100
    assert '</div>\n<p class="more"><a href="leads.html#status=potential">and 120 more in the table</a></p>\n' in ideas
    closed = page("closed.html")
    assert '<p class="more"><a href="leads.html#status=won">and 10 more in the table</a></p>\n</section>' in closed
    assert '<p class="more"><a href="leads.html#status=lost">and 11 more in the table</a></p>\n</section>' in closed
    assert "Zeppelin needle" not in closed  # the lost lead closed first: the 111th, most recent first
    anna = page("owners/anna.html")
    assert '<p class="more"><a href="../leads.html#owner=anna">and 450 more in the table</a></p>\n' in anna


def test_the_overview_links_its_follow_ups_and_stale_leads_past_its_lists_and_counts_its_warnings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import date

    from conftest import write_project
    from funnel_site import views
    from funnel_site.build import build as build_site

    monkeypatch.setattr(views, "LIST_ROWS", 2)
    files = {f"leads/late-{i}.md": lead(title=f"Late {i}", owner="anna", status="active", stage="offer", value=100 * i, created="2026-01-05",
                                        expected_close="2027-01-10", follow_up=f"2026-11-0{i}", last_contact="2026-01-05") for i in range(1, 6)}
    root = write_project(tmp_path / "pipeline", files)
    build_site(root, tmp_path / "site", date.fromisoformat(TODAY))
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")

    def section(heading: str) -> str:
        return index.split(f'<h2 id="{heading}-heading">')[1].split("</section>")[0]

    for heading, rows in (("followups", 2), ("stale", 2), ("warnings", 2)):
        assert section(heading).count("<li") == rows, heading
    assert section("followups").endswith('</ul>\n<p class="more"><a href="leads.html#attention=due">and 3 more in the table</a></p>\n')
    assert section("stale").endswith('</ul>\n<p class="more"><a href="leads.html#attention=stale">and 3 more in the table</a></p>\n')
    assert '<span class="count">15</span>' in section("warnings")
    assert section("warnings").endswith('</ul>\n<p class="more">and 13 more</p>\n')
    anna = (tmp_path / "site" / "owners" / "anna.html").read_text(encoding="utf-8").split('<h2 id="due-heading">')[1].split("</section>")[0]
    assert anna.endswith('</ul>\n<p class="more"><a href="../leads.html#owner=anna&amp;attention=due">and 3 more in the table</a></p>\n')


def test_a_group_makes_its_rates_only_when_asked_and_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from funnel_site import views

    calls: list[int] = []
    real = views.outcome_rates
    monkeypatch.setattr(views, "outcome_rates", lambda leads: calls.append(len(leads)) or real(leads))
    company = views.group("acme", "Acme", [])
    assert calls == []  # a company page never shows them
    assert (company.close_rate, company.win_rate, company.close_rate) == real([])[:2] + real([])[:1]
    assert calls == [0, 0]


def test_an_owners_table_is_the_owners_leads_sorted(tmp_path: Path) -> None:
    """Owner pages take their rows from one sort of all leads (``views.owner_table``): the same as sorting each
    owner's leads, for every owner, an owner without leads and a restricted site's own leads."""
    import sys
    from datetime import date

    from funnel_site.build import check
    from funnel_site.views import owned_by, owner_table, sorted_leads

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from generate import generate

    generate(600, tmp_path / "g")
    checked = check(tmp_path / "g", date.fromisoformat(TODAY))
    leads, config = checked.figures.leads, checked.project.config
    owners = {f.lead.owner for f in leads} | {"nobody"}
    for owner in sorted(owners):
        assert list(owner_table(leads, owner, config)) == sorted_leads(owned_by(leads, owner), config)
    own = [f for f in leads if f.lead.owner == min(owners)]
    assert list(owner_table(own, min(owners), config)) == sorted_leads(own, config)
