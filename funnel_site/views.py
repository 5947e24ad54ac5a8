"""What the dashboard pages show beyond figures.py: groupings, short lists, rates by owner and source.

Pure functions over ``Figures``; the templates only lay these out.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import operator
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Sequence, TypeVar

from funnel_site.figures import Figures, LeadFigures, Rate, outcome_rates
from funnel_site.model import Config, Member, Stage

if TYPE_CHECKING:
    from funnel_site.fragments import Fragments

DUE_SOON_DAYS = 14
TOP_OPPORTUNITIES = 10
TABLE_PAGE_SIZE = 500  # rows per page of the all-leads table: ~0.5 MB of HTML, quick to render and to read
BOARD_COLUMN_CARDS = 50  # cards per board column; the rest are counted and linked to the table
LIST_ROWS = 100  # rows per list on the overview, closed, ideas and owner pages; the rest are counted (and linked to the table)
OPEN = ("active", "potential")
_T = TypeVar("_T")
_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue"})


@dataclass(frozen=True)
class Group:
    """Leads sharing a key (company, source, reason, …) with their outcome figures."""

    key: str
    label: str
    leads: tuple[LeadFigures, ...]
    open_value: Decimal
    won_value: Decimal

    # Made when first asked for: only the rate tables show them, never the thousands of company pages.
    @functools.cached_property
    def close_rate(self) -> Rate:
        return outcome_rates(self.leads)[0]

    @functools.cached_property
    def win_rate(self) -> Rate:
        return outcome_rates(self.leads)[1]

    @property
    def counts(self) -> dict[str, int]:
        """Leads by status, in the order the statuses first occur: a dict counted over the statuses taken in C (3,538
        companies' rows ask at 10k leads; half the time of a ``defaultdict`` per lead)."""
        found: dict[str, int] = {}
        for status in map(_status_of, self.leads):
            found[status] = found.get(status, 0) + 1
        return found

    @property
    def value(self) -> Decimal:
        return _sum(f.value for f in self.leads)

    @property
    def next_follow_up(self) -> date | None:
        dates = [f.lead.follow_up for f in self.leads if f.lead.status in OPEN and f.lead.follow_up]
        return min(dates) if dates else None


@dataclass(frozen=True)
class Column:
    stage: Stage
    leads: tuple[LeadFigures, ...]
    value: Decimal
    weighted: Decimal


@dataclass(frozen=True)
class TablePage:
    """One page of the all-leads table: rows ``start`` to ``end`` (0-based, ``end`` excluded) of ``total``."""

    number: int
    count: int  # pages in all
    start: int
    end: int
    total: int

    @property
    def path(self) -> str:
        return table_page_path(self.number)

    @property
    def numbers(self) -> range:
        return range(1, self.count + 1)


@dataclass(frozen=True)
class Period:
    label: str  # "2026-Q4"
    start: date
    end: date
    won_value: Decimal
    won_count: int
    target: Decimal | None


def _sum(values: Iterable[Decimal | None]) -> Decimal:
    return sum((v for v in values if v is not None), Decimal(0))


def group(key: str, label: str, leads: Sequence[LeadFigures]) -> Group:
    # one pass adding in the leads' order, as ``_sum`` of each status would (the same sums, exponents included)
    open_value, won_value = Decimal(0), Decimal(0)
    for f in leads:
        value = f.value
        if value is not None:
            status = f.lead.status
            if status == "active":
                open_value += value
            elif status == "won":
                won_value += value
    return Group(key=key, label=label, leads=tuple(leads), open_value=open_value, won_value=won_value)


def kept_group(key: str, label: str, leads: Sequence[LeadFigures], fragments: Fragments | None = None, kind: str = "group") -> Group:
    """``group``; ``fragments`` (serve) keep each group of ``kind`` while its leads are the very same objects."""
    if fragments is None or not leads:
        return group(key, label, leads)
    return fragments.get(kind, tuple(leads), (key, label), lambda: group(key, label, leads))


def group_by(
    leads: Iterable[LeadFigures], key: Callable[[LeadFigures], str | None], fragments: Fragments | None = None, kind: str = "group",
) -> list[Group]:
    """Groups sorted by label; leads without a key are left out. ``fragments`` (serve): kept, and updated by the
    leads that changed (``Fragments.grouped``)."""
    if fragments is not None:
        found = leads if isinstance(leads, Sequence) else list(leads)
        return fragments.grouped(kind, found, key, lambda name, members: group(name, name, members), _label_order)
    buckets: dict[str, list[LeadFigures]] = defaultdict(list)
    for f in leads:
        value = key(f)
        if value:
            buckets[value].append(f)
    return [group(name, name, buckets[name]) for name in sorted(buckets, key=_label_order)]


def _label_order(name: str) -> tuple[str, str]:
    return (name.casefold(), name)


@functools.lru_cache(maxsize=1 << 16)  # the dev server asks for every company's slug on every rebuild
def slugify(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATION)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-")


def company_slugs(names: Iterable[str]) -> Mapping[str, str]:
    """A file name per company: readable, and the same for the same name in every build.

    Names whose readable slug is shared (or empty) all get a short hash of the exact name, so no
    company's page depends on the order of the others. The same names give the very same mapping
    as last time (the dev server asks on every rebuild; ``Fragments.follow_links`` compares it).
    """
    return _company_slugs(tuple(names))


@functools.lru_cache(maxsize=2)
def _company_slugs(given: tuple[str, ...]) -> Mapping[str, str]:
    names = sorted(set(given))
    plain = {name: slugify(name) for name in names}
    taken: dict[str, int] = defaultdict(int)
    for slug in plain.values():
        taken[slug] += 1
    result = {}
    for name, slug in plain.items():
        if not slug or taken[slug] > 1:
            digest = hashlib.sha256(name.encode()).hexdigest()
            slug = f"{slug or 'company'}-{digest[:8]}"
            if slug in taken:  # a company really named like another's hashed slug
                slug = f"{slug}{digest[8:]}"
        result[name] = slug
    return MappingProxyType(result)


def board(figures: Figures, config: Config, fragments: Fragments | None = None) -> list[Column]:
    """One column per stage with its active leads, soonest expected close first. ``fragments``: see ``in_order``."""
    by_stage: dict[str | None, list[LeadFigures]] = defaultdict(list)
    if fragments is not None:
        by_stage.update(fragments.grouped("board", figures.by_status["active"], _stage_of, lambda name, members: (name, members), str))
    else:
        for f in figures.by_status["active"]:
            by_stage[f.lead.stage].append(f)
    columns = []
    for stage in config.stages:
        leads = tuple(in_order(by_stage.get(stage.id, []), _board_order, fragments, f"board {stage.id}"))
        value, weighted = _column_sums(leads) if fragments is None or not leads else fragments.get(
            "board sums", leads, None, functools.partial(_column_sums, leads))
        columns.append(Column(stage, leads, value, weighted))
    return columns


def _column_sums(leads: Sequence[LeadFigures]) -> tuple[Decimal, Decimal]:
    return _sum(f.value for f in leads), _sum(f.weighted for f in leads)


_status_of: Callable[[LeadFigures], str] = operator.attrgetter("lead.status")


def _stage_of(f: LeadFigures) -> str | None:
    return f.lead.stage


def _board_order(f: LeadFigures) -> tuple[date, str, str]:
    return (f.lead.expected_close or date.max, f.lead.title.casefold(), f.lead.id)


def in_order(leads: Iterable[LeadFigures], key: Callable[[LeadFigures], Any], fragments: Fragments | None, kind: str) -> list[LeadFigures]:
    """``sorted(leads, key=key)``; ``fragments`` (serve) keep last build's order and move only what changed."""
    return fragments.sorted(kind, leads, key) if fragments is not None else sorted(leads, key=key)


def capped(
    leads: Sequence[LeadFigures], limit: int = BOARD_COLUMN_CARDS, fragments: Fragments | None = None, kind: str = "capped",
) -> tuple[LeadFigures, ...]:
    """The ``limit`` largest by weighted value, kept in their given order (a short column stays as it is).

    ``fragments`` (serve): the ranking by value is kept (``in_order``), one ``kind`` per column.
    """
    if len(leads) <= limit:
        return tuple(leads)
    if fragments is None:
        largest = sorted(range(len(leads)), key=lambda i: _by_weight(leads[i]))[:limit]
        return tuple(leads[i] for i in sorted(largest))
    top = {id(f) for f in fragments.sorted(kind, leads, _by_weight)[:limit]}
    return tuple(f for f in leads if id(f) in top)


def _by_weight(f: LeadFigures) -> tuple[Decimal | int, str]:
    return (-(f.weighted or 0), f.lead.id)


def table_page_path(number: int) -> str:
    """``leads.html`` for the first page (the address every link uses), ``leads-2.html`` … after it."""
    return "leads.html" if number == 1 else f"leads-{number}.html"


def table_pages(total: int, size: int = TABLE_PAGE_SIZE) -> list[TablePage]:
    """The pages of a table of ``total`` rows; an empty table still has its first page."""
    count = max(1, -(-total // size))
    return [TablePage(n + 1, count, n * size, min(total, (n + 1) * size), total) for n in range(count)]


def with_status(figures: Figures, *statuses: str) -> list[LeadFigures]:
    """The leads of these statuses, status by status (for lists sorted afterwards by a key unique per lead)."""
    return list(itertools.chain.from_iterable(figures.by_status.get(status, ()) for status in statuses))


def follow_ups(
    leads: Iterable[LeadFigures], today: date, days: int = DUE_SOON_DAYS, fragments: Fragments | None = None, kind: str = "follow-ups",
) -> list[LeadFigures]:
    """Open leads with a follow-up that is overdue or due within ``days``, oldest first. ``fragments``: one ``kind`` per list."""
    found = _filtered(leads, functools.partial(is_due, today=today, days=days), fragments, f"{kind} {days}")
    return in_order(found, lambda f: (f.lead.follow_up, f.lead.title.casefold(), f.lead.id), fragments, f"{kind} {days}")


def is_due(f: LeadFigures, today: date, days: int = DUE_SOON_DAYS) -> bool:
    """An open lead whose follow-up is overdue or due within ``days``: one of the follow-ups lists."""
    return f.lead.status in OPEN and f.lead.follow_up is not None and (f.lead.follow_up - today).days <= days


def attention(f: LeadFigures, today: date) -> str:
    """What the all-leads table filters by "needs attention": ``due`` (the overview's follow-ups) and ``stale``
    (its stale leads), space-separated; empty for neither."""
    due = is_due(f, today)
    return "due stale" if due and f.stale else "due" if due else "stale" if f.stale else ""


def stale(leads: Iterable[LeadFigures], fragments: Fragments | None = None) -> list[LeadFigures]:
    found = _filtered(leads, operator.attrgetter("stale"), fragments, "stale")
    return in_order(found, lambda f: (-(f.days_since_touch or 0), f.lead.id), fragments, "stale")


def top_weighted(leads: Iterable[LeadFigures], count: int = TOP_OPPORTUNITIES, fragments: Fragments | None = None) -> list[LeadFigures]:
    active = _filtered(leads, lambda f: f.lead.status == "active" and bool(f.weighted), fragments, "top weighted")
    return in_order(active, _by_weight, fragments, "top weighted")[:count]


def _filtered(leads: Iterable[LeadFigures], keep: Callable[[LeadFigures], bool], fragments: Fragments | None, kind: str) -> list[LeadFigures]:
    """The leads ``keep`` keeps; ``fragments`` (serve): asking only of the leads that changed (``Fragments.filtered``)."""
    if fragments is None:
        return [f for f in leads if keep(f)]
    return fragments.filtered(kind, leads if isinstance(leads, Sequence) else list(leads), keep)


def ideas(leads: Iterable[LeadFigures]) -> list[LeadFigures]:
    """Kontaktpotenzial: reminder date first (none last), then title."""
    found = [f for f in leads if f.lead.status == "potential"]
    return sorted(found, key=lambda f: (f.lead.follow_up or date.max, f.lead.title.casefold(), f.lead.id))


def closed(leads: Iterable[LeadFigures], status: str) -> list[LeadFigures]:
    found = [f for f in leads if f.lead.status == status]
    return sorted(found, key=lambda f: (-(f.lead.closed_on or date.min).toordinal(), f.lead.id))


def reasons(leads: Iterable[LeadFigures], status: str, unknown: str, fragments: Fragments | None = None) -> list[Group]:
    """Lost or cancelled leads by reason, most frequent first."""
    closed = (f for f in leads if f.lead.status == status)
    groups = group_by(closed, lambda f: (f.lead.reason or "").strip() or unknown, fragments, f"reason {status}")
    return sorted(groups, key=lambda g: (-len(g.leads), g.label.casefold()))


def by_owner(leads: Sequence[LeadFigures], team: Sequence[Member], fragments: Fragments | None = None) -> list[Group]:
    own: dict[str, list[LeadFigures]] = defaultdict(list)
    for f in leads:
        own[f.lead.owner].append(f)
    return [kept_group(m.id, m.name, own.get(m.id, []), fragments, "owner") for m in team]


def by_source(leads: Sequence[LeadFigures], unknown: str, fragments: Fragments | None = None) -> list[Group]:
    return group_by(leads, lambda f: f.lead.source or unknown, fragments, "source")


def sorted_leads(leads: Iterable[LeadFigures], config: Config, fragments: Fragments | None = None, kind: str = "table") -> list[LeadFigures]:
    """The default table order: open before closed, later stages first, then by weighted value. ``fragments``: one ``kind`` per list."""
    status_rank = {"active": 0, "potential": 1, "won": 2, "lost": 3, "cancelled": 4}
    stage_rank = {s.id: -i for i, s in enumerate(config.stages)}

    def key(f: LeadFigures) -> tuple[Any, ...]:
        return (status_rank[f.lead.status], stage_rank.get(f.lead.stage or "", 1), -(f.weighted or f.value or 0), f.lead.id)

    return in_order(leads, key, fragments, kind)


def quarter_of(day: date) -> tuple[str, date, date]:
    quarter = (day.month - 1) // 3
    start = date(day.year, quarter * 3 + 1, 1)
    end = date(day.year + (quarter == 3), (quarter * 3 + 3) % 12 + 1, 1) - timedelta(days=1)
    return f"{day.year}-Q{quarter + 1}", start, end


def current_quarter(figures: Figures, config: Config) -> Period:
    """Won in the calendar quarter of ``today``, against that quarter's target when one is set."""
    label, start, end = quarter_of(figures.today)
    won = [f for f in figures.by_status["won"] if f.lead.closed_on and start <= f.lead.closed_on <= end]
    target = next((t.amount for t in config.targets if t.period == label), None)
    return Period(label, start, end, _sum(f.value for f in won), len(won), target)


def stage_order(config: Config) -> dict[str, int]:
    return {stage.id: index for index, stage in enumerate(config.stages)}


def values(leads: Iterable[LeadFigures], field: str) -> list[str]:
    """The distinct values of a text or list field over all leads, sorted (for filter menus)."""
    return values_of(leads, field)[0]


def values_of(leads: Iterable[LeadFigures], *fields: str, fragments: Fragments | None = None) -> list[list[str]]:
    """``values`` of each field, in one pass over the leads. ``fragments`` (serve): counted by the leads that changed."""
    if fragments is not None:
        counts = fragments.counted(f"values of {fields}", leads, functools.partial(_field_values, fields=fields))
        found = [{value for index, value in counts if index == i} for i in range(len(fields))]  # type: ignore[misc]
    else:
        found = [set() for _ in fields]
        for f in leads:
            for index, value in _field_values(f, fields):
                found[index].add(value)
    return [sorted(seen, key=lambda v: (v.casefold(), v)) for seen in found]


def _field_values(f: LeadFigures, fields: Sequence[str]) -> Iterator[tuple[int, str]]:
    """(index of the field, value) for each value of the text or list fields of the lead."""
    for index, field in enumerate(fields):
        value = getattr(f.lead, field)
        if isinstance(value, str):
            yield index, value
        elif value:
            for one in value:
                yield index, one


def sizes(groups: Iterable[Group]) -> list[tuple[str, int]]:
    """(label, number of leads) per group, for a bar chart."""
    return [(g.label, len(g.leads)) for g in groups]


def company_of(f: LeadFigures) -> str | None:
    return f.lead.company


def owned_by(leads: Sequence[LeadFigures], owner: str, fragments: Fragments | None = None) -> Sequence[LeadFigures]:
    """The owner's leads in the given order; ``fragments`` (serve): from ``owners``. Without them, grouped once for all
    owner pages (10k leads, 12 owners: 120k comparisons before)."""
    if fragments is None:
        return _kept("owned", (leads,), lambda: _by_owner(leads)).get(owner, ())
    return owners(leads, fragments).get(owner, ())


def owner_table(leads: Sequence[LeadFigures], owner: str, config: Config, fragments: Fragments | None = None) -> Sequence[LeadFigures]:
    """``sorted_leads`` of the owner's leads (``owned_by``). Without ``fragments``, the all-leads table's order
    (``table_order``) handed out by owner: the order of a part is the order of the whole (the key ends in the lead's
    id), so the owner pages sort nothing (10k leads: twelve sorts of ~830)."""
    if fragments is not None:
        return sorted_leads(owned_by(leads, owner, fragments), config, fragments, f"table of {owner}")
    return _kept("owner tables", (leads, config), lambda: _by_owner(table_order(leads, config))).get(owner, ())


def table_order(leads: Sequence[LeadFigures], config: Config, fragments: Fragments | None = None) -> list[LeadFigures]:
    """``sorted_leads`` of all leads (not to be changed by the caller): without ``fragments``, sorted once for the
    table's pages and the owner pages."""
    if fragments is not None:
        return sorted_leads(leads, config, fragments)
    return _kept("table", (leads, config), lambda: sorted_leads(leads, config))


_KEPT: dict[str, tuple[tuple[object, ...], Any]] = {}


def _kept(name: str, inputs: tuple[object, ...], make: Callable[[], _T]) -> _T:
    """``make()``, kept under ``name`` for the very ``inputs`` (held, so their ids are not another's) until asked with
    others: what each of a build's owner pages asks is made once. Every caller shares it: not to be changed."""
    kept = _KEPT.get(name)
    if kept is None or len(kept[0]) != len(inputs) or any(a is not b for a, b in zip(kept[0], inputs)):
        kept = _KEPT[name] = (inputs, make())
    return kept[1]  # type: ignore[no-any-return]


def _by_owner(leads: Iterable[LeadFigures]) -> dict[str, tuple[LeadFigures, ...]]:
    found: dict[str, list[LeadFigures]] = defaultdict(list)
    for f in leads:
        found[f.lead.owner].append(f)
    return {owner: tuple(own) for owner, own in found.items()}


def owners(leads: Sequence[LeadFigures], fragments: Fragments) -> dict[str, list[LeadFigures]]:
    """Each owner's leads in the given order (``Fragments.grouped``: one grouping per build, updated by the
    leads that changed). Not to be changed by the caller."""
    return dict(fragments.grouped("owners", leads, _owner_of, lambda name, members: (name, members), str))


def _owner_of(f: LeadFigures) -> str:
    return f.lead.owner
