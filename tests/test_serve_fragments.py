"""The dev server keeps rows, lines and figures of unchanged leads; after every edit its site equals a cold build."""

from __future__ import annotations

import functools
import operator
from datetime import date
from pathlib import Path

import pytest

from conftest import lead, write_project
from funnel_site import datajson, load, table_data, views
from funnel_site.build import MARKER, build, check
from funnel_site.devsession import DevSession
from funnel_site.fragments import ROW_END, Fragments
from funnel_site.render import SitePlan, render_site

TODAY = date(2026, 11, 22)


def active(title: str, value: int, **fields: object) -> str:
    base: dict[str, object] = {
        "title": title, "owner": "anna", "stage": "offer", "value": value, "expected_close": "2026-12-01",
        "next_step": "Call", "follow_up": "2026-11-30", "created": "2026-11-01",
    }
    return lead(**{**base, **fields})


LEADS = {
    "leads/a.md": active("Alpha", 100, company="Acme GmbH"),
    "leads/b.md": active("Beta", 200, company="Acme GmbH", owner="ben"),
    "leads/c.md": active("Gamma", 300, stage="negotiation", follow_up="2026-11-10"),  # overdue: a warning
    "leads/d.md": lead(title="Delta idea", owner="ben", status="potential", follow_up="2026-12-05", company="Delta AG"),
    "leads/e.md": lead(title="Epsilon", owner="anna", status="won", value=500, closed_on="2026-10-01", company="Epsilon KG"),
    "leads/f.md": lead(title="Phi", owner="ben", status="lost", value=50, closed_on="2026-11-02", reason="Price"),
    "leads/sub/g.md": active("Gamma two", 70, stage="lead", source="website", tags="[x, y]"),
}


@pytest.fixture
def small_table_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three rows per table page: several pages and leads-data.js even for a handful of leads."""
    monkeypatch.setattr(views, "table_pages", functools.partial(views.table_pages, size=3))


def recorded_renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the pages rendered from now on, in order."""
    rendered: list[str] = []
    plain = SitePlan.render

    def render(plan: SitePlan, index: int) -> tuple[str, bytes]:
        rendered.append(plan.pages[index][0])
        return plain(plan, index)

    monkeypatch.setattr(SitePlan, "render", render)
    return rendered


def start(tmp_path: Path) -> DevSession:
    dev = DevSession(write_project(tmp_path / "p", dict(LEADS)), TODAY)
    assert dev.full_build().ok
    return dev


def cold(dev: DevSession) -> dict[str, bytes]:
    checked = check(dev.root, dev.today)
    return render_site(checked.project, checked.figures, checked.problems)


def save(dev: DevSession, relative: str, text: str | None) -> None:
    path = dev.root / relative
    if text is None:
        path.unlink()
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    outcome = dev.apply({path})
    assert outcome.ok, outcome.problems


EDITS: list[tuple[str, str, str | None]] = [
    ("value", "leads/a.md", active("Alpha", 150, company="Acme GmbH")),
    ("value moves it up the table", "leads/a.md", active("Alpha", 9000, company="Acme GmbH")),
    ("stage", "leads/a.md", active("Alpha", 9000, company="Acme GmbH", stage="negotiation")),
    ("company", "leads/a.md", active("Alpha", 9000, company="Neu GmbH", stage="negotiation")),
    ("company whose slug collides", "leads/sub/g.md", active("Gamma two", 70, stage="lead", company="Neu-GmbH")),
    ("owner", "leads/a.md", active("Alpha", 9000, company="Neu GmbH", owner="ben")),
    ("status", "leads/a.md", lead(title="Alpha", owner="ben", status="won", value=9000, closed_on="2026-11-20", company="Neu GmbH")),
    ("status back", "leads/a.md", active("Alpha", 9000, company="Neu GmbH")),
    ("delete", "leads/b.md", None),
    ("add", "leads/new/h.md", active("Eta", 400, company="Acme GmbH", owner="ben")),
    ("custom 1", "leads/c.md", active("Gamma", 300, stage="negotiation", follow_up="2026-11-10", prio=1)),
    ("custom true", "leads/c.md", active("Gamma", 300, stage="negotiation", follow_up="2026-11-10", prio="true")),
    ("custom 1.0", "leads/c.md", active("Gamma", 300, stage="negotiation", follow_up="2026-11-10", prio="1.0")),
    ("follow-up no longer overdue", "leads/c.md", active("Gamma", 300, stage="negotiation", follow_up="2026-11-23")),
    ("follow-up overdue again", "leads/c.md", active("Gamma", 300, stage="negotiation", follow_up="2026-11-21")),
    ("idea becomes active", "leads/d.md", active("Delta idea", 10, owner="ben", company="Delta AG")),
    ("an active lead's source, new to the pipeline", "leads/a.md", active("Alpha", 9000, company="Neu GmbH", source="referral")),
    ("title of a closed lead", "leads/f.md", lead(title="Phi two", owner="ben", status="lost", value=50, closed_on="2026-11-02")),
]


