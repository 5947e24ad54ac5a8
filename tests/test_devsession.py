"""The serve model in-process: only changed files are re-read and only changed pages rewritten."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from conftest import lead, write_project
from funnel_site import build as build_module
from funnel_site.build import sync_site
from funnel_site.devsession import DevSession


def acme(title: str, value: int, stage: str = "offer") -> str:
    return lead(title=title, owner="anna", stage=stage, value=value, expected_close="2026-12-01", next_step="Call")


def session(tmp_path: Path) -> DevSession:
    root = write_project(tmp_path / "p", {"leads/a.md": acme("Alpha", 100), "leads/b.md": acme("Beta", 200)})
    dev = DevSession(root, tmp_path / "out", date(2026, 11, 22))
    assert dev.full_build().ok
    return dev


def test_unchanged_pages_are_not_rewritten(tmp_path: Path) -> None:
    dev = session(tmp_path)
    beta_page = tmp_path / "out" / "leads" / "b.html"
    before = beta_page.stat().st_mtime_ns, beta_page.stat().st_ino
    (dev.root / "leads" / "a.md").write_text(acme("Alpha", 150))
    outcome = dev.apply({dev.root / "leads" / "a.md"})
    assert outcome.ok and 0 < outcome.written < len(dev.files) and outcome.removed == 0
    assert (beta_page.stat().st_mtime_ns, beta_page.stat().st_ino) == before
    assert b"150" in (tmp_path / "out" / "data.json").read_bytes()


def test_only_changed_files_are_read_again(tmp_path: Path) -> None:
    dev = session(tmp_path)
    beta = dev.leads["leads/b.md"]
    (dev.root / "leads" / "a.md").write_text(acme("Alpha", 150))
    dev.apply({dev.root / "leads" / "a.md"})
    assert dev.leads["leads/b.md"] is beta  # the same object: not parsed again
    assert dev.leads["leads/a.md"].value == 150


def test_broken_lead_blocks_and_keeps_last_good_site(tmp_path: Path) -> None:
    dev = session(tmp_path)
    before = (tmp_path / "out" / "data.json").read_bytes()
    (dev.root / "leads" / "a.md").write_text(acme("Alpha", 150, stage="negotation"))
    outcome = dev.apply({dev.root / "leads" / "a.md"})
    assert [str(p) for p in outcome.problems] == [
        "leads/a.md:4: stage: unknown stage 'negotation' (known: lead, offer, negotiation)"]
    assert (tmp_path / "out" / "data.json").read_bytes() == before
    (dev.root / "leads" / "a.md").write_text(acme("Alpha", 150))
    assert dev.apply({dev.root / "leads" / "a.md"}).ok


def test_deleted_lead_removes_its_page(tmp_path: Path) -> None:
    dev = session(tmp_path)
    (dev.root / "leads" / "b.md").unlink()
    outcome = dev.apply({dev.root / "leads" / "b.md"})
    assert outcome.ok and outcome.removed >= 1
    assert not (tmp_path / "out" / "leads" / "b.html").exists()
    assert "leads/b.md" not in dev.leads


def test_file_in_new_folder_is_found_even_without_its_own_event(tmp_path: Path) -> None:
    dev = session(tmp_path)
    (dev.root / "leads" / "new").mkdir()
    (dev.root / "leads" / "new" / "c.md").write_text(acme("Gamma", 300))
    assert dev.apply({dev.root / "leads" / "new"}).ok  # only the folder's event arrived
    assert (tmp_path / "out" / "leads" / "new" / "c.html").is_file()


def test_templates_folder_created_with_a_template_in_it_is_used_even_without_its_own_event(tmp_path: Path) -> None:
    dev = session(tmp_path)
    (dev.root / "templates").mkdir()
    (dev.root / "templates" / "index.html").write_text('{% extends "builtin/index.html" %}\n{% block content %}Eigene Übersicht{% endblock %}\n')
    assert dev.apply({dev.root / "templates"}).ok  # only the folder's event arrived
    assert "Eigene Übersicht" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")


def test_a_lead_linked_to_a_saved_file_follows_it(tmp_path: Path) -> None:
    dev = session(tmp_path)
    (dev.root / "leads" / "link.md").symlink_to(dev.root / "leads" / "a.md")
    assert dev.apply({dev.root / "leads" / "link.md"}).ok
    (dev.root / "leads" / "a.md").write_text(acme("Alpha", 777))
    assert dev.apply({dev.root / "leads" / "a.md"}).ok  # the watcher reports the file written, not the link
    assert "777" in (tmp_path / "out" / "leads" / "link.html").read_text(encoding="utf-8")
    assert _equals_full_render(dev)


def test_config_change_reloads_everything(tmp_path: Path) -> None:
    dev = session(tmp_path)
    config = dev.root / "config.yaml"
    config.write_text(config.read_text().replace("title: Testpipeline", "title: Neuer Titel"))
    assert dev.apply({config}).ok
    assert b"Neuer Titel" in (tmp_path / "out" / "index.html").read_bytes()
    config.write_text("title: [broken\n")
    problems = dev.apply({config}).problems
    assert [p.path for p in problems] == ["config.yaml"]


def test_reused_pages_equal_a_full_render_after_every_edit(tmp_path: Path) -> None:
    from funnel_site.build import check
    from funnel_site.devsession import with_reload_script
    from funnel_site.render import render_site

    dev = session(tmp_path)
    beta_bytes = dev.pages["leads/b.html"][1]
    edits = [
        acme("Alpha", 150),
        acme("Alpha", 150).replace("owner: anna", "owner: ben"),
        acme("Alpha", 150).replace("title: Alpha", "title: Alpha\ncompany: Beta GmbH"),
        acme("Alpha", 99, stage="negotiation"),
    ]
    for text in edits:
        (dev.root / "leads" / "a.md").write_text(text)
        assert dev.apply({dev.root / "leads" / "a.md"}).ok
        checked = check(dev.root, dev.today)
        assert dev.files == with_reload_script(render_site(checked.project, checked.figures, checked.problems))
    assert dev.pages["leads/b.html"][1] is beta_bytes  # never rendered again: its inputs did not change


def _equals_full_render(dev: DevSession) -> bool:
    from funnel_site.build import check
    from funnel_site.devsession import with_reload_script
    from funnel_site.render import render_site

    checked = check(dev.root, dev.today)
    return dev.files == with_reload_script(render_site(checked.project, checked.figures, checked.problems))


def test_owner_page_follows_company_slug_changes(tmp_path: Path) -> None:
    dev = session(tmp_path)
    (dev.root / "leads" / "a.md").write_text(acme("Alpha", 100).replace("title: Alpha", "title: Alpha\ncompany: Alpenblick Hotels AG"))
    assert dev.apply({dev.root / "leads" / "a.md"}).ok
    # a second company with the same slug switches both to hashed slugs: anna's owner page must follow
    gamma = acme("Gamma", 5).replace("title: Gamma", "title: Gamma\ncompany: Alpenblick-Hotels AG").replace("owner: anna", "owner: ben")
    (dev.root / "leads" / "c.md").write_text(gamma)  # ben's lead: anna's leads are unchanged, her page's links are not
    assert dev.apply({dev.root / "leads" / "c.md"}).ok
    assert _equals_full_render(dev)


def test_values_that_compare_equal_but_print_differently(tmp_path: Path) -> None:
    dev = session(tmp_path)
    for value in ("1", "true", "1.0", "0", "false"):
        (dev.root / "leads" / "a.md").write_text(acme("Alpha", 100).replace("title: Alpha", f"title: Alpha\nprio: {value}"))
        assert dev.apply({dev.root / "leads" / "a.md"}).ok
        assert _equals_full_render(dev), value


def test_folder_moved_out_and_back_brings_its_leads_back(tmp_path: Path) -> None:
    dev = session(tmp_path)
    folder = dev.root / "leads" / "x"
    folder.mkdir()
    (folder / "w.md").write_text(acme("Warned", 7).replace("title: Warned", "title: Warned\nsorce: x"))  # a warning only
    assert dev.apply({folder / "w.md"}).ok
    folder.rename(tmp_path / "parked")
    assert dev.apply({folder}).ok and "leads/x/w.md" not in dev.leads
    (tmp_path / "parked").rename(folder)
    assert dev.apply({folder}).ok and "leads/x/w.md" in dev.leads


def test_resolved_case_collision_no_longer_blocks(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"leads/a.md": acme("Alpha", 100), "leads/A.md": acme("Upper", 1)})
    dev = DevSession(root, tmp_path / "out", date(2026, 11, 22))
    assert [p.path for p in dev.full_build().problems] == ["leads/a.md"]
    (root / "leads" / "A.md").unlink()
    assert dev.apply({root / "leads" / "A.md"}).ok


def _deleted_files_open(out: Path) -> list[str]:
    """The files under ``out`` this process holds open though they were replaced (Linux: /proc)."""
    links = (os.readlink(fd) for fd in Path("/proc/self/fd").iterdir() if fd.is_symlink())
    return sorted(Path(link.removesuffix(" (deleted)")).name for link in links if link.startswith(str(out)) and link.endswith(" (deleted)"))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_files_written_over_are_let_go_once_released(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An old large file is freed after the browser was told (``sync_site``'s ``superseded``), not during the edit."""
    monkeypatch.setattr(build_module, "HELD_FROM", 4000)  # this tiny site's data.json is larger, a lead page smaller
    dev = session(tmp_path)
    assert (tmp_path / "out" / "data.json").stat().st_size > 4000 > (tmp_path / "out" / "leads" / "a.html").stat().st_size
    (dev.root / "leads" / "a.md").write_text(acme("Alpha", 150))
    assert dev.apply({dev.root / "leads" / "a.md"}).ok
    held = _deleted_files_open(tmp_path / "out")
    assert "data.json" in held and "a.html" not in held
    dev.release()
    assert _deleted_files_open(tmp_path / "out") == []


