"""Figures updated by difference (the dev server's edit) equal figures computed afresh, digit for digit."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from conftest import lead
from funnel_site import figures, tally
from funnel_site.load import load_project, parse_lead_bytes
from funnel_site.model import Lead, Project

TODAY = date(2026, 11, 22)
# terms whose sums show their exponents: a term taken away must not leave its decimals behind
VALUES = [None, "10", "0.10", "5.5", "1.000", "250000", "0.001", "12.34", "7"]
DAYS = ["2026-09-30", "2026-10-01", "2026-11-05", "2026-12-10", "2026-12-31", "2027-01-15"]


def random_lead(rng: random.Random, title: str) -> str:
    status = rng.choice(["active", "active", "potential", "won", "lost", "cancelled"])
    fields: dict[str, object] = {"title": title, "owner": rng.choice(["anna", "ben"]), "status": status}
    if (value := rng.choice(VALUES[1:] if status in ("active", "won") else VALUES)) is not None:
        fields["value"] = value
    if rng.random() < 0.3:
        fields["currency"] = "USD"  # at 0.9: one more decimal
    if status == "active":
        fields["stage"] = rng.choice(["lead", "offer", "negotiation"])
        if rng.random() < 0.3:
            fields["probability"] = rng.choice([5, 33, 100])
        fields["expected_close"] = rng.choice(DAYS)
    elif status != "potential":
        fields["closed_on"] = rng.choice(DAYS)
        if rng.random() < 0.7:
            fields["created"] = "2026-08-01"
    return lead(**fields)


def parsed(path: str, text: str, project: Project) -> Lead:
    found, problems = parse_lead_bytes(path, text.encode(), project.config)
    assert found is not None, problems
    return found


def fresh_tallies(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the tallies added afresh (instead of updated)."""
    calls: list[int] = []
    plain = figures.tallied

    def counted(*args: object) -> tally.Tally:
        calls.append(1)
        return plain(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(figures, "tallied", counted)
    return calls


def same_figures(updated: figures.Figures, afresh: figures.Figures) -> None:
    assert repr(updated) == repr(afresh)
    paths = {status: [f.lead.path for f in found] for status, found in updated.by_status.items()}
    assert paths == {status: [f.lead.path for f in found] for status, found in afresh.by_status.items()}


def test_random_edits_update_the_sums_exactly_as_adding_afresh(make_project, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(20261122)
    files = {f"leads/l{i:02}.md": random_lead(rng, f"Lead {i}") for i in range(40)}
    project = load_project(make_project(files))
    assert len(project.leads) == 40, project.problems
    previous = figures.compute(project, TODAY, updatable=True)
    afresh = fresh_tallies(monkeypatch)
    for step in range(300):
        leads = list(project.leads)
        for index in rng.sample(range(len(leads)), rng.choice([1, 1, 2, 3])):
            leads[index] = parsed(leads[index].path, random_lead(rng, f"Lead {index} v{step}"), project)
        project = replace(project, leads=tuple(leads))
        updated = figures.compute(project, TODAY, previous)
        assert not afresh, f"step {step} added afresh"
        same_figures(updated, figures.compute(project, TODAY))
        afresh.clear()
        assert updated.tally is not None and updated.tally is not previous.tally
        previous = updated


def test_an_update_keeps_the_previous_figures_as_they_were(make_project) -> None:
    project = load_project(make_project({"leads/a.md": lead(title="A", owner="anna", status="won", value="1.50", closed_on="2026-11-05"),
                                         "leads/b.md": lead(title="B", owner="ben", status="won", value="2", closed_on="2026-11-06")}))
    previous = figures.compute(project, TODAY, updatable=True)
    edited = replace(project, leads=(parsed("leads/a.md", lead(title="A", owner="anna", status="lost", value="1.50", closed_on="2026-11-05"), project), project.leads[1]))
    updated = figures.compute(edited, TODAY, previous)
    assert (updated.totals.won_value, previous.totals.won_value) == (Decimal("2"), Decimal("3.50"))
    again = figures.compute(edited, TODAY, previous)  # the same previous figures a second time
    assert repr(again) == repr(updated)


def test_sums_that_round_are_added_afresh(make_project, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond 28 digits Decimal addition rounds and depends on the order: no update by difference then."""
    files = {
        "leads/a.md": lead(title="A", owner="anna", status="won", value="99999999999999", closed_on="2026-11-05"),
        "leads/b.md": lead(title="B", owner="anna", status="won", value="0.00000000000001", closed_on="2026-11-05"),
        "leads/c.md": lead(title="C", owner="anna", status="won", value="0.000000000000001", closed_on="2026-11-05"),
    }
    project = load_project(make_project(files))
    previous = figures.compute(project, TODAY, updatable=True)
    assert previous.tally is not None and not previous.tally.exact
    afresh = fresh_tallies(monkeypatch)
    edited = replace(project, leads=(*project.leads[:2], parsed("leads/c.md", lead(title="C", owner="anna", status="won", value="5", closed_on="2026-11-05"), project)))
    same_figures(figures.compute(edited, TODAY, previous), figures.compute(edited, TODAY))
    assert len(afresh) == 2


def test_leads_that_come_or_go_are_added_afresh(make_project, monkeypatch: pytest.MonkeyPatch) -> None:
    project = load_project(make_project({
        "leads/a.md": lead(title="A", owner="anna", status="won", value=5, closed_on="2026-11-05"),
        "leads/b.md": lead(title="B", owner="ben", status="won", value="7.5", closed_on="2026-11-05"),
    }))
    assert len(project.leads) == 2
    previous = figures.compute(project, TODAY, updatable=True)
    afresh = fresh_tallies(monkeypatch)
    fewer = replace(project, leads=project.leads[:1])
    same_figures(figures.compute(fewer, TODAY, previous), figures.compute(fewer, TODAY))
    assert len(afresh) == 2


def test_a_removed_term_leaves_no_decimals_behind() -> None:
    sums = tally.Sums(exponents=True)
    for value in (Decimal("1.50"), Decimal("2"), Decimal("0.125")):
        sums.add(value, None)
    sums.remove(Decimal("0.125"), None)
    sums.settle()
    assert (str(sums.value), sums.count) == ("3.50", 2)
    sums.remove(Decimal("1.50"), None)
    sums.settle()
    assert str(sums.value) == "2"


def test_a_group_emptied_by_one_update_and_filled_by_the_next(make_project) -> None:
    """An update drops the sums no lead is in any more; the next one makes them afresh (nothing it looked up before is reused)."""
    won = {"title": "A", "owner": "anna", "status": "won", "closed_on": "2026-11-05", "value": "1.50"}
    project = load_project(make_project({"leads/a.md": lead(**won), "leads/b.md": lead(title="B", owner="ben", status="lost", value="2", closed_on="2026-10-06")}))
    previous = figures.compute(project, TODAY, updatable=True)
    for fields in ({**won, "status": "lost", "reason": "price"}, {**won, "value": "2.5"}, {**won, "owner": "ben", "closed_on": "2026-10-01"}):
        project = replace(project, leads=(parsed("leads/a.md", lead(**fields), project), project.leads[1]))
        updated = figures.compute(project, TODAY, previous)
        assert updated.tally is not None
        same_figures(updated, figures.compute(project, TODAY))
        assert updated.tally.owners.keys() == figures.compute(project, TODAY, updatable=True).tally.owners.keys()  # type: ignore[union-attr]
        previous = updated
