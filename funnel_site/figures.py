"""Pipeline and forecast figures: pure functions over the model. ``today`` decides every date comparison."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from typing import ClassVar, Iterable, Mapping, Sequence

from funnel_site.model import STATUSES, Config, Lead, Member, Project, Stage, Target, with_build
from funnel_site.tally import CLOSED, NONE, Sums, Tally, tallied

YOUNG_DAYS = 30
ZERO, ONE, HUNDRED = Decimal(0), Decimal(1), Decimal(100)
_is_true = partial(operator.is_, True)
_date_of = operator.attrgetter("date")


@dataclass(frozen=True)
class Rate:
    by_count: Decimal | None  # None when the denominator is 0
    by_value: Decimal | None


@with_build
@dataclass(frozen=True, slots=True)
class LeadFigures:
    build: ClassVar[type[LeadFigures]]  # the cheap constructor (model.with_build): one per lead
    lead: Lead
    value: Decimal | None  # in base currency
    probability: Decimal  # fraction 0..1 that was used
    weighted: Decimal | None
    follow_up_overdue: bool
    stale: bool
    age_days: int | None  # since created
    last_touch: date | None  # latest of created, last_contact and history dates
    days_since_touch: int | None
    stage_since: date | None  # date of the latest history entry for the current stage
    qualified: bool  # every configured criterion is met
    young: bool


@dataclass(frozen=True)
class Bucket:
    key: str
    count: int
    value: Decimal
    weighted: Decimal


@dataclass(frozen=True)
class OutcomeMonth:
    month: str
    won: int
    won_value: Decimal
    lost: int
    lost_value: Decimal
    cancelled: int
    cancelled_value: Decimal


@dataclass(frozen=True)
class OwnerFigures:
    member: Member
    active: int
    pipeline_value: Decimal
    weighted_forecast: Decimal
    won: int
    won_value: Decimal
    close_rate: Rate
    win_rate: Rate


@dataclass(frozen=True)
class TargetFigures:
    target: Target
    won_value: Decimal  # won and closed inside the period
    weighted_open: Decimal  # weighted forecast of active leads expected to close in the period
    forecast: Decimal  # won_value + weighted_open
    open_value: Decimal  # unweighted value of those active leads
    remaining: Decimal  # target - won_value, never below 0
    coverage: Decimal | None  # open_value / remaining; None when the target is already met
    attainment: Decimal | None  # won_value / target


@dataclass(frozen=True)
class Totals:
    counts: dict[str, int]
    pipeline_value: Decimal
    weighted_forecast: Decimal
    won_value: Decimal
    lost_value: Decimal
    cancelled_value: Decimal
    close_rate: Rate
    win_rate: Rate
    cancel_share: Rate
    average_won_value: Decimal | None
    average_sales_cycle_days: Decimal | None
    young_leads: int
    young_share: Decimal | None
    follow_ups_overdue: int
    stale: int
    qualified: int


@dataclass(frozen=True)
class Figures:
    today: date
    leads: tuple[LeadFigures, ...]
    totals: Totals
    stages: tuple[tuple[Stage, Bucket], ...]
    forecast_by_month: tuple[Bucket, ...]
    closed_by_month: tuple[OutcomeMonth, ...]
    owners: tuple[OwnerFigures, ...]
    targets: tuple[TargetFigures, ...]
    # the leads of each status in lead order: pages that show one or two statuses need not pass over all leads
    by_status: Mapping[str, tuple[LeadFigures, ...]] = field(compare=False, repr=False)
    tally: Tally | None = field(default=None, compare=False, repr=False)  # kept when ``updatable`` (compute)


def compute(project: Project, today: date, previous: Figures | None = None, updatable: bool = False) -> Figures:
    """Every figure of the pipeline as of ``today``.

    ``previous``: figures of the same config and ``today`` (the dev server's last build). A lead that is the
    very same object as one of those keeps its ``LeadFigures`` object, so what was rendered from it can be reused;
    when ``previous`` was ``updatable`` and only a few leads changed, its sums are updated by difference
    (``tally.py``). ``updatable``: the figures keep what such an update needs.
    """
    config = project.config
    if previous is not None and previous.tally is not None:
        found = previous.tally.updated(project.leads, lambda lead: lead_figures(lead, config, today), previous.leads)
        if found is not None:
            return _figures(found[0], config, today, found[1])
    known = {id(f.lead): f for f in previous.leads} if previous is not None else {}
    leads = tuple((known and _known(known, lead)) or lead_figures(lead, config, today) for lead in project.leads)
    tally = tallied(leads, project.leads, config, updatable or (previous is not None and previous.tally is not None))
    return _figures(tally, config, today, leads)


def _known(known: dict[int, LeadFigures], lead: Lead) -> LeadFigures | None:
    found = known.get(id(lead))
    return found if found is not None and found.lead is lead else None


def probability_used(lead: Lead, config: Config) -> Decimal:
    """The lead's own probability overrides its stage's; won counts 100 %, lost and cancelled 0 %."""
    if lead.status == "won":
        return ONE
    if lead.status in ("lost", "cancelled"):
        return ZERO
    if lead.probability is not None:
        return lead.probability / HUNDRED
    stage = config.stage(lead.stage)
    return stage.probability / HUNDRED if stage is not None else ZERO


def lead_figures(lead: Lead, config: Config, today: date) -> LeadFigures:
    probability = probability_used(lead, config)
    touch = last_touch(lead)
    since_touch = (today - touch).days if touch else None
    age = (today - lead.created).days if lead.created else None
    is_open = lead.status in ("active", "potential")
    return LeadFigures.build(
        lead=lead,
        value=lead.value_base,
        probability=probability,
        weighted=lead.value_base * probability if lead.value_base is not None else None,
        follow_up_overdue=is_open and lead.follow_up is not None and lead.follow_up < today,
        stale=lead.status == "active" and since_touch is not None and since_touch > _stale_after(lead, config),
        age_days=age,
        last_touch=touch,
        days_since_touch=since_touch,
        stage_since=_stage_since(lead),
        qualified=all(map(_is_true, map(lead.qualification.get, config.qualification))),
        young=is_open and age is not None and 0 <= age < YOUNG_DAYS,
    )


def last_touch(lead: Lead) -> date | None:
    """The latest of created, last_contact and the history dates."""
    latest = lead.created
    for day in (lead.last_contact, *map(_date_of, lead.history)):
        if day is not None and (latest is None or day > latest):  # what max() compares, without its ~3k of argument parsing
            latest = day
    return latest


def _stale_after(lead: Lead, config: Config) -> int:
    stage = config.stage(lead.stage)
    if stage is not None and stage.stale_after_days is not None:
        return stage.stale_after_days
    return config.stale_after_days


def _stage_since(lead: Lead) -> date | None:
    for entry in reversed(lead.history):
        if entry.stage == lead.stage:
            return entry.date
    return None


def _sum(values: Iterable[Decimal | None]) -> Decimal:
    return sum((v for v in values if v is not None), Decimal(0))


def _ratio(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    return Decimal(part) / Decimal(whole) if whole else None


def _with_status(leads: Iterable[LeadFigures], *statuses: str) -> list[LeadFigures]:
    return [f for f in leads if f.lead.status in statuses]


def outcome_rates(leads: Sequence[LeadFigures]) -> tuple[Rate, Rate, Rate]:
    """Close rate W/(W+L+C), win rate W/(W+L) and cancel share C/(W+L+C), by count and by value."""
    return _outcome_rates(*(_with_status(leads, s) for s in ("won", "lost", "cancelled")))


def _outcome_rates(won: list[LeadFigures], lost: list[LeadFigures], cancelled: list[LeadFigures]) -> tuple[Rate, Rate, Rate]:
    return _rates((len(won), len(lost), len(cancelled)), [_sum(f.value for f in group) for group in (won, lost, cancelled)])


def _rates(counts: tuple[int, int, int], values: list[Decimal]) -> tuple[Rate, Rate, Rate]:
    """Close, win and cancel rates from the won, lost and cancelled counts and value sums."""
    closed_count = sum(counts)
    close = Rate(_ratio(counts[0], closed_count), _ratio(values[0], sum(values)))
    win = Rate(_ratio(counts[0], counts[0] + counts[1]), _ratio(values[0], values[0] + values[1]))
    cancel = Rate(_ratio(counts[2], closed_count), _ratio(values[2], sum(values)))
    return close, win, cancel


def _target_sums(target: Target, won_value: Decimal, weighted_open: Decimal, open_value: Decimal) -> TargetFigures:
    remaining = max(target.amount - won_value, Decimal(0))
    return TargetFigures(
        target=target,
        won_value=won_value,
        weighted_open=weighted_open,
        forecast=won_value + weighted_open,
        open_value=open_value,
        remaining=remaining,
        coverage=_ratio(open_value, remaining),
        attainment=_ratio(won_value, target.amount),
    )


def _figures(tally: Tally, config: Config, today: date, leads: tuple[LeadFigures, ...]) -> Figures:
    return Figures(
        today=today,
        leads=leads,
        totals=_totals(tally, len(leads)),
        stages=tuple((stage, _bucket(tally.stages.get(stage.id, NONE), stage.id)) for stage in config.stages),
        forecast_by_month=tuple(_bucket(tally.forecast[month], month) for month in sorted(tally.forecast)),
        closed_by_month=tuple(_outcome_month(month, tally.closed[month]) for month in sorted(tally.closed)),
        owners=tuple(_owner(member, tally.owners.get(member.id, {})) for member in config.team),
        targets=tuple(_targets(tally, config.targets)),
        by_status={status: tuple(found) for status, found in tally.split.items()},
        tally=tally if tally.updatable else None,
    )


def _targets(tally: Tally, targets: tuple[Target, ...]) -> Iterable[TargetFigures]:
    for index, target in enumerate(targets):
        won, expected = tally.won_in.get(index, NONE), tally.expected_in.get(index, NONE)
        yield _target_sums(target, won.value, expected.weighted, expected.value)


def _bucket(sums: Sums, key: str) -> Bucket:
    return Bucket(key, sums.count, sums.value, sums.weighted)


def _totals(tally: Tally, total: int) -> Totals:
    counts = {status: tally.statuses.get(status, NONE).count for status in STATUSES}
    counts["total"] = total
    won, lost, cancelled = (tally.statuses.get(status, NONE) for status in CLOSED)
    close, win, cancel = _rates_of(won, lost, cancelled)
    active = tally.statuses.get("active", NONE)
    return Totals(
        counts=counts,
        pipeline_value=active.value,
        weighted_forecast=active.weighted,
        won_value=won.value,
        lost_value=lost.value,
        cancelled_value=cancelled.value,
        close_rate=close,
        win_rate=win,
        cancel_share=cancel,
        average_won_value=_ratio(won.value, won.count),
        average_sales_cycle_days=_ratio(tally.cycle_days, tally.cycles),
        young_leads=tally.young,
        young_share=_ratio(tally.young, counts["active"] + counts["potential"]),
        follow_ups_overdue=tally.overdue,
        stale=tally.stale,
        qualified=tally.qualified,
    )


def _rates_of(won: Sums, lost: Sums, cancelled: Sums) -> tuple[Rate, Rate, Rate]:
    return _rates((won.count, lost.count, cancelled.count), [won.value, lost.value, cancelled.value])


def _outcome_month(month: str, by_status: dict[str, Sums]) -> OutcomeMonth:
    won, lost, cancelled = (by_status.get(status, NONE) for status in CLOSED)
    return OutcomeMonth(month, won.count, won.value, lost.count, lost.value, cancelled.count, cancelled.value)


def _owner(member: Member, by_status: dict[str, Sums]) -> OwnerFigures:
    active, won, lost, cancelled = (by_status.get(status, NONE) for status in ("active", *CLOSED))
    close, win, _ = _rates_of(won, lost, cancelled)
    return OwnerFigures(
        member=member,
        active=active.count,
        pipeline_value=active.value,
        weighted_forecast=active.weighted,
        won=won.count,
        won_value=won.value,
        close_rate=close,
        win_rate=win,
    )
