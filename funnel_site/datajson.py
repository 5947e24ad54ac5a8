"""data.json: the documented machine interface (schema_version 1). Pure: model + figures -> text."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from json.encoder import encode_basestring as _text  # how json.dumps(ensure_ascii=False) writes a str (in C)
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

from funnel_site.figures import Bucket, Figures, LeadFigures, OwnerFigures, Rate, TargetFigures
from funnel_site.model import Project
from funnel_site.problems import Problem
from funnel_site.shared_texts import SharedTexts

if TYPE_CHECKING:
    from funnel_site.fragments import Fragments

SCHEMA_VERSION = 1
CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.0001")
DAY_PLACES = Decimal("0.1")


class RawJSON:
    """JSON text written exactly as given: a number (json cannot write Decimal), or an item of a ``ONE_LINE`` list."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def money(value: Decimal | None) -> RawJSON | None:
    """Half-up to cents: 0.005 -> 0.01, as an accountant expects (Python's round() is banker's)."""
    return None if value is None else RawJSON(_rounded(value, CENT))


def rate(value: Decimal | None) -> RawJSON | None:
    return None if value is None else RawJSON(_rounded(value, RATE_PLACES))


def days(value: Decimal | None) -> RawJSON | None:
    return None if value is None else RawJSON(_rounded(value, DAY_PLACES))


def _rounded(value: Decimal, places: Decimal) -> str:
    return str(value.quantize(places, ROUND_HALF_UP))


def _exact(value: Decimal | None, places: Decimal) -> str:
    """What ``money`` (``CENT``) or ``rate`` (``RATE_PLACES``) writes, without a ``RawJSON`` made per value."""
    return "null" if value is None else _rounded(value, places)


def _rate_pair(value: Rate) -> dict[str, Any]:
    return {"by_count": rate(value.by_count), "by_value": rate(value.by_value)}


def _bucket(bucket: Bucket) -> dict[str, Any]:
    return {"count": bucket.count, "value": money(bucket.value), "weighted": money(bucket.weighted)}


def to_data(project: Project, figures: Figures, warnings: Iterable[Problem], page_url: Any = None) -> dict[str, Any]:
    """The whole data.json document as values for ``dumps``: its leads and problems as their lines (``RawJSON``)."""
    line = _LeadLines(page_url)
    leads = [RawJSON(line(f)) for f in figures.leads]
    return {**_summary(project, figures), "leads": leads, "problems": [RawJSON(_problem(p)) for p in warnings]}


def pieces(
    project: Project, figures: Figures, warnings: Iterable[Problem], page_url: Any, extra: dict[str, Any], fragments: Fragments | None = None,
) -> Iterator[bytes]:
    """data.json as written (UTF-8): ``to_data`` plus ``extra`` keys, in pieces of at most ``BATCH`` leads or problems,
    made as they are asked for: a build writes them one by one and never holds the document (116 MB at 100k
    leads), nor its leads as plain values.

    ``fragments`` (serve) keep the encoded lines of unchanged leads and problems; each list then comes whole.
    """
    warnings = list(warnings)
    leads: Iterable[bytes]
    problems: Iterable[bytes]
    if fragments is None:
        leads, problems = _list(figures.leads, _LeadLines(page_url)), _list(warnings, _problem)
    else:
        leads, problems = _kept_list(fragments, figures.leads, _LeadLines(page_url)), _kept_list(fragments, warnings, _problem)
    text = dumps({**_summary(project, figures), "leads": RawJSON(_SLOT), "problems": RawJSON(_SLOT), **extra}) + "\n"
    parts = text.split(_SLOT)
    if len(parts) != 3:  # the data holds the slot marker itself
        yield (dumps({**to_data(project, figures, warnings, page_url), **extra}) + "\n").encode()
        return
    yield parts[0].encode()
    yield from leads
    yield parts[1].encode()
    yield from problems
    yield parts[2].encode()


_SLOT = "\ue003"  # a private-use character marking where the lists go
_STEP = "    "  # the indent of a ``ONE_LINE`` item: in a list at the top of the document
BATCH = 1000


def _list(items: Sequence[Any], line: Callable[[Any], str]) -> Iterator[bytes]:
    """A list of ``ONE_LINE`` at the top of the document, as ``dumps`` writes it, ``BATCH`` items a piece."""
    if not items:
        yield b"[]"
        return
    for start in range(0, len(items), BATCH):
        lines = (",\n" + _STEP).join(map(line, items[start:start + BATCH]))
        yield (("[\n" if start == 0 else ",\n") + _STEP + lines).encode()
    yield b"\n  ]"


