"""Pieces of the pages and files over all leads (a table row, a board card, a line of data.json), kept between
the dev server's rebuilds so that one edited lead re-renders only its own pieces.

A piece is reused when the objects it shows are the very same objects as last time (the dev session keeps
the ``Lead`` and ``LeadFigures`` of unchanged files, see ``figures.compute``) and its other inputs (links
that depend on the whole pipeline, the page's way back to the root) compare equal. Identity, not ``==``:
values that compare equal can print differently (``1`` and ``1.0``). Only valid while config, templates
and today stay the same; the dev session starts afresh when they change.
"""

from __future__ import annotations

import bisect
import itertools
import operator
from collections import Counter
from typing import Any, Callable, Generic, Hashable, Iterable, Mapping, Sequence, TypeVar

import jinja2
from markupsafe import Markup

from funnel_site.problems import Problem

T = TypeVar("T")
G = TypeVar("G")


class Fragments:
    """Rendered pieces by kind and the object they show; a piece not asked for in a build is dropped after it."""

    def __init__(self) -> None:
        # kind -> id of the object shown -> (that object, other inputs, piece)
        self._kept: dict[str, dict[int, tuple[Any, Hashable, Any]]] = {}
        self._fresh: dict[str, dict[int, tuple[Any, Hashable, Any]]] = {}
        self._slugs: Mapping[str, str] | None = None
        self.links = 0  # counts the company file name changes: what showed company links before is out of date
        # kind -> (items by id, the items in order, their sort keys)
        self._orders: dict[str, tuple[list[Any], list[Any], list[Any]]] = {}
        self._orders_fresh: dict[str, tuple[list[Any], list[Any], list[Any]]] = {}
        # (kind, id of the first item, 0) and (kind, id of the last item, -1): the items and pieces of a ``pieces``
        # call of that kind in a build, found by either end (an edit changes one of them at most). Not the n-th
        # call: serve skips the pages it keeps, so the n-th call of a build shows another page than last time's.
        self._lists: dict[tuple[str, int, int], tuple[list[Any], list[Any]]] = {}
        self._lists_fresh: dict[tuple[str, int, int], tuple[list[Any], list[Any]]] = {}
        self._merged: set[str] = set()  # kinds whose last lists are in ``_kept`` (merged on first need)
        # kind -> (items by id, how often each value occurs over them): see ``counted``
        self._counts: dict[str, tuple[list[Any], Counter[Hashable]]] = {}
        self._counts_fresh: dict[str, tuple[list[Any], Counter[Hashable]]] = {}
        self._groupings: dict[str, _Grouping[Any, Any]] = {}  # kind -> last build's groups: see ``grouped``
        self._groupings_fresh: dict[str, _Grouping[Any, Any]] = {}

    def pieces(
        self, kind: str, items: Sequence[Any], make: Callable[[list[Any]], list[T]], values: Callable[[Any], Hashable] | None = None,
    ) -> list[T]:
        """The piece of ``kind`` for each item; ``make`` renders those of new or changed items (in one call).

        ``values``: what else an item's piece shows that may change while the item does not.
        """
        if values is None:
            found = self._same_list(kind, items, make)
            if found is not None:
                return found
        kept, fresh = self._kept_of(kind), self._fresh.setdefault(kind, {})
        found: list[Any] = []
        missing: list[int] = []
        for item in items:
            entry = kept.get(id(item)) or fresh.get(id(item))
            if entry is not None and entry[0] is item and (values is None or entry[1] == values(item)):
                fresh[id(item)] = entry  # the entry holds the item: no other object can take its id while it lives
                found.append(entry[2])
            else:
                missing.append(len(found))
                found.append(None)
        if missing:
            for index, piece in zip(missing, make([items[i] for i in missing]), strict=True):
                item = items[index]
                fresh[id(item)] = (item, values(item) if values else None, piece)
                found[index] = piece
        if values is None:
            self._keep_list(kind, items, found)
        return found

    def _keep_list(self, kind: str, items: Sequence[Any], pieces: list[Any]) -> None:
        kept = (list(items), pieces)  # holds the end items: their ids are not reused while it is kept
        if items:
            self._lists_fresh[(kind, id(items[0]), 0)] = self._lists_fresh[(kind, id(items[-1]), -1)] = kept

    def _same_list(self, kind: str, items: Sequence[Any], make: Callable[[list[Any]], list[T]]) -> list[T] | None:
        """The pieces when last build had a list of this kind that began or ended with the same item, as many
        items, nearly all the very same objects in the same places (an edit): compared pointer by pointer,
        without a lookup per item."""
        if not items:
            return None
        last = self._lists.get((kind, id(items[0]), 0)) or self._lists.get((kind, id(items[-1]), -1))
        if last is None or len(last[0]) != len(items):
            return None
        changed = list(itertools.compress(itertools.count(), map(operator.is_not, last[0], items)))
        if len(changed) > MAX_MOVES:
            return None
        found = list(last[1])
        if changed:
            for index, piece in zip(changed, make([items[i] for i in changed]), strict=True):
                found[index] = piece
        self._keep_list(kind, items, found)
        return found

    def _kept_of(self, kind: str) -> dict[int, tuple[Any, Hashable, Any]]:
        """Last build's pieces of ``kind`` by the id of their item, those kept as lists included."""
        kept = self._kept.setdefault(kind, {})
        if kind not in self._merged:
            self._merged.add(kind)
            merged: set[int] = set()
            for (other, _, _), (items, pieces) in self._lists.items():
                if other == kind and id(items) not in merged:  # each list is kept under both its ends
                    merged.add(id(items))
                    for item, piece in zip(items, pieces):
                        kept.setdefault(id(item), (item, None, piece))
        return kept

    def get(self, kind: str, shown: tuple[Any, ...], value: Hashable, make: Callable[[], T]) -> T:
        """One piece for the objects ``shown`` (compared one by one) and ``value``."""
        kept, fresh = self._kept.get(kind, {}), self._fresh.setdefault(kind, {})
        entry = kept.get(id(shown[0])) or fresh.get(id(shown[0]))
        if entry is None or not _same(entry[0], shown) or entry[1] != value:
            entry = (shown, value, make())
        fresh[id(shown[0])] = entry
        return entry[2]  # type: ignore[no-any-return]

    def sorted(self, kind: str, items: Iterable[T], key: Callable[[T], Any]) -> list[T]:
        """``sorted(items, key=key)`` for a ``key`` that differs for every item and is fixed for an unchanged
        item (keys end in the lead's id): last build's order without the items that left, the new ones put in place."""
        items = list(items)
        old = self._orders.get(kind)
        order: list[Any] | None = None
        moves = _moves(old[0], items) if old is not None else None
        if moves is not None:
            order, keys = _moved(old[1], old[2], moves, key)  # type: ignore[index]
        if order is None:
            order = sorted(items, key=key)
            keys = [key(item) for item in order]
        self._orders_fresh[kind] = (items, order, keys)
        return list(order)

    def counted(self, kind: str, items: Iterable[T], count: Callable[[T], Iterable[Hashable]]) -> Counter[Hashable]:
        """How often each value occurs in ``count(item)`` over the items; kept from last build and updated by the
        items that left or arrived (``count`` of an unchanged item is fixed: it depends on the item only)."""
        items = list(items)
        old = self._counts.get(kind)
        moves = _moves(old[0], items) if old is not None else None
        if moves is None:
            counts: Counter[Hashable] = Counter(value for item in items for value in count(item))
        else:
            counts = Counter(old[1])  # type: ignore[index]
            counts.subtract(value for gone in moves[0] for value in count(gone))
            counts.update(value for new in moves[1] for value in count(new))
            counts = +counts  # values no item holds any more are dropped
        self._counts_fresh[kind] = (items, counts)
        return counts

    def filtered(self, kind: str, items: Sequence[T], keep: Callable[[T], bool]) -> list[T]:
        """``[item for item in items if keep(item)]`` (not to be changed by the caller), asking ``keep`` only of the
        items that changed since last build (``grouped``; ``keep`` of an unchanged item is fixed)."""
        found = self.grouped(kind, items, lambda item: "kept" if keep(item) else None, lambda _, members: members, str)
        return found[0] if found else []

    def grouped(
        self, kind: str, items: Sequence[T], key: Callable[[T], str | None], make: Callable[[str, list[T]], G],
        order: Callable[[str], Any],
    ) -> list[G]:
        """``make(name, members)`` per key of the items (members in the items' order, items without a key left
        out), sorted by ``order(name)``. Kept from last build: when a few items changed place by place, only the
        groups they left or joined are made again, and a group whose members are the very same is last build's.
        A ``kind`` names one grouping: the same ``key``, ``make`` and ``order`` in every call of it."""
        found = self._groupings_fresh.get(kind)
        if found is not None and found.source is items:  # asked again in the same build (one page per owner)
            return found.groups
        last = self._groupings.get(kind)
        found = last.updated(items, key, make, order) if last is not None else None
        if found is None:
            found = _Grouping.made(items, key, make, order, last)
        found.source = items
        self._groupings_fresh[kind] = found
        return found.groups

    def follow_links(self, slugs: Mapping[str, str]) -> None:
        """Pieces show links to company pages: when a company's file name changes (another company now has
        the same readable name), nothing kept is reused."""
        if slugs is self._slugs:  # the same names (views.company_slugs)
            return
        if self._slugs is not None and any(name in self._slugs for name, _ in slugs.items() - self._slugs.items()):
            self.links += 1
            self._kept.clear()
            self._fresh.clear()
            self._lists.clear()
            self._lists_fresh.clear()
        self._slugs = slugs

    def sweep(self) -> None:
        """End of a build: what it did not use is forgotten (deleted and edited leads' pieces)."""
        self._kept, self._fresh = self._fresh, {}
        self._orders, self._orders_fresh = self._orders_fresh, {}
        self._counts, self._counts_fresh = self._counts_fresh, {}
        self._lists, self._lists_fresh = self._lists_fresh, {}
        self._groupings, self._groupings_fresh = self._groupings_fresh, {}
        self._merged.clear()


