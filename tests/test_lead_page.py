"""The built-in lead page's content in Python (lead_page.py) prints what templates/lead.html prints, byte for byte.

Each pipeline's lead pages are rendered twice, with the Python block and with the template's own Jinja
block, and compared. A failure names the page and shows the first differing lines: change lead_page.py
to match the template (or the template, if the template is what was wrong).
"""

from __future__ import annotations

import difflib
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterator

import jinja2
import pytest

from funnel_site import lead_page, views
from funnel_site.build import check, restricted_check
from funnel_site.render import SitePlan, _page_link, plan_site
from conftest import BASE_CONFIG, TODAY, write_project

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from generate import generate  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
Block = Callable[[jinja2.runtime.Context], Iterator[str]]  # a template block as Jinja calls it

# Everything a lead page shows in more than one way: closed leads with reasons, foreign currencies, a
# probability set on the lead, a criterion of its own, contacts with links and without, custom fields of
# every YAML type, markup in every text, no notes, history into a closed status.
EDGE_LEADS = {
    "leads/open.md": """\
        ---
        title: Müller & Söhne <GmbH>
        owner: ben
        status: active
        stage: offer
        value: 12000.50
        currency: USD
        probability: 35
        expected_close: 2026-12-20
        created: 2026-09-01
        last_contact: 2026-11-20
        follow_up: 2026-11-01
        company: "A&B \\"Quote\\" Co"
        next_step: Send <b>offer</b> & call
        source: referral
        tags: [big, "<tag>", 2026]
        qualification: {budget: true, authority: false, need: true}
        contact:
          - {name: "Eva <E>", role: CTO & CEO, email: eva@example.com, phone: "+49 (30) 123/456", web: "https://eva.example.com/?a=1&b=2"}
          - {email: "not an address <x>", fax: 12345}
        history:
          - {date: 2026-09-01, stage: lead}
          - {date: 2026-10-01, stage: offer}
        homepage: https://example.com/a?b=1&c=2
        javascript_link: "javascript:alert(1)"
        plain: "<script>x</script>"
        yes_field: true
        no_field: false
        none_field:
        mapping_field: {a: 1, "<b>": "&"}
        list_field: [1, "<2>", 2026-01-01]
        date_field: 2026-05-04
        number_field: 12.50
        int_field: 7
        ---
        # Notes

        Met **Eva**, see [site](https://example.com).
        """,
    "leads/won.md": """\
        ---
        title: Won deal
        owner: anna
        status: won
        value: 5000
        closed_on: 2026-11-02
        created: 2026-01-15
        history:
          - {date: 2026-01-15, stage: lead}
          - {date: 2026-06-01, stage: negotiation}
          - {date: 2026-11-02, stage: won}
        ---
        """,
    "leads/lost.md": """\
        ---
        title: Lost one
        owner: anna
        status: lost
        reason: Price <too> high & slow
        closed_on: 2026-10-10
        last_contact: 2026-10-01
        ---
        Lost because of the price.
        """,
    "leads/cancelled.md": """\
        ---
        title: Cancelled
        owner: anna
        status: cancelled
        reason: Project stopped
        closed_on: 2026-10-11
        history:
          - {date: 2026-09-01, stage: offer}
          - {date: 2026-10-11, stage: cancelled}
        ---
        """,
    "leads/idea.md": """\
        ---
        title: An idea
        owner: ben
        status: potential
        created: 2026-11-22
        qualification: {budget: true, authority: true, need: true, timeline: true}
        ---
        """,
    "leads/stale.md": """\
        ---
        title: Stale and overdue
        owner: anna
        status: active
        stage: lead
        value: 100
        expected_close: 2026-11-01
        created: 2025-11-22
        last_contact: 2026-01-01
        follow_up: 2026-02-01
        qualification: {budget: false}
        ---
        Nothing happened.
        """,
}