def _kept_list(fragments: Fragments, items: Iterable[Any], line: Callable[[Any], str]) -> list[bytes]:
    """``_list`` from kept lines, each kept with the separator after it: the pieces are not joined here into one
    more copy of the megabytes (the document is joined anyway)."""
    lines = fragments.pieces("data.json", list(items), lambda missing: [f"{_STEP}{line(item)},\n".encode() for item in missing])
    return [b"[\n", *lines[:-1], lines[-1][:-2], b"\n  ]"] if lines else [b"[]"]


def _summary(project: Project, figures: Figures) -> dict[str, Any]:
    """Everything of data.json before ``leads`` and ``problems``."""
    config = project.config
    return {
        "schema_version": SCHEMA_VERSION,
        "title": config.title,
        "today": figures.today.isoformat(),
        "currency": config.currency,
        "locale": config.locale,
        "totals": _totals(figures),
        "stages": [
            {"id": stage.id, "name": stage.name, "probability": rate(stage.probability / 100), **_bucket(bucket)}
            for stage, bucket in figures.stages
        ],
        "forecast_by_month": [{"month": b.key, **_bucket(b)} for b in figures.forecast_by_month],
        "closed_by_month": [
            {
                "month": m.month, "won": m.won, "won_value": money(m.won_value), "lost": m.lost,
                "lost_value": money(m.lost_value), "cancelled": m.cancelled, "cancelled_value": money(m.cancelled_value),
            }
            for m in figures.closed_by_month
        ],
        "owners": [_owner(o) for o in figures.owners],
        "targets": [_target(t) for t in figures.targets],
    }


def _totals(figures: Figures) -> dict[str, Any]:
    t = figures.totals
    return {
        "counts": t.counts,
        "pipeline_value": money(t.pipeline_value),
        "weighted_forecast": money(t.weighted_forecast),
        "won_value": money(t.won_value),
        "lost_value": money(t.lost_value),
        "cancelled_value": money(t.cancelled_value),
        "close_rate": _rate_pair(t.close_rate),
        "win_rate": _rate_pair(t.win_rate),
        "cancel_share": _rate_pair(t.cancel_share),
        "average_won_value": money(t.average_won_value),
        "average_sales_cycle_days": days(t.average_sales_cycle_days),
        "young_leads": {"count": t.young_leads, "share": rate(t.young_share)},
        "follow_ups_overdue": t.follow_ups_overdue,
        "stale": t.stale,
        "qualified": t.qualified,
    }


def _owner(o: OwnerFigures) -> dict[str, Any]:
    return {
        "id": o.member.id, "name": o.member.name, "role": o.member.role,
        "active": o.active, "pipeline_value": money(o.pipeline_value), "weighted_forecast": money(o.weighted_forecast),
        "won": o.won, "won_value": money(o.won_value),
        "close_rate": _rate_pair(o.close_rate), "win_rate": _rate_pair(o.win_rate),
    }


def _target(t: TargetFigures) -> dict[str, Any]:
    return {
        "period": t.target.period, "start": t.target.start.isoformat(), "end": t.target.end.isoformat(),
        "target": money(t.target.amount), "won_value": money(t.won_value), "weighted_open": money(t.weighted_open),
        "forecast": money(t.forecast), "open_value": money(t.open_value), "remaining": money(t.remaining),
        "coverage": rate(t.coverage), "attainment": rate(t.attainment),
    }


