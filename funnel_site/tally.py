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
from typing import TYPE_CHECKING, Callable, Iterable

from funnel_site.model import STATUSES, Config, Lead, Target

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
        # per target: leads won inside its period, active leads expected to close inside it
        self.targets: list[tuple[Target, Sums, Sums]] = [(t, Sums(updatable), Sums(updatable)) for t in config.targets]
        self.young = self.overdue = self.stale = self.qualified = self.cycles = self.cycle_days = 0
        self._months: dict[date, str] = {}

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
        status = lead.status
        groups: list[tuple[dict[str, Sums], str]] = [(self.statuses, status), (self.owners.setdefault(lead.owner, {}), status)]
        self.young += step * f.young
        self.overdue += step * f.follow_up_overdue
        self.stale += step * f.stale
        self.qualified += step * (f.qualified and status in ("active", "potential"))
        if status == "active":
            groups.append((self.stages, lead.stage or ""))
            if lead.expected_close is not None:
                groups.append((self.forecast, self._month(lead.expected_close)))
                for target, _, expected in self.targets:
                    if target.start <= lead.expected_close <= target.end:
                        _step(expected, value, weighted, step, touched)
        elif status in CLOSED and lead.closed_on:
            groups.append((self.closed.setdefault(self._month(lead.closed_on), {}), status))
            if status == "won":
                for target, won, _ in self.targets:
                    if target.start <= lead.closed_on <= target.end:
                        _step(won, value, None, step, touched)
                if lead.created:
                    self.cycles += step
                    self.cycle_days += step * (lead.closed_on - lead.created).days
        for group, key in groups:
            sums = group.get(key)
            if sums is None:
                sums = group[key] = Sums(self.updatable)
            _step(sums, value, weighted, step, touched)
            if not sums.count:  # a group no lead is in any more is not there afresh either
                del group[key]
        if step < 0:
            _drop_empty(self.owners, lead.owner)
            if status in CLOSED and lead.closed_on:
                _drop_empty(self.closed, self._month(lead.closed_on))

    def _month(self, day: date) -> str:
        month = self._months.get(day)
        if month is None:
            month = self._months[day] = day.strftime("%Y-%m")
        return month

    def _copy(self) -> Tally:
        other = object.__new__(Tally)
        other.__dict__.update(self.__dict__)
        other.statuses, other.stages, other.forecast = (_copied(g) for g in (self.statuses, self.stages, self.forecast))
        other.owners = {key: _copied(g) for key, g in self.owners.items()}
        other.closed = {key: _copied(g) for key, g in self.closed.items()}
        other.split = {status: list(group) for status, group in self.split.items()}
        other.places = {status: list(places) for status, places in self.places.items()}
        other.targets = [(target, won.copy(), expected.copy()) for target, won, expected in self.targets]
        other._months = dict(self._months)
        return other


def _step(sums: Sums, value: Decimal | None, weighted: Decimal | None, step: int, touched: set[Sums]) -> None:
    if step > 0:
        sums.add(value, weighted)
    else:
        sums.remove(value, weighted)
        touched.add(sums)


def _drop_empty(nested: dict[str, dict[str, Sums]], key: str) -> None:
    if not nested[key]:
        del nested[key]


def _copied(groups: dict[str, Sums]) -> dict[str, Sums]:
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
