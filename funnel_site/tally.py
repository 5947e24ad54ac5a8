"""The running counts and sums behind ``figures.compute``: per status, owner, stage, month and target, added in
one pass over the leads, and updated by difference when a few leads change (the dev server's edit).

An updated sum must equal the sum added afresh, digit for digit. Decimal addition is exact and independent of
order as long as nothing rounds, so an update under which anything rounded is refused (the caller adds
afresh), and so is one on a tally whose own additions rounded. What remains is the exponent: an exact sum
carries the smallest exponent of its terms and of the ``Decimal(0)`` it starts from (``1.50 + 2 = 3.50``), and
taking a term away leaves that exponent behind (``3.50 - 1.50 = 2.00``, afresh ``2``). An updatable tally
therefore counts the exponents of each sum's terms and puts every changed sum back on the smallest one left.
"""

from __future__ import annotations

import bisect
import itertools
import operator
from collections import Counter
from datetime import date
from decimal import Decimal, Inexact, Rounded, localcontext
from typing import TYPE_CHECKING, Any, Callable, Iterable

from funnel_site.model import STATUSES, Config, Lead

if TYPE_CHECKING:
    from funnel_site.figures import LeadFigures

CLOSED = ("won", "lost", "cancelled")
MAX_CHANGES = 64  # changed leads beyond which adding afresh is quicker than updating


class Sums:
    """Count and sums of a group of leads; with ``exponents``, the exponents of the terms of each sum."""

    __slots__ = ("count", "value", "weighted", "exponents")

    def __init__(self, exponents: bool = False) -> None:
        self.count, self.value, self.weighted = 0, Decimal(0), Decimal(0)
        self.exponents: tuple[Counter[int], Counter[int]] | None = (Counter(), Counter()) if exponents else None

    def add(self, value: Decimal | None, weighted: Decimal | None) -> None:
        self.count += 1
        if value is not None:
            self.value += value
        if weighted is not None:
            self.weighted += weighted
        if self.exponents is not None:
            _count_exponents(self.exponents, value, weighted, 1)

    def remove(self, value: Decimal | None, weighted: Decimal | None) -> None:
        self.count -= 1
        if value is not None:
            self.value -= value
        if weighted is not None:
            self.weighted -= weighted
        assert self.exponents is not None, "only an updatable tally removes"
        _count_exponents(self.exponents, value, weighted, -1)

    def settle(self) -> None:
        """Each sum on the exponent it would have if added afresh (exact: every term is a multiple of it)."""
        assert self.exponents is not None, "only an updatable tally settles"
        self.value = _on_smallest_exponent(self.value, self.exponents[0])
        self.weighted = _on_smallest_exponent(self.weighted, self.exponents[1])

    def copy(self) -> Sums:
        other = Sums()
        other.count, other.value, other.weighted = self.count, self.value, self.weighted
        other.exponents = (self.exponents[0].copy(), self.exponents[1].copy()) if self.exponents is not None else None
        return other


NONE = Sums()  # an empty group (read only)
_UNTOUCHED: set[Sums] = set()  # stays empty: only taking away touches a sum


def _count_exponents(exponents: tuple[Counter[int], Counter[int]], value: Decimal | None, weighted: Decimal | None, step: int) -> None:
    for counter, term in zip(exponents, (value, weighted)):
        if term is not None:
            exponent = term.as_tuple().exponent
            counter[exponent] += step  # type: ignore[index]
            if not counter[exponent]:  # type: ignore[index]
                del counter[exponent]  # type: ignore[arg-type]


def _on_smallest_exponent(total: Decimal, exponents: Counter[int]) -> Decimal:
    smallest = min(0, *exponents) if exponents else 0
    return total if total.as_tuple().exponent == smallest else total.quantize(Decimal(1).scaleb(smallest))