EDGE_CONFIG = BASE_CONFIG.replace("locale: en_US", "locale: de_DE") + (
    "qualification: [budget, authority, need, timeline, champion]\n"
    "edit_url: https://git.example.com/edit/main/{path}?x=1&y=2\n"
)


def plans(root: Path, today: date, name: str = "lead.html", block: Block = lead_page.content, owner: str | None = None) -> tuple[SitePlan, SitePlan]:
    """The plan as a build makes it (template ``name``'s content by the Python ``block``), and the same plan rendered by the
    template's own block; ``owner``: their restricted site. Shared with tests/test_company_page.py."""
    checked = check(root, today)
    if owner is not None:
        checked = restricted_check(checked, owner, today)
    fast = plan_site(checked.project, checked.figures, checked.problems, checked.scope)
    assert fast.env.get_template(name).blocks["content"] is block
    jinja = plan_site(checked.project, checked.figures, checked.problems, checked.scope)
    template = jinja.env.get_template(name)
    template.blocks["content"] = template.root_render_func.__globals__["block_content"]  # the compiled template's own
    return fast, jinja


def assert_same_pages(root: Path, today: date = date.fromisoformat(TODAY), name: str = "lead.html", block: Block = lead_page.content,
                      owner: str | None = None) -> int:
    """How many pages of template ``name`` there are; fails with the first lines that differ between the two ways."""
    fast, jinja = plans(root, today, name, block, owner)
    pages = [index for index, (_, template, _) in enumerate(fast.pages) if template == name]
    for index in pages:
        (path, python_text), (_, jinja_text) = fast.render(index), jinja.render(index)
        if python_text != jinja_text:
            diff = difflib.unified_diff(jinja_text.decode().splitlines(), python_text.decode().splitlines(), name, block.__module__, n=1, lineterm="")
            pytest.fail(f"{path} differs:\n" + "\n".join(list(diff)[:40]))
    return len(pages)


