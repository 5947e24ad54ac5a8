"""What keeps a 100k-lead build's memory down (docs/performance.md): one copy of the names every lead
repeats, made as each lead arrives, model objects without a ``__dict__``, and the model frozen out of the
cyclic collector's sight while forked workers share it."""

from __future__ import annotations

import gc
import pickle
from datetime import date
from pathlib import Path

import pytest

from conftest import TODAY, lead
from funnel_site import build as build_module
from funnel_site import load as load_module
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
        assert list(first.lines) == list(other.lines) and first.lines is not other.lines
        assert all(a is b for a, b in zip(first.contacts[0], other.contacts[0]))
        assert all(a is b for a, b in zip(first.qualification, other.qualification))
        assert first.owner is other.owner
    assert project.leads[0].lines["title"] == 2 and project.leads[0].contacts[0] == {"name": "Ann", "email": "ann@example.com"}


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


@pytest.mark.parametrize("jobs", [1, 2])
def test_each_lead_shares_its_names_as_soon_as_this_process_has_it(
    make_project, monkeypatch: pytest.MonkeyPatch, jobs: int,
) -> None:  # type: ignore[no-untyped-def]
    """Before the next lead is parsed: the copies it lets go are reused, not left as holes between the leads.
    Parsed here, the parser shares the names (tests/test_load.py); the worker's leads are unpickled as they arrive, in order."""
    monkeypatch.setattr("funnel_site.parallel.CHUNK", 1)  # which process parses which lead is up to the race
    events: list[str] = []
    parse, share = load_module.parse_lead_bytes, load_module.shared_strings

    def parsing(path, raw, config):  # type: ignore[no-untyped-def]
        events.append(f"parse {path[6:-3]}")
        return parse(path, raw, config)

    def sharing(lead):  # type: ignore[no-untyped-def]
        events.append(f"share {lead.id}")
        return share(lead)

    monkeypatch.setattr(load_module, "parse_lead_bytes", parsing)
    monkeypatch.setattr(load_module, "shared_strings", sharing)
    load_project(make_project(LEADS), jobs=jobs)
    parsed_here = [event for event in events if event.startswith("parse ")]  # the worker's events stay in the worker
    unpickled = sorted({"acme", "beta", "gamma"} - {event.removeprefix("parse ") for event in parsed_here})
    assert [event for event in events if not event.startswith("parse ")] == [f"share {name}" for name in unpickled]
    if jobs == 1:
        assert parsed_here == ["parse acme", "parse beta", "parse gamma"]


def test_model_objects_have_no_dict_and_survive_pickling(make_project) -> None:  # type: ignore[no-untyped-def]
    lead = load_project(make_project(LEADS)).leads[0]
    entry = HistoryEntry(date(2026, 11, 1), "offer")
    for value in (lead, entry, lead.lines):
        assert pickle.loads(pickle.dumps(value)) == value
    assert not hasattr(lead, "__dict__") and not hasattr(entry, "__dict__")  # slots: ~200 bytes a lead less at 100k leads
