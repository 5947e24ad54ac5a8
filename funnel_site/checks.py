"""Warnings about the state of the pipeline (reported, but the build succeeds)."""

from __future__ import annotations

from datetime import date

from funnel_site.figures import Figures, LeadFigures
from funnel_site.model import Lead
from funnel_site.problems import Problem, sort_problems


def pipeline_warnings(figures: Figures) -> list[Problem]:
    """Every warning of every lead, sorted by file and line."""
    found: list[Problem] = []
    for lead_figures in figures.leads:
        found.extend(lead_warnings(lead_figures, figures.today))
    return sort_problems(found)


def lead_warnings(figures: LeadFigures, today: date) -> list[Problem]:
    lead = figures.lead
    found = []
    if lead.status == "active" and lead.expected_close is not None and lead.expected_close < today:
        found.append(_warning(lead, "expected_close", f"{lead.expected_close} has passed; move the date or close the lead", "close-date-passed"))
    if figures.follow_up_overdue:
        days = (today - lead.follow_up).days  # type: ignore[operator]
        found.append(_warning(lead, "follow_up", f"follow-up was due {days} {_days(days)} ago ({lead.follow_up})", "follow-up-overdue"))
    if figures.stale:
        field = next((k for k in ("last_contact", "created", "history") if k in lead.lines), "last_contact")
        found.append(_warning(lead, field, f"stale: no activity for {figures.days_since_touch} days (last on {figures.last_touch})", "stale"))
    if lead.status == "active" and not (lead.next_step or "").strip():
        found.append(_warning(lead, "next_step", "active lead without a next step", "no-next-step"))
    return found


def _warning(lead: Lead, field: str, message: str, rule: str) -> Problem:
    return Problem(lead.path, lead.line_of(field), field, message, "warning", rule)


def _days(count: int) -> str:
    return "day" if count == 1 else "days"