@pytest.mark.usefixtures("small_table_pages")
def test_site_equals_a_cold_build_after_every_edit(tmp_path: Path) -> None:
    dev = start(tmp_path)
    assert dev.rendered == cold(dev)
    for number, (what, relative, text) in enumerate(EDITS):
        save(dev, relative, text)
        assert dev.rendered == cold(dev), what
        assert dev.rendered == built(dev, tmp_path / f"site-{number}"), what  # what the server sends


def built(dev: DevSession, out: Path) -> dict[str, bytes]:
    """What ``funnel-site build`` writes, but its marker."""
    build(dev.root, out, dev.today, jobs=1)
    return {path.relative_to(out).as_posix(): path.read_bytes() for path in out.rglob("*") if path.is_file() and path.name != MARKER}


@pytest.mark.usefixtures("small_table_pages")
def test_rename_invalid_and_fixed_lead(tmp_path: Path) -> None:
    dev = start(tmp_path)
    (dev.root / "leads" / "a.md").rename(dev.root / "leads" / "z.md")
    assert dev.apply({dev.root / "leads" / "a.md", dev.root / "leads" / "z.md"}).ok
    assert dev.rendered == cold(dev) and "leads/z.html" in dev.rendered and "leads/a.html" not in dev.rendered
    before = dict(dev.rendered)
    (dev.root / "leads" / "c.md").write_text(active("Gamma", 300, stage="negotation"))
    assert [p.field for p in dev.apply({dev.root / "leads" / "c.md"}).problems] == ["stage"]
    assert dev.rendered == before
    save(dev, "leads/c.md", active("Gamma", 301, stage="negotiation"))
    assert dev.rendered == cold(dev)


@pytest.mark.usefixtures("small_table_pages")
def test_a_new_today_recomputes_everything(tmp_path: Path) -> None:
    dev = start(tmp_path)
    dev.today = date(2026, 12, 3)  # Alpha's follow-up (2026-11-30) and close date are now past
    save(dev, "leads/b.md", active("Beta", 201, company="Acme GmbH", owner="ben"))
    assert dev.rendered == cold(dev)


def kept(fragments: Fragments, kind: str, item: object) -> str | None:
    return fragments.pieces(kind, [item], lambda missing: [None] * len(missing))[0]  # None: not kept


def test_unchanged_leads_keep_their_figures_warnings_and_rows(tmp_path: Path) -> None:
    dev = start(tmp_path)
    assert dev.checked is not None
    gamma_before = next(f for f in dev.checked.figures.leads if f.lead.path == "leads/c.md")
    warnings_before = [p for p in dev.checked.problems if p.path == "leads/c.md"]
    row_before = kept(dev.pages.fragments, "rows-leads.html@", gamma_before)
    save(dev, "leads/a.md", active("Alpha", 150, company="Acme GmbH"))
    gamma = next(f for f in dev.checked.figures.leads if f.lead.path == "leads/c.md")
    assert gamma is gamma_before
    warnings = [p for p in dev.checked.problems if p.path == "leads/c.md"]
    assert warnings and len(warnings) == len(warnings_before) and all(a is b for a, b in zip(warnings, warnings_before))
    assert row_before is not None and row_before.startswith("<tr") and kept(dev.pages.fragments, "rows-leads.html@", gamma) is row_before
    alpha = next(f for f in dev.checked.figures.leads if f.lead.path == "leads/a.md")
    assert "150" in kept(dev.pages.fragments, "rows-leads.html@", alpha)  # type: ignore[operator]