def test_edge_cases_print_the_same(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", EDGE_LEADS, EDGE_CONFIG)
    assert assert_same_pages(root) == len(EDGE_LEADS)
    fast, _ = plans(root, date.fromisoformat(TODAY))  # one look at the output itself: markup escaped, links there
    text = dict(fast.render(i) for i in range(len(fast.pages)))["leads/open.html"].decode()
    assert "<h1>Müller &amp; Söhne &lt;GmbH&gt;</h1>" in text
    assert '<a href="https://example.com/a?b=1&amp;c=2">https://example.com/a?b=1&amp;c=2</a>' in text
    assert "<dd>&lt;script&gt;x&lt;/script&gt;</dd>" in text


def test_english_pages_print_the_same(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", EDGE_LEADS, EDGE_CONFIG.replace("locale: de_DE", "locale: en_US"))
    assert assert_same_pages(root) == len(EDGE_LEADS)


def test_the_example_pipeline_prints_the_same() -> None:
    assert assert_same_pages(REPO) > 20


def test_a_generated_pipeline_prints_the_same(tmp_path: Path) -> None:
    generate(400, tmp_path / "g")
    assert assert_same_pages(tmp_path / "g", date(2026, 11, 22)) == 400


def own_template_pages(make_project: Callable[..., Path], leads: dict[str, str], name: str, old: str, new: str) -> tuple[SitePlan, dict[str, str]]:
    """A pipeline with its own template ``name``, the built-in one with ``old`` replaced by ``new``: its plan and its pages' text.
    Shared with tests/test_company_page.py."""
    builtin = (REPO / "templates" / name).read_text(encoding="utf-8")
    assert old in builtin
    root = make_project({**leads, f"templates/{name}": builtin.replace(old, new)})
    checked = check(root, date.fromisoformat(TODAY))
    plan = plan_site(checked.project, checked.figures, checked.problems, checked.scope)
    return plan, {path: text.decode() for path, text in map(plan.render, range(len(plan.pages)))}


@pytest.mark.parametrize(("override", "old", "new", "shown"), [
    ("lead.html", '{{ _("Facts") }}', "OUR FACTS", "OUR FACTS"),
    ("macros.html", '<span class="badge status-{{ status }}">', '<span class="badge status-{{ status }}">OURS ',
     '<span class="badge status-potential">OURS Idea</span>'),
])
def test_a_pipelines_own_template_renders_as_written(make_project: Callable[..., Path], override: str, old: str, new: str, shown: str) -> None:
    """Where the pipeline has its own lead.html or macros.html, the template's block renders: what it writes shows."""
    plan, pages = own_template_pages(make_project, {"leads/a.md": EDGE_LEADS["leads/idea.md"]}, override, old, new)
    assert plan.env.get_template("lead.html").blocks["content"] is not lead_page.content
    assert shown in pages["leads/a.html"]


def test_a_pipelines_own_builtin_macros_render_as_written(make_project: Callable[..., Path]) -> None:
    """lead.html imports field_value from "builtin/macros.html", which the loader finds in the pipeline's
    templates/builtin/ first: a pipeline with that file gets the template's block, and what the file writes."""
    builtin = (REPO / "templates" / "macros.html").read_text(encoding="utf-8")
    ours = builtin.replace('<a href="{{ safe_url(value) }}">', '<a class="OURS" href="{{ safe_url(value) }}">')
    assert ours != builtin
    root = make_project({"leads/a.md": EDGE_LEADS["leads/idea.md"].replace("status: potential", "status: potential\n        website: https://a.example"),
                         "templates/builtin/macros.html": ours})
    checked = check(root, date.fromisoformat(TODAY))
    plan = plan_site(checked.project, checked.figures, checked.problems, checked.scope)
    assert plan.env.get_template("lead.html").blocks["content"] is not lead_page.content
    page = dict(map(plan.render, range(len(plan.pages))))["leads/a.html"].decode()
    assert '<dd><a class="OURS" href="https://a.example">https://a.example</a></dd>' in page


def test_a_restricted_sites_pages_print_the_same(tmp_path: Path) -> None:
    """The frame around the content (lead_page.framed) carries the restricted site's note, as base.html writes it."""
    root = write_project(tmp_path / "p", EDGE_LEADS, EDGE_CONFIG)
    assert assert_same_pages(root, owner="ben") == 2
    fast, _ = plans(root, date.fromisoformat(TODAY), owner="ben")
    page = dict(map(fast.render, range(len(fast.pages))))["leads/idea.html"].decode()
    assert '<p class="scope" role="note">' in page


def test_the_frame_is_made_once_per_depth_and_only_around_the_built_in_base(tmp_path: Path, make_project: Callable[..., Path]) -> None:
    root = write_project(tmp_path / "p", {**EDGE_LEADS, "leads/deeper/down.md": EDGE_LEADS["leads/idea.md"]}, EDGE_CONFIG)
    assert assert_same_pages(root) == len(EDGE_LEADS) + 1
    fast, _ = plans(root, date.fromisoformat(TODAY))
    for index in range(len(fast.pages)):
        fast.render(index)
    assert sorted(fast.frames) == [("company.html", "../", "companies"), ("lead.html", "../", "leads"), ("lead.html", "../../", "leads")]
    assert all(len(parts) == 3 for parts in fast.frames.values())
    marked = write_project(tmp_path / "m", EDGE_LEADS, EDGE_CONFIG.replace("title: Testpipeline", 'title: "Test\ue003pipeline"'))
    assert assert_same_pages(marked) == len(EDGE_LEADS)  # a title holding a marker: no frame, the template's own
    fast, _ = plans(marked, date.fromisoformat(TODAY))
    fast.render(next(i for i, (_, name, _) in enumerate(fast.pages) if name == "lead.html"))
    assert list(fast.frames.values()) == [()]  # only the lead page rendered
    builtin = (REPO / "templates" / "base.html").read_text(encoding="utf-8")
    own = make_project({"leads/a.md": EDGE_LEADS["leads/idea.md"], "templates/base.html": builtin.replace("<main id=\"content\">", "<main id=\"content\" class=\"ours\">")})
    checked = check(own, date.fromisoformat(TODAY))
    plan = plan_site(checked.project, checked.figures, checked.problems, checked.scope)
    page = dict(map(plan.render, range(len(plan.pages))))["leads/a.html"].decode()
    assert '<main id="content" class="ours">' in page and list(plan.frames.values()) == [()]


def test_a_plan_on_an_earlier_plans_environment_prints_its_own_links(tmp_path: Path) -> None:
    """The dev server plans each build on the last one's environment: the texts kept per build (lead_page.Shown) follow
    the new plan's links. Here the company's page moves: a second company's name gives the same readable slug."""
    lead = "---\ntitle: A\ncompany: Acme\nowner: anna\nstatus: potential\n---\n"
    moved = views.company_slugs(["Acme", "ACME"])["Acme"]
    assert moved != "acme"
    plan = None
    for name, leads, slug in (("one", {"leads/a.md": lead}, "acme"), ("two", {"leads/a.md": lead, "leads/b.md": lead.replace("Acme", "ACME")}, moved)):
        checked = check(write_project(tmp_path / name, leads), date.fromisoformat(TODAY))
        plan = plan_site(checked.project, checked.figures, checked.problems, env=plan.env if plan else None)
        page = dict(map(plan.render, range(len(plan.pages))))["leads/a.html"].decode()
        assert f'<p class="subtitle">\n<a href="../companies/{slug}.html">Acme</a> · ' in page


def test_shared_texts_start_afresh_past_their_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lead_page, "SHARED_SIZE", 3)
    written: list[str] = []
    texts = lead_page.Shared(lambda value: written.append(value) or f"<{value}>")
    assert [texts[value] for value in "abcdabd"] == ["<a>", "<b>", "<c>", "<d>", "<a>", "<b>", "<d>"]
    assert written == list("abcdab")  # full after c: d starts afresh, then a and b are new again; d is kept
    assert sorted(texts) == ["a", "b", "d"]


def test_encoded_texts_are_kept_as_shared_texts_are(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pages' texts as UTF-8 (lead_page.EncodedTexts): each encoded once, zeros every time (``-0`` prints apart from
    ``0``), afresh past the bound."""
    monkeypatch.setattr(lead_page, "SHARED_SIZE", 2)
    texts = lead_page.Shared(lambda value: f"{value} €")
    encoded = lead_page.EncodedTexts(texts)
    assert [encoded[value] for value in (Decimal("1"), Decimal("-0"), Decimal("0"))] == [b"1 \xe2\x82\xac", b"-0 \xe2\x82\xac", b"0 \xe2\x82\xac"]
    assert list(encoded) == [Decimal("1")]
    assert [encoded[value] for value in "ab"] == [b"a \xe2\x82\xac", b"b \xe2\x82\xac"]
    assert list(encoded) == ["b"]  # full after 1 and a: b starts afresh


def test_pages_at_every_depth_share_the_texts_that_link_nowhere(tmp_path: Path) -> None:
    """A build's texts of days, amounts, badges ... (lead_page.Shown) serve its pages at every depth (a company page shows
    the amounts its leads' rows showed); an owner's and a company's link (lead_page.Links) are the depth's own."""
    lead = "---\ntitle: A\ncompany: Acme\nowner: anna\nstatus: potential\n---\n"
    checked = check(write_project(tmp_path, {"leads/a.md": lead}), date.fromisoformat(TODAY))
    plan = plan_site(checked.project, checked.figures, checked.problems)
    top, nested = (lead_page.Macros({**plan.env.globals, **plan.context, "link": _page_link(root)}, plan.env, True) for root in ("", "../"))
    assert top.shown is nested.shown
    assert top.links.companies["Acme"] == '<a href="companies/acme.html">Acme</a>'
    assert nested.links.companies["Acme"] == '<a href="../companies/acme.html">Acme</a>'