def test_sync_site_hands_over_the_large_files_it_writes_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_module, "HELD_FROM", 3)
    out = tmp_path / "out"
    assert sync_site({"a.txt": b"one", "b.txt": b"same", "s.txt": b"s"}, out, {}) == (3, 0)
    held: list[int] = []
    files = {"a.txt": b"two", "b.txt": b"same", "c.txt": b"new", "s.txt": b"t"}
    assert sync_site(files, out, {"a.txt": b"one", "b.txt": b"same", "s.txt": b"s"}, superseded=held) == (3, 0)
    assert len(held) == 1 and os.pread(held[0], 10, 0) == b"one"  # s.txt is below HELD_FROM: freed at once
    assert [(out / name).read_bytes() for name in files] == list(files.values())
    os.close(held[0])


def test_sync_site_holds_a_bounded_number_of_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild that rewrites every page (a config edit under serve) must not run out of file descriptors."""
    monkeypatch.setattr(build_module, "HELD_FROM", 1)
    out = tmp_path / "out"
    before = {f"p{n}.html": b"old" for n in range(build_module.HELD_FILES + 20)}
    sync_site(before, out, {})
    held: list[int] = []
    assert sync_site({name: b"new" for name in before}, out, before, superseded=held) == (len(before), 0)
    assert len(held) == build_module.HELD_FILES
    for fd in held:
        os.close(fd)
