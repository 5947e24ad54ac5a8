"""Every figure of data.json against a fixture computed by hand (today = 2026-11-22)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import TODAY, lead

LEADS = {
    # active, offer 50 %, young (21 days), touched 7 days ago: not stale (offer goes stale after 14)
    "leads/a1.md": lead(title="Alpha", owner="anna", stage="offer", value=10000, expected_close="2026-12-10",
                        created="2026-11-01", last_contact="2026-11-15", next_step="Call"),
    # active, 20,000 USD at 0.9 = 18,000 EUR, own probability 25 % overrides the stage's 10 %; stale, follow-up overdue
    "leads/sub/a2.md": lead(title="Beta", owner="ben", stage="lead", value=20000, currency="USD", probability=25,
                            expected_close="2027-01-15", created="2026-08-01", last_contact="2026-09-01",
                            follow_up="2026-11-20", next_step="Mail"),
    # active, negotiation 80 %: 1000.005 rounds half-up to 1000.01; no dates, no next step
    "leads/a3.md": lead(title="Gamma", owner="anna", stage="negotiation", value="1000.005", expected_close="2026-12-20"),
    "leads/w1.md": lead(title="Won 1", owner="anna", status="won", value=30000, closed_on="2026-11-05", created="2026-09-06"),
    "leads/w2.md": lead(title="Won 2", owner="ben", status="won", value=10000, closed_on="2026-10-10", created="2026-09-10"),
    "leads/l1.md": lead(title="Lost 1", owner="ben", status="lost", value=20000, closed_on="2026-10-20", reason="price"),
    "leads/c1.md": lead(title="Cancelled 1", owner="anna", status="cancelled", closed_on="2026-11-01", reason="no fit"),
    "leads/p1.md": lead(title="Idea", owner="ben", status="potential", created="2026-11-20", follow_up="2026-11-21"),
}


@pytest.fixture
def data(make_project, run_cli, tmp_path: Path) -> dict:
    root = make_project(LEADS)
    result = run_cli("build", str(root), "-o", str(tmp_path / "out"), "--today", TODAY)
    assert result.code == 0, result.err
    return json.loads((tmp_path / "out" / "data.json").read_text(encoding="utf-8"), parse_float=Decimal)


def test_totals(data: dict) -> None:
    totals = data["totals"]
    assert totals["counts"] == {"potential": 1, "active": 3, "won": 2, "lost": 1, "cancelled": 1, "total": 8}
    assert totals["pipeline_value"] == Decimal("29000.01")  # 10000 + 18000 + 1000.005
    assert totals["weighted_forecast"] == Decimal("10300.00")  # 5000 + 4500 + 800.004
    assert (totals["won_value"], totals["lost_value"], totals["cancelled_value"]) == (Decimal("40000.00"), Decimal("20000.00"), Decimal("0.00"))
    assert totals["close_rate"] == {"by_count": Decimal("0.5000"), "by_value": Decimal("0.6667")}
    assert totals["win_rate"] == {"by_count": Decimal("0.6667"), "by_value": Decimal("0.6667")}
    assert totals["cancel_share"] == {"by_count": Decimal("0.2500"), "by_value": Decimal("0.0000")}
    assert totals["average_won_value"] == Decimal("20000.00")
    assert totals["average_sales_cycle_days"] == Decimal("45.0")  # (60 + 30) / 2
    assert totals["young_leads"] == {"count": 2, "share": Decimal("0.5000")}  # a1 and p1 of 4 open
    assert (totals["follow_ups_overdue"], totals["stale"], totals["qualified"]) == (2, 1, 0)


def test_stages_months_owners(data: dict) -> None:
    assert [(s["id"], s["count"], s["value"], s["weighted"], s["probability"]) for s in data["stages"]] == [
        ("lead", 1, Decimal("18000.00"), Decimal("4500.00"), Decimal("0.1000")),
        ("offer", 1, Decimal("10000.00"), Decimal("5000.00"), Decimal("0.5000")),
        ("negotiation", 1, Decimal("1000.01"), Decimal("800.00"), Decimal("0.8000")),
    ]
    assert data["forecast_by_month"] == [
        {"month": "2026-12", "count": 2, "value": Decimal("11000.01"), "weighted": Decimal("5800.00")},
        {"month": "2027-01", "count": 1, "value": Decimal("18000.00"), "weighted": Decimal("4500.00")},
    ]
    anna, ben = data["owners"]
    assert (anna["id"], anna["active"], anna["pipeline_value"], anna["weighted_forecast"], anna["won"], anna["won_value"]) == (
        "anna", 2, Decimal("11000.01"), Decimal("5800.00"), 1, Decimal("30000.00"))
    assert anna["close_rate"] == {"by_count": Decimal("0.5000"), "by_value": Decimal("1.0000")}
    assert anna["win_rate"] == {"by_count": Decimal("1.0000"), "by_value": Decimal("1.0000")}
    assert ben["close_rate"] == {"by_count": Decimal("0.5000"), "by_value": Decimal("0.3333")}


def test_targets(data: dict) -> None:
    quarter, december = data["targets"]
    assert quarter == {
        "period": "2026-Q4", "start": "2026-10-01", "end": "2026-12-31", "target": Decimal("100000.00"),
        "won_value": Decimal("40000.00"), "weighted_open": Decimal("5800.00"), "forecast": Decimal("45800.00"),
        "open_value": Decimal("11000.01"), "remaining": Decimal("60000.00"), "coverage": Decimal("0.1833"),
        "attainment": Decimal("0.4000"),
    }
    assert (december["period"], december["won_value"], december["coverage"], december["attainment"]) == (
        "2026-12", Decimal("0.00"), Decimal("0.2750"), Decimal("0.0000"))


def test_per_lead(data: dict) -> None:
    beta = next(row for row in data["leads"] if row["id"] == "sub/a2")
    assert beta["file"] == "leads/sub/a2.md"
    assert (beta["value"], beta["original_value"], beta["currency"]) == (Decimal("18000.00"), Decimal("20000.00"), "USD")
    assert (beta["probability"], beta["weighted"]) == (Decimal("0.2500"), Decimal("4500.00"))
    assert (beta["follow_up_overdue"], beta["stale"], beta["age_days"], beta["days_since_touch"]) == (True, True, 113, 82)
    won = next(row for row in data["leads"] if row["id"] == "w1")
    assert (won["probability"], won["weighted"], won["follow_up_overdue"], won["stale"]) == (Decimal("1.0000"), Decimal("30000.00"), False, False)
    assert [row["id"] for row in data["leads"]] == ["a1", "a3", "c1", "l1", "p1", "sub/a2", "w1", "w2"]


def test_warnings_in_data_and_on_stderr(make_project, run_cli, tmp_path: Path) -> None:
    root = make_project(LEADS)
    result = run_cli("check", str(root), "--today", TODAY)
    assert result.code == 0
    assert result.err.splitlines() == [
        "leads/a3.md:1: warning: next_step: active lead without a next step",
        "leads/p1.md:6: warning: follow_up: follow-up was due 1 day ago (2026-11-21)",
        "leads/sub/a2.md:10: warning: last_contact: stale: no activity for 82 days (last on 2026-09-01)",
        "leads/sub/a2.md:11: warning: follow_up: follow-up was due 2 days ago (2026-11-20)",
    ]
    assert result.out == "checked 8 leads: 0 errors, 4 warnings\n"


def test_today_decides_every_comparison(make_project, run_cli, tmp_path: Path) -> None:
    root = make_project({"leads/a.md": lead(title="A", owner="anna", stage="offer", value=1, expected_close="2026-12-01",
                                            follow_up="2026-12-01", next_step="x")})
    assert run_cli("check", str(root), "--today", "2026-12-01").err == ""
    assert run_cli("check", str(root), "--today", "2026-12-02").err.splitlines() == [
        "leads/a.md:6: warning: expected_close: 2026-12-01 has passed; move the date or close the lead",
        "leads/a.md:7: warning: follow_up: follow-up was due 1 day ago (2026-12-01)",
    ]


def test_rates_are_null_without_closed_leads(make_project, run_cli, tmp_path: Path) -> None:
    root = make_project({"leads/a.md": lead(title="A", owner="anna", stage="offer", value=1, expected_close="2026-12-01", next_step="x")})
    assert run_cli("build", str(root), "-o", str(tmp_path / "o"), "--today", TODAY).code == 0
    totals = json.loads((tmp_path / "o" / "data.json").read_text())["totals"]
    assert totals["close_rate"] == totals["win_rate"] == totals["cancel_share"] == {"by_count": None, "by_value": None}
    assert (totals["average_won_value"], totals["average_sales_cycle_days"]) == (None, None)


@pytest.mark.parametrize("today", ["2026-11-22", "2026-10-15", "2027-02-01"])
def test_compute_in_one_pass_equals_the_figure_functions(make_project, today: str) -> None:
    """compute adds every sum in the leads' order, as the per-figure functions do: the same Decimals, digit for digit."""
    from datetime import date

    import figures_reference as reference
    from funnel_site import figures
    from funnel_site.load import load_project

    extra = {  # values whose sums show their digits: 0.1 + 0.2, trailing zeros, no value at all, a stage not in the config
        "leads/x1.md": lead(title="X1", owner="anna", stage="offer", value="0.10", expected_close="2026-12-10"),
        "leads/x2.md": lead(title="X2", owner="anna", stage="offer", value="0.2", expected_close="2026-12-31"),
        "leads/x3.md": lead(title="X3", owner="ben", stage="offer", expected_close="2026-12-11"),
        "leads/x4.md": lead(title="X4", owner="zoe", status="won", value="5.50", closed_on="2026-11-05"),
        "leads/x5.md": lead(title="X5", owner="anna", status="lost", value="1.000", closed_on="2026-11-06", created="2026-01-01"),
    }
    project = load_project(make_project({**LEADS, **extra}))
    day = date.fromisoformat(today)
    found = figures.compute(project, day)
    leads = found.leads
    config = project.config
    split = {s: [f for f in leads if f.lead.status == s] for s in ("active", "won")}
    assert repr(found.totals) == repr(reference.totals(leads))
    assert repr(found.stages) == repr(reference.stage_buckets(config.stages, leads))
    assert repr(found.forecast_by_month) == repr(reference.forecast_by_month(leads))
    assert repr(found.closed_by_month) == repr(reference.closed_by_month(leads))
    owners = tuple(reference.owner_figures(m, [f for f in leads if f.lead.owner == m.id]) for m in config.team)
    assert repr(found.owners) == repr(owners)
    assert repr(found.targets) == repr(tuple(reference.target_figures(t, leads) for t in config.targets))
    assert split["won"] and found.targets and found.forecast_by_month and found.closed_by_month
    assert repr(figures.compute(project, day, found)) == repr(found)


def test_last_touch_and_stage_since_of_a_history_in_any_order() -> None:
    """The latest of created, last_contact and the history dates, and the latest entry of the current stage, wherever
    they are (a valid lead's history is oldest first, but the functions do not rely on it)."""
    from dataclasses import replace
    from datetime import date

    from test_model import LEAD

    from funnel_site import figures
    from funnel_site.model import HistoryEntry, Lead

    day = date.fromisoformat
    history = (HistoryEntry(day("2026-05-01"), "offer"), HistoryEntry(day("2026-07-01"), "lead"),
               HistoryEntry(day("2026-03-01"), "offer"), HistoryEntry(day("2026-02-01"), "lead"))
    base = replace(Lead(**LEAD), history=history, stage="offer")
    assert (figures.last_touch(base), figures._stage_since(base)) == (day("2026-10-01"), day("2026-03-01"))
    assert figures.last_touch(replace(base, created=None)) == day("2026-07-01")
    assert figures.last_touch(replace(base, created=None, last_contact=day("2026-07-02"))) == day("2026-07-02")
    assert figures.last_touch(replace(base, created=None, history=())) is None
    assert figures._stage_since(replace(base, stage="negotiation")) is None