MAX_MOVES = 64  # items leaving or arriving beyond which sorting afresh is quicker


def _moves(old: list[Any], new: list[Any]) -> tuple[list[Any], list[Any]] | None:
    """The items that left and those that arrived from ``old`` to ``new`` (an item that changed place does both);
    ``None`` when more than MAX_MOVES did. Compared place by place, without a lookup per item, when as many."""
    if len(old) == len(new):
        changed = list(itertools.compress(itertools.count(), map(operator.is_not, old, new)))
        if len(changed) > MAX_MOVES:
            return None
        return [old[i] for i in changed], [new[i] for i in changed]
    old_by_id, new_by_id = {id(item): item for item in old}, {id(item): item for item in new}
    if len(old_by_id.keys() ^ new_by_id.keys()) > MAX_MOVES:
        return None
    return [old_by_id[i] for i in old_by_id.keys() - new_by_id.keys()], [new_by_id[i] for i in new_by_id.keys() - old_by_id.keys()]


def _moved(order: list[Any], keys: list[Any], moves: tuple[list[Any], list[Any]], key: Callable[[Any], Any]) -> tuple[list[Any] | None, list[Any]]:
    """Last build's order and keys, updated item by item; ``None`` when they do not line up (then sort afresh)."""
    order, keys = list(order), list(keys)
    for item in moves[0]:
        index = bisect.bisect_left(keys, key(item))
        if index == len(order) or order[index] is not item:
            return None, []
        del order[index], keys[index]
    for item in moves[1]:
        found = key(item)
        index = bisect.bisect_left(keys, found)
        if index < len(keys) and keys[index] == found:  # two items with one key: their order is the input's
            return None, []
        order.insert(index, item)
        keys.insert(index, found)
    return order, keys