def test_fragments_reuse_only_the_very_same_objects_and_values() -> None:
    fragments = Fragments()
    one, other_one = [1.0], [1.0]  # equal, not the same
    made: list[object] = []

    def make(missing: list[object]) -> list[str]:
        made.extend(missing)
        return [f"piece {len(made)}" for _ in missing]

    assert fragments.pieces("k", [one, other_one], make) == ["piece 2", "piece 2"] and made == [one, other_one]
    assert fragments.pieces("k", [other_one, one], make) == ["piece 2", "piece 2"] and len(made) == 2  # nothing new
    assert fragments.pieces("other kind", [one], make) == ["piece 3"]
    assert fragments.pieces("k", [one], make, values=lambda item: "changed") == ["piece 4"]
    fragments.sweep()
    assert fragments.pieces("k", [one], make, values=lambda item: "changed") == ["piece 4"]  # kept from the build before
    fragments.sweep()
    fragments.sweep()  # a build that did not use it
    assert fragments.pieces("k", [one], make, values=lambda item: "changed") == ["piece 5"]
    assert fragments.get("g", (one, other_one), "v", lambda: "group") == "group"
    assert fragments.get("g", (one, other_one), "v", lambda: "again") == "group"
    assert fragments.get("g", (one, [1.0]), "v", lambda: "other members") == "other members"


def test_a_changed_company_link_renders_every_row_again() -> None:
    fragments = Fragments()
    one = object()
    fragments.follow_links({"A": "a", "B": "b"})
    assert fragments.pieces("k", [one], lambda missing: ["first"]) == ["first"]
    fragments.follow_links({"A": "a", "B": "b", "C": "c"})  # a new company: the kept rows link as before
    assert fragments.pieces("k", [one], lambda missing: ["second"]) == ["first"]
    fragments.follow_links({"A": "a-1234abcd", "A.": "a-5678abcd", "B": "b"})
    assert fragments.pieces("k", [one], lambda missing: ["third"]) == ["third"]


@pytest.mark.usefixtures("small_table_pages")
def test_text_holding_the_markers_still_renders_exactly(tmp_path: Path) -> None:
    dev = start(tmp_path)
    save(dev, "leads/a.md", active(f"Alpha {ROW_END} {datajson._SLOT} marked", 150, company="Acme GmbH"))
    save(dev, "leads/c.md", active("Gamma", 302, stage="negotiation", follow_up="2026-11-10"))
    assert dev.rendered == cold(dev)


def test_saving_a_known_lead_does_not_scan_the_folders_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dev = start(tmp_path)
    scans: list[Path] = []
    real = load.find_lead_files
    monkeypatch.setattr("funnel_site.devsession.find_lead_files", lambda root: scans.append(root) or real(root))
    save(dev, "leads/a.md", active("Alpha", 150, company="Acme GmbH"))
    assert scans == []
    save(dev, "leads/new.md", active("New", 1))  # a new file: its folder is read again
    assert scans == [dev.root]
    (dev.root / "leads" / "new.md").unlink()
    (dev.root / "leads" / "new.md").symlink_to(dev.root / "leads" / "a.md")  # no longer a plain file
    assert dev.apply({dev.root / "leads" / "new.md"}).ok
    assert scans == [dev.root, dev.root] and dev.rendered == cold(dev)