class Tally:
    """Every aggregate of ``figures.compute``. ``updatable``: keeps what ``updated`` needs (the dev server)."""

    def __init__(self, config: Config, updatable: bool = False) -> None:
        self.updatable = updatable
        self.exact = True  # no addition rounded (see the module's docstring)
        self.leads: tuple[Lead, ...] = ()  # the leads tallied, in order
        self.statuses: dict[str, Sums] = {}
        self.split: dict[str, list[LeadFigures]] = {status: [] for status in STATUSES}  # in lead order
        self.places: dict[str, list[int]] = {status: [] for status in STATUSES}  # of ``split``'s leads among all
        self.owners: dict[str, dict[str, Sums]] = {}
        self.stages: dict[str, Sums] = {}
        self.forecast: dict[str, Sums] = {}
        self.closed: dict[str, dict[str, Sums]] = {}
        # per target, by its place in the config: leads won inside its period (their value counts), active leads
        # expected to close inside it
        self.won_in: dict[int, Sums] = {}
        self.expected_in: dict[int, Sums] = {}
        self.young = self.overdue = self.stale = self.qualified = self.cycles = self.cycle_days = 0
        self._periods = tuple(enumerate((target.start, target.end) for target in config.targets))
        self._months: dict[date, str] = {}
        self._by_who: dict[tuple[str, str, str | None], list[Sums]] = {}  # the sums of ``_who`` and ``_when``
        self._by_day: dict[tuple[str, date | None], list[Sums]] = {}

    def add(self, f: LeadFigures, place: int) -> None:
        """The lead at ``place``, after those added so far."""
        self.split[f.lead.status].append(f)
        self.places[f.lead.status].append(place)
        self._count(f, 1, _UNTOUCHED)

    def updated(self, leads: tuple[Lead, ...], figures_of: Callable[[Lead], LeadFigures],
                previous: tuple[LeadFigures, ...]) -> tuple[Tally, tuple[LeadFigures, ...]] | None:
        """A new tally and the leads' figures for ``leads``, which differ from the tallied ones in a few places
        (``figures_of`` makes the figures of a changed lead); ``None`` when adding afresh is needed: leads came
        or went, too many changed, or a sum rounded."""
        if not (self.updatable and self.exact) or len(leads) != len(self.leads):
            return None
        changed = list(itertools.compress(itertools.count(), map(operator.is_not, self.leads, leads)))
        if len(changed) > MAX_CHANGES:
            return None
        tally, found = self._copy(), list(previous)
        moved = {id(previous[index].lead): previous[index] for index in changed}  # a rename shifts the leads after it
        touched: set[Sums] = set()
        with localcontext() as context:
            context.clear_flags()
            for index in changed:
                lead = leads[index]
                kept = moved.get(id(lead))  # the ids are of leads ``previous`` holds: no other object has them
                found[index] = new = kept if kept is not None and kept.lead is lead else figures_of(lead)
                tally._take_out(previous[index], index, touched)
                tally._put_in(new, index, touched)
            if context.flags[Rounded]:
                return None
            for sums in touched:
                sums.settle()  # drops zeros only (quantize flags that as Rounded, never as Inexact)
            if context.flags[Inexact]:
                return None
        tally._drop_empty_groups()
        tally.leads = leads
        return tally, tuple(found)

    def _take_out(self, f: LeadFigures, place: int, touched: set[Sums]) -> None:
        group, places = self.split[f.lead.status], self.places[f.lead.status]
        index = bisect.bisect_left(places, place)  # the lead is there: it was added at this place
        del group[index], places[index]
        self._count(f, -1, touched)

    def _put_in(self, f: LeadFigures, place: int, touched: set[Sums]) -> None:
        group, places = self.split[f.lead.status], self.places[f.lead.status]
        index = bisect.bisect_left(places, place)
        group.insert(index, f)
        places.insert(index, place)
        self._count(f, 1, touched)

    def _count(self, f: LeadFigures, step: int, touched: set[Sums]) -> None:
        """Adds (``step`` 1) or takes away (-1) the lead; sums taken from go into ``touched``."""
        lead, value, weighted = f.lead, f.value, f.weighted
        self.young += step * f.young
        self.overdue += step * f.follow_up_overdue
        self.stale += step * f.stale
        self.qualified += step * (f.qualified and lead.status in ("active", "potential"))
        if lead.status == "won" and lead.closed_on and lead.created:
            self.cycles += step
            self.cycle_days += step * (lead.closed_on - lead.created).days
        for sums in self._sums_of(lead):
            if step > 0:
                sums.add(value, weighted)
            else:
                sums.remove(value, weighted)
                touched.add(sums)

    def _sums_of(self, lead: Lead) -> list[Sums]:
        """The sums the lead counts in, made when missing. Many leads share a status, owner and stage, or a status
        and day: what those count in is looked up once for each (``_who``, ``_when``)."""
        status = lead.status
        who = self._by_who.get((status, lead.owner, lead.stage))
        if who is None:
            who = self._by_who[status, lead.owner, lead.stage] = self._who(status, lead.owner, lead.stage)
        day = lead.expected_close if status == "active" else lead.closed_on
        when = self._by_day.get((status, day))
        if when is None:
            when = self._by_day[status, day] = self._when(status, day)
        return who + when

    def _who(self, status: str, owner: str, stage: str | None) -> list[Sums]:
        """The sums of the status, of the owner's leads of the status and, for an active lead, of its stage."""
        found = [self._sums(self.statuses, status), self._sums(self.owners.setdefault(owner, {}), status)]
        if status == "active":
            found.append(self._sums(self.stages, stage or ""))
        return found

    def _when(self, status: str, day: date | None) -> list[Sums]:
        """The sums of the month of ``day`` and of the targets whose period holds it, for an active lead expected to
        close on ``day``; for a lead closed on it, those of the month and status, and a won lead's targets'."""
        if status == "active" and day is not None:
            return [self._sums(self.forecast, self._month(day)), *self._targets(self.expected_in, day)]
        if status in CLOSED and day:
            month = self._sums(self.closed.setdefault(self._month(day), {}), status)
            return [month, *self._targets(self.won_in, day)] if status == "won" else [month]
        return []

    def _targets(self, group: dict[int, Sums], day: date) -> list[Sums]:
        return [self._sums(group, index) for index, (start, end) in self._periods if start <= day <= end]

    def _sums(self, group: dict[Any, Sums], key: Any) -> Sums:
        found = group.get(key)
        if found is None:
            found = group[key] = Sums(self.updatable)
        return found

    def _drop_empty_groups(self) -> None:
        """Groups no lead is in any more: not there afresh either."""
        for nested in (self.owners, self.closed):
            for key, groups in list(nested.items()):
                _drop_empty(groups)
                if not groups:
                    del nested[key]
        for groups in (self.statuses, self.stages, self.forecast, self.won_in, self.expected_in):
            _drop_empty(groups)

    def _month(self, day: date) -> str:
        month = self._months.get(day)
        if month is None:
            month = self._months[day] = day.strftime("%Y-%m")
        return month

    def _copy(self) -> Tally:
        other = object.__new__(Tally)
        other.__dict__.update(self.__dict__)
        other.statuses, other.stages, other.forecast, other.won_in, other.expected_in = (
            _copied(g) for g in (self.statuses, self.stages, self.forecast, self.won_in, self.expected_in))
        other.owners = {key: _copied(g) for key, g in self.owners.items()}
        other.closed = {key: _copied(g) for key, g in self.closed.items()}
        other.split = {status: list(group) for status, group in self.split.items()}
        other.places = {status: list(places) for status, places in self.places.items()}
        other._months = dict(self._months)
        other._by_who, other._by_day = {}, {}  # they hold the sums copied from; an update counts into its copy only
        return other


def _drop_empty(groups: dict[Any, Sums]) -> None:
    for key in [key for key, sums in groups.items() if not sums.count]:
        del groups[key]


def _copied(groups: dict[Any, Sums]) -> dict[Any, Sums]:
    return {key: sums.copy() for key, sums in groups.items()}


def tallied(leads: Iterable[LeadFigures], of: tuple[Lead, ...], config: Config, updatable: bool) -> Tally:
    """A fresh tally of the leads' figures (``of``: the leads themselves), in their order; ``exact`` tells whether any sum rounded."""
    tally = Tally(config, updatable)
    tally.leads = of
    with localcontext() as context:
        context.clear_flags()
        for place, f in enumerate(leads):
            tally.add(f, place)
        tally.exact = not context.flags[Rounded]
    return tally