class _Grouping(Generic[T, G]):
    """The groups of one ``Fragments.grouped`` call: per name the members, their places among the items and the
    group made of them; the names in order."""

    def __init__(self, items: list[T], members: dict[str, tuple[list[int], list[T]]], groups: dict[str, G], names: list[str]) -> None:
        self.items, self.members, self.by_name, self.names = items, members, groups, names
        self.groups = [groups[name] for name in names]
        self.source: Sequence[T] | None = None  # the sequence grouped: the same object is the same grouping

    @classmethod
    def made(cls, items: Sequence[T], key: Callable[[T], str | None], make: Callable[[str, list[T]], G],
             order: Callable[[str], Any], last: _Grouping[T, G] | None = None) -> _Grouping[T, G]:
        members: dict[str, tuple[list[int], list[T]]] = {}
        for index, item in enumerate(items):
            name = key(item)
            if name:
                places, found = members.setdefault(name, ([], []))
                places.append(index)
                found.append(item)
        names = sorted(members, key=order)
        groups = {}
        for name in names:
            kept = last.members.get(name) if last is not None else None
            same = kept is not None and _same(kept[1], members[name][1])
            groups[name] = last.by_name[name] if same else make(name, members[name][1])  # type: ignore[union-attr]
        return cls(list(items), members, groups, names)

    def updated(self, items: Sequence[T], key: Callable[[T], str | None], make: Callable[[str, list[T]], G],
                order: Callable[[str], Any]) -> _Grouping[T, G] | None:
        """The groups of ``items``, which differ from this grouping's items in a few places; ``None`` when not."""
        if len(items) != len(self.items):
            return None
        changed = list(itertools.compress(itertools.count(), map(operator.is_not, self.items, items)))
        if len(changed) > MAX_MOVES:
            return None
        members, touched = dict(self.members), set()
        for index in changed:
            for item, joins in ((self.items[index], False), (items[index], True)):
                name = key(item)
                if not name:
                    continue
                if name not in touched:
                    touched.add(name)
                    places, found = members.get(name, ((), ()))
                    members[name] = (list(places), list(found))
                places, found = members[name]
                at = bisect.bisect_left(places, index)
                if joins:
                    places.insert(at, index)
                    found.insert(at, item)
                else:  # the item left: it is at its place in its group
                    del places[at], found[at]
        groups = dict(self.by_name)
        for name in touched:
            if members[name][1]:
                groups[name] = make(name, members[name][1])
            else:
                del members[name], groups[name]
        names = self.names if touched <= self.by_name.keys() <= groups.keys() else sorted(groups, key=order)
        return _Grouping(list(items), members, groups, names)