def test_ideas_and_closed_pages_are_kept_while_only_active_leads_change(tmp_path: Path) -> None:
    dev = start(tmp_path)
    ideas, closed = dev.pages["ideas.html"][1], dev.pages["closed.html"][1]
    save(dev, "leads/a.md", active("Alpha", 150, company="Acme GmbH"))
    assert dev.pages["ideas.html"][1] is ideas and dev.pages["closed.html"][1] is closed
    save(dev, "leads/f.md", lead(title="Phi", owner="ben", status="lost", value=51, closed_on="2026-11-02", reason="Price"))
    assert dev.pages["ideas.html"][1] is ideas and dev.pages["closed.html"][1] is not closed
    assert dev.rendered == cold(dev)


def test_kept_order_equals_a_fresh_sort_after_items_come_and_go() -> None:
    import random

    class Item:
        def __init__(self, rank: int, name: str) -> None:
            self.rank, self.name = rank, name

    def key(item: Item) -> tuple[int, str]:
        return (item.rank, item.name)

    rng = random.Random(7)
    fragments = Fragments()
    items = [Item(rng.randrange(50), f"i{n}") for n in range(300)]
    for _ in range(40):
        for _ in range(rng.randrange(1, 4)):  # an edit replaces an item by a new object with a new rank
            index = rng.randrange(len(items))
            items[index] = Item(rng.randrange(50), items[index].name)
        if rng.random() < 0.3:
            items.append(Item(rng.randrange(50), f"new{len(items)}"))
        if rng.random() < 0.3:
            items.pop(rng.randrange(len(items)))
        assert fragments.sorted("k", items, key) == sorted(items, key=key)
        fragments.sweep()
    twins = [Item(1, "same"), Item(1, "same")]  # equal keys: the input order decides, as in sorted()
    assert fragments.sorted("k", [*items, *twins], key) == sorted([*items, *twins], key=key)


def test_the_cycle_collector_waits_while_an_edit_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    dev = start(tmp_path)
    during: list[bool] = []
    publish = DevSession._publish
    monkeypatch.setattr(DevSession, "_publish", lambda self: during.append(gc.isenabled()) or publish(self))
    save(dev, "leads/a.md", active("Alpha", 150, company="Acme GmbH"))
    assert during == [False] and gc.isenabled()
    (dev.root / "leads" / "a.md").write_text("---\ntitle: [broken\n---\n")
    assert not dev.apply({dev.root / "leads" / "a.md"}).ok and gc.isenabled()


def test_pieces_of_a_list_like_last_builds_compare_place_by_place() -> None:
    fragments = Fragments()
    items = [object() for _ in range(5)]
    made: list[object] = []

    def make(missing: list[object]) -> list[str]:
        made.extend(missing)
        return [f"piece {items.index(m) if m in items else 'new'}" for m in missing]

    assert fragments.pieces("k", items, make) == [f"piece {i}" for i in range(5)] and made == items
    fragments.sweep()
    made.clear()
    edited = object()
    second = [*items[:2], edited, *items[3:]]  # the same length, one item replaced in place
    assert fragments.pieces("k", second, make) == ["piece 0", "piece 1", "piece new", "piece 3", "piece 4"] and made == [edited]
    fragments.sweep()
    made.clear()
    shorter = [items[4], items[0]]  # another length: found by object, also what the list of last build kept
    assert fragments.pieces("k", shorter, make) == ["piece 4", "piece 0"] and made == []
    fragments.sweep()
    made.clear()
    assert fragments.pieces("k", shorter, make) == ["piece 4", "piece 0"] and made == []
    assert fragments.pieces("k", [items[1]], make) == ["piece 1"] and made == [items[1]]  # dropped when a build does not use it


def test_an_owner_page_keeps_the_rows_of_unchanged_leads(tmp_path: Path) -> None:
    dev = start(tmp_path)
    save(dev, "leads/a.md", active("Alpha", 150, company="Acme GmbH"))
    assert dev.checked is not None
    gamma = next(f for f in dev.checked.figures.leads if f.lead.path == "leads/c.md")  # anna's, like Alpha
    row = kept(dev.pages.fragments, "rows-owner-leads.html@../", gamma)
    assert row is not None and row.startswith("<tr>\n<th scope=\"row\"><a href=\"../leads/c.html\">Gamma</a>")
    save(dev, "leads/a.md", active("Alpha", 160, company="Acme GmbH"))
    assert kept(dev.pages.fragments, "rows-owner-leads.html@../", gamma) is row
    assert dev.rendered == cold(dev)


