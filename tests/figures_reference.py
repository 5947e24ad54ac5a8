"""The figures one function each, as the engine first computed them: the reference that
``figures.compute`` (one pass over the leads, ``_Tally``) is compared with in tests/test_figures.py."""

from __future__ import annotations

from datetime import date
from typing import Callable, Iterable, Sequence

from funnel_site.figures import (
    Bucket, LeadFigures, OutcomeMonth, OwnerFigures, TargetFigures, Totals,
    _outcome_rates, _ratio, _sum, _target_sums, _with_status, outcome_rates,
)
from funnel_site.model import STATUSES, Member, Stage, Target


def stage_buckets(stages: Sequence[Stage], leads: Sequence[LeadFigures]) -> tuple[tuple[Stage, Bucket], ...]:
    """Active leads per stage, in config order (empty stages included)."""
    groups = _group(_active(leads), lambda f: f.lead.stage or "")
    return tuple((stage, _bucket(stage.id, groups.get(stage.id, []))) for stage in stages)


def _active(leads: Iterable[LeadFigures], keep: Callable[[LeadFigures], bool] | None = None) -> list[LeadFigures]:
    return [f for f in leads if f.lead.status == "active" and (keep is None or keep(f))]


def _group(leads: Iterable[LeadFigures], key: Callable[[LeadFigures], str]) -> dict[str, list[LeadFigures]]:
    """Leads by key, keys sorted."""
    groups: dict[str, list[LeadFigures]] = {}
    for f in leads:
        groups.setdefault(key(f), []).append(f)
    return dict(sorted(groups.items()))


def _bucket(key: str, leads: Sequence[LeadFigures]) -> Bucket:
    return Bucket(key, len(leads), _sum(f.value for f in leads), _sum(f.weighted for f in leads))


def _by_status(leads: Iterable[LeadFigures]) -> dict[str, list[LeadFigures]]:
    """The leads of each status, in their order: one pass instead of one per status."""
    split: dict[str, list[LeadFigures]] = {status: [] for status in STATUSES}
    for f in leads:
        split.setdefault(f.lead.status, []).append(f)
    return split


def totals(leads: Sequence[LeadFigures]) -> Totals:
    return _totals(leads, _by_status(leads))


def _totals(leads: Sequence[LeadFigures], split: dict[str, list[LeadFigures]]) -> Totals:
    counts = {status: len(split[status]) for status in STATUSES}
    counts["total"] = len(leads)
    active, won, lost, cancelled = split["active"], split["won"], split["lost"], split["cancelled"]
    close, win, cancel = _outcome_rates(won, lost, cancelled)
    cycles = [(f.lead.closed_on - f.lead.created).days for f in won if f.lead.created and f.lead.closed_on]
    open_leads = counts["active"] + counts["potential"]
    young = sum(1 for f in leads if f.young)
    return Totals(
        counts=counts,
        pipeline_value=_sum(f.value for f in active),
        weighted_forecast=_sum(f.weighted for f in active),
        won_value=_sum(f.value for f in won),
        lost_value=_sum(f.value for f in lost),
        cancelled_value=_sum(f.value for f in cancelled),
        close_rate=close,
        win_rate=win,
        cancel_share=cancel,
        average_won_value=_ratio(_sum(f.value for f in won), len(won)),
        average_sales_cycle_days=_ratio(sum(cycles), len(cycles)),
        young_leads=young,
        young_share=_ratio(young, open_leads),
        follow_ups_overdue=sum(1 for f in leads if f.follow_up_overdue),
        stale=sum(1 for f in leads if f.stale),
        qualified=sum(1 for f in leads if f.qualified and f.lead.status in ("active", "potential")),
    )


def forecast_by_month(leads: Sequence[LeadFigures]) -> tuple[Bucket, ...]:
    """Active leads grouped by the month of expected_close, oldest month first."""
    dated = _active(leads, lambda f: f.lead.expected_close is not None)
    groups = _group(dated, lambda f: f.lead.expected_close.strftime("%Y-%m"))  # type: ignore[union-attr]
    return tuple(_bucket(month, group) for month, group in groups.items())


def closed_by_month(leads: Sequence[LeadFigures]) -> tuple[OutcomeMonth, ...]:
    """Won, lost and cancelled leads grouped by the month of closed_on."""
    closed = [f for f in _with_status(leads, "won", "lost", "cancelled") if f.lead.closed_on]
    result = []
    for month, in_month in _group(closed, lambda f: f.lead.closed_on.strftime("%Y-%m")).items():  # type: ignore[union-attr]
        groups = [_with_status(in_month, s) for s in ("won", "lost", "cancelled")]
        sums = [_sum(f.value for f in g) for g in groups]
        result.append(OutcomeMonth(month, len(groups[0]), sums[0], len(groups[1]), sums[1], len(groups[2]), sums[2]))
    return tuple(result)


def owner_figures(member: Member, own: Sequence[LeadFigures]) -> OwnerFigures:
    """Figures over one owner's leads."""
    active, won = _active(own), _with_status(own, "won")
    close, win, _ = outcome_rates(own)
    return OwnerFigures(
        member=member,
        active=len(active),
        pipeline_value=_sum(f.value for f in active),
        weighted_forecast=_sum(f.weighted for f in active),
        won=len(won),
        won_value=_sum(f.value for f in won),
        close_rate=close,
        win_rate=win,
    )


def target_figures(target: Target, leads: Sequence[LeadFigures]) -> TargetFigures:
    return _target_figures(target, _with_status(leads, "won"), _active(leads))


def _target_figures(target: Target, won: Sequence[LeadFigures], active: Sequence[LeadFigures]) -> TargetFigures:
    def within(day: date | None) -> bool:
        return day is not None and target.start <= day <= target.end

    expected = [f for f in active if within(f.lead.expected_close)]
    return _target_sums(target, _sum(f.value for f in won if within(f.lead.closed_on)),
                        _sum(f.weighted for f in expected), _sum(f.value for f in expected))
