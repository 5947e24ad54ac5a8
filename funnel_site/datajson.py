"""data.json: the documented machine interface (schema_version 1). Pure: model + figures -> text."""

from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

from funnel_site.figures import Bucket, Figures, LeadFigures, OwnerFigures, Rate, TargetFigures
from funnel_site.model import Project
from funnel_site.problems import Problem

if TYPE_CHECKING:
    from funnel_site.fragments import Fragments

SCHEMA_VERSION = 1
CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.0001")
DAY_PLACES = Decimal("0.1")


class Number:
    """A JSON number written exactly as given (json cannot write Decimal)."""

    def __init__(self, text: str) -> None:
        self.text = text


def money(value: Decimal | None) -> Number | None:
    """Half-up to cents: 0.005 -> 0.01, as an accountant expects (Python's round() is banker's)."""
    return None if value is None else Number(str(value.quantize(CENT, ROUND_HALF_UP)))


def rate(value: Decimal | None) -> Number | None:
    return None if value is None else Number(str(value.quantize(RATE_PLACES, ROUND_HALF_UP)))


def days(value: Decimal | None) -> Number | None:
    return None if value is None else Number(str(value.quantize(DAY_PLACES, ROUND_HALF_UP)))


def _rate_pair(value: Rate) -> dict[str, Any]:
    return {"by_count": rate(value.by_count), "by_value": rate(value.by_value)}


def _bucket(bucket: Bucket) -> dict[str, Any]:
    return {"count": bucket.count, "value": money(bucket.value), "weighted": money(bucket.weighted)}


def to_data(project: Project, figures: Figures, warnings: Iterable[Problem], page_url: Any = None) -> dict[str, Any]:
    """The whole data.json document as plain values."""
    return {**_summary(project, figures), "leads": [_lead(f, page_url) for f in figures.leads], "problems": [_problem(p) for p in warnings]}


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
        leads, problems = _list(figures.leads, lambda f: _lead(f, page_url)), _list(warnings, _problem)
    else:
        leads, problems = _kept_list(fragments, figures.leads, lambda f: _lead(f, page_url)), _kept_list(fragments, warnings, _problem)
    text = dumps({**_summary(project, figures), "leads": Number(_SLOT), "problems": Number(_SLOT), **extra}) + "\n"
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


def _list(items: Sequence[Any], plain: Callable[[Any], Any]) -> Iterator[bytes]:
    """A list of ``ONE_LINE`` at the top of the document, as ``dumps`` writes it, ``BATCH`` items a piece."""
    if not items:
        yield b"[]"
        return
    for start in range(0, len(items), BATCH):
        lines = ",\n".join(_STEP + one_line(plain(item)) for item in items[start:start + BATCH])
        yield (("[\n" if start == 0 else ",\n") + lines).encode()
    yield b"\n  ]"


def _kept_list(fragments: Fragments, items: Iterable[Any], plain: Callable[[Any], Any]) -> list[bytes]:
    """``_list`` from kept lines, in three pieces (not joined into one more copy: the document is joined anyway)."""
    lines = fragments.pieces("data.json", list(items), lambda missing: [(_STEP + one_line(plain(item))).encode() for item in missing])
    return [b"[\n", b",\n".join(lines), b"\n  ]"] if lines else [b"[]"]


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


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _lead(f: LeadFigures, page_url: Any) -> dict[str, Any]:
    lead = f.lead
    return {
        "id": lead.id, "file": lead.path, "page": page_url(lead) if page_url else None,
        "title": lead.title, "company": lead.company, "status": lead.status, "stage": lead.stage, "owner": lead.owner,
        "value": money(f.value), "original_value": money(lead.value), "currency": lead.currency,
        "probability": rate(f.probability), "weighted": money(f.weighted),
        "expected_close": _iso(lead.expected_close), "closed_on": _iso(lead.closed_on), "reason": lead.reason,
        "created": _iso(lead.created), "last_contact": _iso(lead.last_contact), "follow_up": _iso(lead.follow_up),
        "follow_up_overdue": f.follow_up_overdue, "stale": f.stale, "age_days": f.age_days,
        "days_since_touch": f.days_since_touch, "next_step": lead.next_step, "source": lead.source,
        "tags": list(lead.tags), "qualification": dict(lead.qualification), "qualified": f.qualified,
        "contacts": [dict(c) for c in lead.contacts],
        "history": [{"date": h.date.isoformat(), "stage": h.stage} for h in lead.history],
        "custom": _plain(dict(lead.custom)),
    }


def _problem(p: Problem) -> dict[str, Any]:
    return {"file": p.path, "line": p.line, "field": p.field, "severity": p.severity, "rule": p.rule, "message": p.message}


def _plain(value: Any) -> Any:
    """Custom front-matter values in JSON terms (dates as text, numbers as written)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return Number(str(value))
    return value


ONE_LINE = ("leads", "problems")  # long lists: an item per line keeps the file small and git diffs readable
_MARK = "\ue000"  # a private-use character marking exact numbers inside the C encoder's output
_MARKED = (Number, dict, list, tuple)  # what ``one_line`` looks into: most values (texts, dates) pass as they are


def dumps(value: Any, indent: str = "", key: str | None = None) -> str:
    """Deterministic JSON with exact decimals; keys in the order the code defines them.

    Sections are indented; every item of ``leads`` and ``problems`` is one compact line.
    """
    step = indent + "  "
    if isinstance(value, Number):
        return value.text
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{step}{json.dumps(str(k), ensure_ascii=False)}: {dumps(v, step, str(k))}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        item = one_line if key in ONE_LINE else lambda v: dumps(v, step)
        return "[\n" + ",\n".join(step + item(v) for v in value) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False)


def one_line(value: Any) -> str:
    """Compact JSON by the C encoder, exact numbers spliced in through marked placeholders."""
    if isinstance(value, Number):
        return value.text
    numbers = 0

    def mark(item: Any) -> Any:
        nonlocal numbers
        if isinstance(item, Number):
            numbers += 1
            return f"{_MARK}{item.text}{_MARK}"
        if isinstance(item, dict):
            return {k: mark(v) if isinstance(v, _MARKED) else v for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [mark(v) if isinstance(v, _MARKED) else v for v in item]
        return item

    text = json.dumps(mark(value), ensure_ascii=False, separators=(", ", ": "))
    if text.count(_MARK) != 2 * numbers:  # the data itself contains the marker: take the slow, exact way
        return _compact(value)
    return text.replace(f'"{_MARK}', "").replace(f'{_MARK}"', "")


def _compact(value: Any) -> str:
    if isinstance(value, Number):
        return value.text
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)}: {_compact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_compact(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)
