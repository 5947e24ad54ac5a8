"""model.with_build: the cheap constructor of the classes made per lead gives what the dataclass's own gives, and the
classes stay frozen dataclasses to every reader."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from funnel_site.figures import LeadFigures
from funnel_site.model import HistoryEntry, Lead, with_build

ENTRY = {"date": date(2026, 11, 2), "stage": "offer"}
LEAD = {
    "id": "acme", "path": "leads/acme.md", "title": "Relaunch", "owner": "anna", "status": "active", "stage": "offer",
    "value": Decimal("1000.50"), "currency": "EUR", "value_base": Decimal("1000.50"), "probability": None,
    "expected_close": date(2026, 12, 15), "closed_on": None, "reason": None, "created": date(2026, 10, 1),
    "last_contact": None, "follow_up": date(2026, 11, 25), "company": "Acme", "contacts": ({"name": "Eva"},),
    "next_step": "call", "source": None, "tags": ("web",), "qualification": {"budget": True},
    "history": (HistoryEntry(**ENTRY),), "custom": {"x": [1]}, "body": "notes", "lines": {"title": 2},
}
FIGURES = {
    "value": Decimal("1000.50"), "probability": Decimal("0.5"), "weighted": Decimal("500.250"), "follow_up_overdue": False,
    "stale": True, "age_days": 52, "last_touch": date(2026, 11, 2), "days_since_touch": 20,
    "stage_since": date(2026, 11, 2), "qualified": False, "young": False,
}
CASES = [(HistoryEntry, ENTRY), (Lead, {**LEAD, "body_line": 9}), (LeadFigures, {"lead": Lead(**LEAD), **FIGURES})]


@pytest.mark.parametrize(("cls", "values"), CASES)
def test_build_gives_what_the_dataclass_gives(cls: Any, values: dict[str, Any]) -> None:
    built, made = cls.build(**values), cls(**values)
    assert type(built) is cls
    assert built == made and repr(built) == repr(made)
    assert [getattr(built, f.name) for f in dataclasses.fields(built)] == list(values.values())
    assert cls.build(*values.values()) == made  # positionally too
    assert not hasattr(built, "__dict__")


def test_build_takes_the_defaults() -> None:
    assert Lead.build(**LEAD).body_line == 1 == Lead(**LEAD).body_line
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'stage'"):
        HistoryEntry.build(date(2026, 1, 1))  # type: ignore[call-arg]


@pytest.mark.parametrize(("cls", "values"), CASES)
def test_built_objects_stay_frozen(cls: Any, values: dict[str, Any]) -> None:
    built = cls.build(**values)
    name = dataclasses.fields(built)[1].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(built, name, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(built, name)
    changed = dataclasses.replace(built, **{name: values[name]})
    assert type(changed) is cls and changed == built and changed is not built


@pytest.mark.parametrize(("cls", "values"), CASES)
def test_built_objects_pickle_and_copy_through_build(cls: Any, values: dict[str, Any]) -> None:
    built = cls.build(**values)
    assert built.__reduce__() == (cls.build, tuple(values.values()))
    for again in (pickle.loads(pickle.dumps(built)), pickle.loads(pickle.dumps(built, protocol=2)), copy.copy(built), copy.deepcopy(built)):
        assert type(again) is cls and again == built
    assert f"{cls.__qualname__}.build".encode() in pickle.dumps(built)  # found by name when unpickled


def test_history_entries_hash_alike() -> None:
    assert hash(HistoryEntry.build(**ENTRY)) == hash(HistoryEntry(**ENTRY))
    assert len({HistoryEntry.build(**ENTRY), HistoryEntry(**ENTRY)}) == 1


@dataclasses.dataclass(frozen=True)
class _NoSlots:
    a: int
    b: int


@dataclasses.dataclass(frozen=True, slots=True)
class _OneField:
    a: int


@dataclasses.dataclass(frozen=True, slots=True)
class _NotInInit:
    a: int
    b: int = dataclasses.field(init=False, default=0)


@dataclasses.dataclass(frozen=True, slots=True)
class _PostInit:
    a: int
    b: int

    def __post_init__(self) -> None:
        pass


@pytest.mark.parametrize("cls", [_NoSlots, _OneField, _NotInInit, _PostInit])
def test_with_build_refuses_what_it_cannot_build(cls: type) -> None:
    with pytest.raises(TypeError, match=f"{cls.__name__}: with_build takes a slotted dataclass"):
        with_build(cls)