def _same(old: Sequence[Any], new: Sequence[Any]) -> bool:
    return len(old) == len(new) and all(map(operator.is_, old, new))


# --- rows of list pages ----------------------------------------------------------------------------------------

ROW_END = "\ue001"  # a private-use character ending each row when several rows are rendered in one go


def rows_renderer(
    env: jinja2.Environment, variables: Callable[[str], Mapping[str, Any]], fragments: Fragments | None,
) -> Callable[[str, Sequence[Any], str], Markup]:
    """``rows_of(template, items, root)`` for the templates: the rows of a list, one per item, by a rows template.

    A rows template sees the build's values and the page's depth (``variables(root)``), not the page's own
    values: so ``rows_of`` needs no context, and a template of macros calling it is shared by the pages at
    one depth (``engine.BuildTemplate.shared_module``).
    Without ``fragments`` (a build) the list is rendered at once; with them (the dev server) each row is
    kept, and only the rows of changed items are rendered again (together, then split at ``ROW_END``).
    """

    def rows_of(template: str, items: Sequence[Any], root: str) -> Markup:
        page = variables(root)
        if fragments is None or not items:
            return Markup(_render_rows(env, template, page, items, ""))

        def make(missing: list[Any]) -> list[str]:
            parts = _render_rows(env, template, page, missing, ROW_END).split(ROW_END)
            if len(parts) != len(missing) + 1 or parts[-1]:  # a row holds the marker itself: one by one
                return [_render_rows(env, template, page, [item], "") for item in missing]
            return parts[:-1]

        def lead_page(problem: Problem) -> bool:  # a warning links its lead's page, if the file is a lead
            return env.globals["lead_at"](problem.path) is not None

        values = lead_page if isinstance(items[0], Problem) else None
        return Markup("".join(fragments.pieces(f"{template}@{root}", items, make, values)))

    return rows_of


def page_rows_renderer(env: jinja2.Environment) -> Callable[..., Markup]:
    """``rows_of`` for a pipeline with templates of its own: its rows templates see the calling page's variables, as
    before rows templates were given only the build's values, and ``root`` may be left out (a page template
    written for that ``rows_of(template, items)`` keeps working). No rows are kept: serve reuses nothing then."""

    @jinja2.pass_context
    def rows_of(context: jinja2.runtime.Context, template: str, items: Sequence[Any], root: str | None = None) -> Markup:
        return Markup(_render_rows(env, template, context.get_all(), items, ""))

    return rows_of


def _render_rows(env: jinja2.Environment, template: str, page: Mapping[str, Any], items: Sequence[Any], row_end: str) -> str:
    return env.get_template(template).render({**page, "rows": items, "row_end": row_end})
