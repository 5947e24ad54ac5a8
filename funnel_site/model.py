"""The validated pipeline as frozen dataclasses. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, make_dataclass
from datetime import date
from decimal import Decimal
from operator import attrgetter
from typing import Any, ClassVar, Literal, Mapping, TypeVar

Status = Literal["potential", "active", "won", "lost", "cancelled"]
STATUSES: tuple[Status, ...] = ("potential", "active", "won", "lost", "cancelled")
CLOSED: tuple[Status, ...] = ("won", "lost", "cancelled")
Role = Literal["manager", "member"]
DEFAULT_QUALIFICATION = ("budget", "authority", "need", "timeline")
_Frozen = TypeVar("_Frozen")
BASE_RATE = Decimal(1)  # the base currency's rate (``Config.rate``), asked for every lead: made once (a Decimal is immutable)


def with_build(cls: type[_Frozen]) -> type[_Frozen]:
    """Gives a frozen, slotted dataclass made for every lead a cheaper constructor: ``cls.build``.

    A frozen dataclass's ``__init__`` stores each field through ``object.__setattr__``, its own ``__setattr__``
    refusing: ~1.4k instructions a field, 53k for a ``Lead`` built by keyword (39k positionally). ``cls.build``
    is an unfrozen dataclass of the same fields and slots: it stores them plainly, then makes the new object a
    ``cls`` (``__class__`` assignment, which Python allows between classes with the same slots): 21k (6k). It takes
    what ``cls`` takes and returns what ``cls(...)`` returns. ``cls`` stays as it is, except that it pickles as
    ``build`` and its field values (a dataclass's own pickling sets the fields one ``object.__setattr__`` at a time).
    """
    found = fields(cls)  # type: ignore[arg-type]
    if "__slots__" not in cls.__dict__ or hasattr(cls, "__post_init__") or len(found) < 2 or not all(f.init for f in found):
        raise TypeError(f"{cls.__name__}: with_build takes a slotted dataclass of two or more fields, each set by __init__, without __post_init__")

    def become_frozen(self: object) -> None:
        self.__class__ = cls

    build = make_dataclass(
        cls.__name__,
        [(f.name, f.type, field(default=f.default, default_factory=f.default_factory, kw_only=f.kw_only)) for f in found],
        namespace={"__post_init__": become_frozen},
        slots=True,
        repr=False,  # its instances are ``cls`` before anyone sees them: ``cls``'s own methods serve
        eq=False,
    )
    build.__module__, build.__qualname__ = cls.__module__, f"{cls.__qualname__}.build"  # where pickle finds it
    values = attrgetter(*(f.name for f in found))  # two names or more: a tuple
    cls.build = build  # type: ignore[attr-defined]
    cls.__reduce__ = lambda self: (build, values(self))  # type: ignore[method-assign,assignment]
    return cls


@dataclass(frozen=True, slots=True)
class Stage:
    id: str
    name: str
    probability: Decimal  # percent, 0-100
    stale_after_days: int | None = None  # overrides the config-wide value for leads in this stage


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    name: str
    email: str | None = None
    role: Role = "member"


@dataclass(frozen=True, slots=True)
class Target:
    period: str  # "2027-01" or "2027-Q1"
    start: date  # first day of the period
    end: date  # last day of the period (inclusive)
    amount: Decimal  # in base currency


@dataclass(frozen=True, slots=True)
class Config:
    title: str
    currency: str
    locale: str
    stages: tuple[Stage, ...]
    team: tuple[Member, ...]
    sources: tuple[str, ...] | None = None
    stale_after_days: int = 30
    targets: tuple[Target, ...] = ()
    exchange_rates: Mapping[str, Decimal] = field(default_factory=dict)
    qualification: tuple[str, ...] = DEFAULT_QUALIFICATION
    repo_url: str | None = None
    edit_url: str | None = None
    # Looked up for every lead, several times (validating, figures, pages): made once here.
    _stages_by_id: Mapping[str | None, Stage] = field(init=False, repr=False, compare=False)
    _members_by_id: Mapping[str, Member] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        stages: dict[str | None, Stage] = {}
        members: dict[str, Member] = {}
        for stage in self.stages:
            stages.setdefault(stage.id, stage)  # the first of a repeated id, as a search from the front finds
        for member in self.team:
            members.setdefault(member.id, member)
        object.__setattr__(self, "_stages_by_id", stages)
        object.__setattr__(self, "_members_by_id", members)

    def stage(self, stage_id: str | None) -> Stage | None:
        return self._stages_by_id.get(stage_id)

    def member(self, member_id: str) -> Member | None:
        return self._members_by_id.get(member_id)

    def rate(self, currency: str) -> Decimal | None:
        """Value of one unit of ``currency`` in the base currency."""
        if currency == self.currency:
            return BASE_RATE
        return self.exchange_rates.get(currency)


@with_build
@dataclass(frozen=True, slots=True)
class HistoryEntry:
    build: ClassVar[type[HistoryEntry]]  # the cheap constructor (with_build)
    date: date
    stage: str


@with_build
@dataclass(frozen=True, slots=True)
class Lead:
    build: ClassVar[type[Lead]]  # the cheap constructor (with_build)
    id: str  # path under leads/ without ".md"
    path: str  # relative to the pipeline directory, e.g. "leads/acme.md"
    title: str
    owner: str
    status: Status
    stage: str | None
    value: Decimal | None  # in `currency`
    currency: str
    value_base: Decimal | None  # in the config's base currency, unrounded
    probability: Decimal | None  # percent override from the front matter
    expected_close: date | None
    closed_on: date | None
    reason: str | None
    created: date | None
    last_contact: date | None
    follow_up: date | None
    company: str | None
    contacts: tuple[Mapping[str, str], ...]
    next_step: str | None
    source: str | None
    tags: tuple[str, ...]
    qualification: Mapping[str, bool]
    history: tuple[HistoryEntry, ...]
    custom: Mapping[str, Any]  # unknown front-matter keys, kept as written
    body: str  # the Markdown notes
    lines: Mapping[str, int]  # front-matter key -> 1-based line in the file; read-only, shared by the leads of one outline
    body_line: int = 1  # the line the notes start on

    def line_of(self, key: str) -> int:
        return self.lines.get(key, 1)


@dataclass(frozen=True, slots=True)
class Project:
    root: str  # the pipeline directory, absolute
    config: Config
    leads: tuple[Lead, ...]
    problems: tuple[Any, ...] = ()  # funnel_site.problems.Problem, errors and load-time findings