@pytest.mark.usefixtures("small_table_pages")
def test_capped_board_columns_and_top_list_equal_a_cold_build_after_every_edit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "capped", functools.partial(views.capped, limit=1))  # kept rankings decide what is shown
    monkeypatch.setattr(views, "top_weighted", functools.partial(views.top_weighted, count=2))
    dev = start(tmp_path)
    board = dev.rendered["board.html"]
    assert board.count(b'<li class="card') == 3 and dev.rendered == cold(dev)  # four active leads, two of them in one stage
    for what, relative, text in EDITS:
        save(dev, relative, text)
        assert dev.rendered == cold(dev), what
    assert dev.rendered["board.html"] != board


def test_a_list_is_matched_with_last_builds_list_of_the_same_first_item() -> None:
    """serve skips kept pages: a build's first list of a kind may be last build's second one."""
    fragments = Fragments()
    first, second = [object() for _ in range(3)], [object() for _ in range(3)]
    made: list[object] = []

    def make(missing: list[object]) -> list[str]:
        made.extend(missing)
        return ["piece"] * len(missing)

    fragments.pieces("k", first, make)
    fragments.pieces("k", second, make)
    fragments.sweep()
    made.clear()
    edited = object()
    assert fragments.pieces("k", [second[0], edited, second[2]], make) == ["piece"] * 3 and made == [edited]


def test_an_edit_renders_only_its_own_lead_and_company_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dev = start(tmp_path)
    rendered = recorded_renders(monkeypatch)
    save(dev, "leads/a.md", active("Alpha", 150, company="Acme GmbH"))
    own = [path for path in rendered if path.startswith(("leads/", "companies/"))]
    assert own == ["leads/a.html", "companies/acme-gmbh.html"]
    assert dev.rendered == cold(dev)


@pytest.mark.usefixtures("small_table_pages")
def test_an_edit_renders_only_the_table_pages_whose_rows_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dev = start(tmp_path)  # table pages of 3 rows: Gamma, Beta, Alpha | Gamma two, Delta idea, Epsilon | Phi
    rendered = recorded_renders(monkeypatch)
    save(dev, "leads/a.md", active("Alpha", 100, company="Acme GmbH", next_step="Send the offer"))
    assert [path for path in rendered if path.startswith("leads") and path.endswith(".html") and "/" not in path] == ["leads.html"]
    assert dev.rendered == cold(dev)
    rendered.clear()
    save(dev, "leads/sub/g.md", active("Gamma two", 70, stage="lead", source="website", tags="[x, z]"))  # a new tag: every menu
    assert [path for path in rendered if path.startswith("leads") and path.endswith(".html") and "/" not in path] == [
        "leads.html", "leads-2.html", "leads-3.html"]
    assert dev.rendered == cold(dev)


