"""What keeps a 100k-lead build's memory down (docs/performance.md): one copy of the names every lead
repeats (the parser's, and a chunk's pickle writes each once), model objects without a ``__dict__``, and the model
frozen out of the cyclic collector's sight while forked workers share it."""

from __future__ import annotations

import gc
import pickle
from datetime import date
from pathlib import Path

import pytest

from conftest import TODAY, lead
from funnel_site import build as build_module
from funnel_site import workers as workers_module
from funnel_site.load import load_project
from funnel_site.model import HistoryEntry

CONTACT = "contact:\n  name: Ann\n  email: ann@example.com\nqualification:\n  budget: true\n"
LEADS = {
    f"leads/{name}.md": lead(title=name.title(), owner="anna", stage="offer", value=100, expected_close="2026-12-01").replace("---\nNotes", CONTACT + "---\nNotes")
    for name in ("acme", "beta", "gamma")
}


@pytest.mark.parametrize("how", ["parsed", "workers", "cached"])
def test_leads_share_one_copy_of_their_keys_and_owner(make_project, tmp_path: Path, how: str) -> None:  # type: ignore[no-untyped-def]
    root = make_project(LEADS)
    cache = tmp_path / "cache" if how == "cached" else None
    if cache is not None:
        load_project(root, cache)  # fills it: the leads below are unpickled from it
    project = load_project(root, cache, jobs=2 if how == "workers" else 1)
    first, *others = project.leads
    assert len(others) == 2 and first.lines and first.contacts and first.qualification
    for other in others:
        assert [a is b for a, b in zip(first.lines, other.lines)] == [True] * len(first.lines)
        assert first.lines is other.lines  # leads of one outline (and one chunk, when pickled) share their line map
        assert all(a is b for a, b in zip(first.contacts[0], other.contacts[0]))
        assert all(a is b for a, b in zip(first.qualification, other.qualification))
        assert first.owner is other.owner
    assert project.leads[0].lines["title"] == 2 and project.leads[0].contacts[0] == {"name": "Ann", "email": "ann@example.com"}
    with pytest.raises(TypeError, match="^a line map is read-only"):
        first.lines["title"] = 3  # type: ignore[index]  # shared: changing it would move the other leads' lines too


def test_the_model_is_frozen_only_while_the_pages_are_written(make_project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    frozen = []
    write_plan = workers_module.write_plan

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        frozen.append(gc.get_freeze_count())
        return write_plan(*args, **kwargs)

    monkeypatch.setattr(workers_module, "write_plan", recording)
    assert gc.get_freeze_count() == 0
    build_module.build(make_project(LEADS), tmp_path / "site", date.fromisoformat(TODAY))
    assert len(frozen) == 1 and frozen[0] > 1000  # the leads, figures and plan, among others
    assert gc.get_freeze_count() == 0  # a long-lived process (tests, serve) collects them again



@pytest.mark.parametrize("writing", ["_write_pages", "_write_files"])
def test_no_process_looks_for_cyclic_garbage_while_the_site_is_written(make_project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writing: str) -> None:  # type: ignore[no-untyped-def]
    """Pages and data files make next to no cyclic garbage: the build's process, its render workers and the process
    writing the data files leave the collector off."""
    write = getattr(workers_module, writing)

    def checking(*args, **kwargs):  # type: ignore[no-untyped-def]
        assert not gc.isenabled(), "the collector runs while the site is written"  # in a worker: fails the build
        return write(*args, **kwargs)

    monkeypatch.setattr(workers_module, writing, checking)
    build_module.build(make_project(LEADS), tmp_path / "site", date.fromisoformat(TODAY), jobs=2)
    assert (tmp_path / "site" / "leads" / "acme.html").is_file()
    assert gc.isenabled()


def test_no_collection_while_the_sites_of_a_split_build_are_rendered(make_project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A split build renders the full site and every member's in memory: 10k leads' split build spent ~0.5 s collecting."""
    render_checked = build_module.render_checked
    paused = []

    def rendering(*args, **kwargs):  # type: ignore[no-untyped-def]
        paused.append(not gc.isenabled())
        return render_checked(*args, **kwargs)

    monkeypatch.setattr(build_module, "render_checked", rendering)
    build_module.build(make_project(LEADS), tmp_path / "site", date.fromisoformat(TODAY), split=True)
    assert paused and all(paused) and gc.isenabled()

def test_model_objects_have_no_dict_and_survive_pickling(make_project) -> None:  # type: ignore[no-untyped-def]
    lead = load_project(make_project(LEADS)).leads[0]
    entry = HistoryEntry(date(2026, 11, 1), "offer")
    for value in (lead, entry, lead.lines):
        assert pickle.loads(pickle.dumps(value)) == value
    assert not hasattr(lead, "__dict__") and not hasattr(entry, "__dict__")  # slots: ~200 bytes a lead less at 100k leads