class _LeadLines:
    """A lead's line in ``leads``, its keys as constant text: a dict per lead, made and then walked, took three times
    as long (docs/data-json.md lists the fields). The values many leads share (days, amounts, probabilities, stages,
    owners, sources, qualification) are written once per document."""

    def __init__(self, page_url: Any) -> None:
        self.page_url = page_url
        self.texts = SharedTexts(_optional)
        self.days = SharedTexts(_day)
        self.amounts = SharedTexts(lambda value: _exact(value, CENT))
        self.rates = SharedTexts(lambda value: _exact(value, RATE_PLACES))
        self.numbers = SharedTexts(one_line)  # days since: a few hundred distinct
        self.qualifications = SharedTexts(lambda items: one_line(dict(items)))  # its values are bools (lead.py)

    def __call__(self, f: LeadFigures) -> str:
        lead = f.lead
        texts, days, amounts, numbers = self.texts, self.days, self.amounts, self.numbers
        history = ", ".join([f'{{"date": {days[h.date]}, "stage": {texts[h.stage]}}}' for h in lead.history])
        # tags are texts and contacts mappings (lead.py): written without ``one_line`` finding out their kind
        return (
            f'{{"id": {_text(lead.id)}, "file": {_text(lead.path)}, "page": {_optional(self.page_url(lead) if self.page_url else None)}, '
            f'"title": {_text(lead.title)}, "company": {_optional(lead.company)}, "status": {texts[lead.status]}, '
            f'"stage": {texts[lead.stage]}, "owner": {texts[lead.owner]}, '
            f'"value": {amounts[f.value]}, "original_value": {amounts[lead.value]}, "currency": {texts[lead.currency]}, '
            f'"probability": {self.rates[f.probability]}, "weighted": {amounts[f.weighted]}, '
            f'"expected_close": {days[lead.expected_close]}, "closed_on": {days[lead.closed_on]}, "reason": {texts[lead.reason]}, '
            f'"created": {days[lead.created]}, "last_contact": {days[lead.last_contact]}, "follow_up": {days[lead.follow_up]}, '
            f'"follow_up_overdue": {_LITERALS[f.follow_up_overdue]}, "stale": {_LITERALS[f.stale]}, "age_days": {numbers[f.age_days]}, '
            f'"days_since_touch": {numbers[f.days_since_touch]}, "next_step": {texts[lead.next_step]}, "source": {texts[lead.source]}, '
            f'"tags": [{", ".join(map(_text, lead.tags))}], "qualification": {self.qualifications[tuple(lead.qualification.items())]}, '
            f'"qualified": {_LITERALS[f.qualified]}, "contacts": [{", ".join(map(_object, lead.contacts))}], "history": [{history}], '
            f'"custom": {one_line(_plain(dict(lead.custom))) if lead.custom else "{}"}}}'
        )


def _problem(p: Problem) -> str:
    """A line of ``problems``."""
    return (
        f'{{"file": {_text(p.path)}, "line": {one_line(p.line)}, "field": {_text(p.field)}, "severity": {_text(p.severity)}, '
        f'"rule": {_text(p.rule)}, "message": {_text(p.message)}}}'
    )


def _optional(text: str | None) -> str:
    return "null" if text is None else _text(text)


def _day(value: date | None) -> str:
    return f'"{value.isoformat()}"' if value else "null"


def _plain(value: Any) -> Any:
    """Custom front-matter values in JSON terms (dates as text, numbers as written)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return RawJSON(str(value))
    return value


ONE_LINE = ("leads", "problems")  # long lists: an item per line keeps the file small and git diffs readable
_LITERALS = {True: "true", False: "false", None: "null"}


def dumps(value: Any, indent: str = "", key: str | None = None) -> str:
    """Deterministic JSON with exact decimals; keys in the order the code defines them.

    Sections are indented; every item of ``leads`` and ``problems`` is one compact line.
    """
    step = indent + "  "
    if isinstance(value, RawJSON):
        return value.text
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{step}{_text(str(k))}: {dumps(v, step, str(k))}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        item = one_line if key in ONE_LINE else lambda v: dumps(v, step)
        return "[\n" + ",\n".join(step + item(v) for v in value) + "\n" + indent + "]"
    return one_line(value)  # a scalar: as json.dumps writes it


def one_line(value: Any) -> str:
    """Compact JSON, as ``json.dumps(value, ensure_ascii=False, separators=(", ", ": "))`` writes it, exact numbers
    as given. Written here rather than by the C encoder: setting that up costs more per call than the small values
    of a lead take to write."""
    kind = type(value)
    if kind is str:
        return _text(value)
    if kind is bool or value is None:
        return _LITERALS[value]
    if kind is int:
        return int.__repr__(value)
    if kind is RawJSON:
        return value.text  # type: ignore[no-any-return]
    if kind is list or kind is tuple:
        return _array(value)
    if kind is dict:
        return _object(value)
    if isinstance(value, (list, tuple)):
        return _array(value)
    if isinstance(value, Mapping):
        return _object(value)
    return json.dumps(value, ensure_ascii=False)  # a float, a subclass of str or int: as the C encoder writes it


# Texts, most of the items, are written without a call of ``one_line`` each.


def _array(value: Sequence[Any]) -> str:
    return "[" + ", ".join([_text(item) if type(item) is str else one_line(item) for item in value]) + "]"


def _object(value: Mapping[Any, Any]) -> str:
    items = [f"{_text(k) if type(k) is str else _key(k)}: {_text(v) if type(v) is str else one_line(v)}" for k, v in value.items()]
    return "{" + ", ".join(items) + "}"


def _key(key: Any) -> str:
    """An object's key as json writes it: a text, or a number, true, false or null turned into one."""
    if isinstance(key, str):
        return _text(key)  # a subclass of str
    if key is None or isinstance(key, (int, float)):
        return _text(json.dumps(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