def test_a_rename_renders_only_the_renamed_lead_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The leads after a renamed one shift by a place, but are the same leads: their figures and pages stay."""
    dev = start(tmp_path)
    kept = {f.lead.path: f for f in dev.checked.figures.leads if f.lead.path != "leads/a.md"}  # type: ignore[union-attr]
    rendered = recorded_renders(monkeypatch)
    (dev.root / "leads" / "a.md").rename(dev.root / "leads" / "z.md")
    assert dev.apply({dev.root / "leads" / "a.md", dev.root / "leads" / "z.md"}).ok
    assert [path for path in rendered if path.startswith("leads/")] == ["leads/z.html"]
    assert all(f is kept[f.lead.path] for f in dev.checked.figures.leads if f.lead.path != "leads/z.md")  # type: ignore[union-attr]
    assert dev.rendered == cold(dev)


def test_counted_values_follow_the_items_that_come_and_go() -> None:
    fragments = Fragments()
    a, b, c = ("x", "y"), ("y",), ("z",)
    assert fragments.counted("k", [a, b], list) == {"x": 1, "y": 2}
    fragments.sweep()
    assert fragments.counted("k", [b, c], list) == {"y": 1, "z": 1}  # x left with a
    fragments.sweep()
    assert fragments.counted("k", [c], list) == {"z": 1}


@pytest.mark.usefixtures("small_table_pages")
def test_filter_menus_follow_a_lead_whose_source_and_tags_change(tmp_path: Path) -> None:
    dev = start(tmp_path)
    save(dev, "leads/sub/g.md", active("Gamma two", 70, stage="lead", source="referral", tags="[z]"))
    assert b">referral<" in dev.rendered["leads.html"] and b">z<" in dev.rendered["leads.html"]
    assert b"website" not in dev.rendered["leads.html"]
    assert dev.rendered == cold(dev)


@pytest.mark.usefixtures("small_table_pages")
def test_leads_data_rows_are_put_in_as_bytes_or_through_the_template_when_the_page_holds_the_marker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    dev = start(tmp_path)
    save(dev, "leads/a.md", active("Alpha \ue004", 150, company="Acme GmbH"))  # the marker in a row is no marker
    assert dev.rendered == cold(dev)
    monkeypatch.setattr(table_data, "SLOT", "funnelLeads")  # now the page around the rows holds it too
    save(dev, "leads/a.md", active("Alpha", 160, company="Acme GmbH"))
    assert dev.rendered["leads-data.js"].startswith(b'window.funnelLeads = {"rows":[')
    assert dev.rendered == cold(dev)


def test_a_list_whose_first_item_changed_is_found_by_its_last() -> None:
    fragments = Fragments()
    items = [object() for _ in range(4)]
    made: list[object] = []

    def make(missing: list[object]) -> list[str]:
        made.extend(missing)
        return ["piece"] * len(missing)

    fragments.pieces("k", items, make)
    fragments.sweep()
    made.clear()
    fragments._kept_of = None  # type: ignore[assignment,method-assign]  # not looked up item by item
    edited = object()
    assert fragments.pieces("k", [edited, *items[1:]], make) == ["piece"] * 4 and made == [edited]


def test_owner_pages_follow_a_changed_company_file_name(tmp_path: Path) -> None:
    dev = start(tmp_path)
    assert b"companies/acme-gmbh.html" in dev.rendered["owners/anna.html"]
    # another company with the same readable name: both now get a hashed file name, anna's rows link the new one
    save(dev, "leads/h.md", lead(title="Eta", owner="ben", status="potential", follow_up="2026-12-05", company="ACME GmbH"))
    assert b"companies/acme-gmbh.html" not in dev.rendered["owners/anna.html"]
    assert dev.rendered == cold(dev)


def test_kept_groups_equal_a_fresh_grouping_after_random_edits() -> None:
    """Groups updated place by place (or regrouped when items come and go) are those a fresh grouping makes;
    a group whose members did not change is last build's very object."""
    import random

    rng = random.Random(7)
    fragments = Fragments()

    def grouped(items: list[tuple[str | None, int]]) -> list[tuple[str, tuple[tuple[str | None, int], ...]]]:
        found = fragments.grouped("g", items, lambda item: item[0], lambda name, members: (name, tuple(members)), str.casefold)
        fragments.sweep()
        return found

    items: list[tuple[str | None, int]] = [(rng.choice(["a", "B", "c", None]), n) for n in range(30)]
    last = grouped(items)
    for step in range(200):
        items = list(items)
        if step % 10 == 9:
            del items[rng.randrange(len(items))]  # an item goes: regrouped
        for index in rng.sample(range(len(items)), rng.choice([1, 2, 3])):
            items[index] = (rng.choice(["a", "B", "c", "d", None]), 100 + step)
        found = grouped(items)
        fresh = Fragments().grouped("g", items, lambda item: item[0], lambda name, members: (name, tuple(members)), str.casefold)
        assert found == fresh
        before = {group[0]: group for group in last}
        for group in found:
            kept = before.get(group[0])
            if kept is not None and len(kept[1]) == len(group[1]) and all(map(operator.is_, kept[1], group[1])):
                assert group is before[group[0]], step
        last = found
