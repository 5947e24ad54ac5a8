"""One lead's front matter: parsed mapping -> Lead, with every problem located. No I/O here."""

from __future__ import annotations

import sys
from datetime import date
from difflib import get_close_matches
from decimal import Decimal
from functools import lru_cache
from typing import Any, Mapping

from funnel_site.config import CURRENCY_PATTERN
from funnel_site.fields import FieldReader, choices, describe
from funnel_site.model import BASE_RATE, CLOSED, STATUSES, Config, HistoryEntry, Lead

STANDARD_KEYS = (
    "title", "owner", "status", "stage", "value", "currency", "probability", "expected_close",
    "closed_on", "reason", "created", "last_contact", "follow_up", "company", "contact",
    "next_step", "source", "tags", "qualification", "history",
)
DATE_KEYS = ("expected_close", "closed_on", "created", "last_contact", "follow_up")
_STANDARD_SET = frozenset(STANDARD_KEYS)
_REQUIRED_BY_STATUS = {
    "active": ("stage", "value", "expected_close"),
    "won": ("value", "closed_on"),
    "lost": ("closed_on",),
    "cancelled": ("closed_on",),
}
_HISTORY_KEYS = {"date", "stage"}
# Types of values that need no further look (checked for a whole list or mapping at once, in C); a value of
# any other type, or of a subclass, takes the long way, which reports or converts it.
_TEXT = frozenset({str})
_DATE_OR_NOTHING = frozenset({date, type(None)})
_FLAG = frozenset({bool})
_ZERO, _HUNDRED = Decimal(0), Decimal(100)


def parse_lead(
    path: str, lead_id: str, data: Mapping[str, Any], lines: Mapping[str, int],
    body: str, body_line: int, config: Config,
) -> tuple[Lead | None, list[Any]]:
    """Validate one lead's front matter against the config."""
    reader = FieldReader(path, lines)
    status = _status(reader, data)
    expected_close, closed_on, created, last_contact, follow_up = _dates(reader, data)
    value, currency, value_base = _money(reader, data, config)
    # Positionally, in Lead's field order: by keyword, matching 27 names costs ~0.9 us a lead (~10k instructions).
    lead = Lead.build(
        lead_id,  # id
        path,  # path
        reader.text(data, "title", required=True) or "",  # title
        _owner(reader, data, config),  # owner
        status,  # status
        _stage(reader, data, config, status),  # stage
        value,  # value
        currency,  # currency
        value_base,  # value_base
        _probability(reader, data),  # probability
        expected_close,  # expected_close
        closed_on,  # closed_on
        reader.text(data, "reason"),  # reason
        created,  # created
        last_contact,  # last_contact
        follow_up,  # follow_up
        reader.text(data, "company"),  # company
        _contacts(reader, data.get("contact")),  # contacts
        reader.text(data, "next_step"),  # next_step
        _source(reader, data, config),  # source
        _tags(reader, data.get("tags")),  # tags
        _qualification(reader, data.get("qualification"), config),  # qualification
        _history(reader, data.get("history"), config),  # history
        {} if _STANDARD_SET.issuperset(data) else {key: value for key, value in data.items() if key not in _STANDARD_SET},  # custom
        body,  # body
        lines,  # lines: the parser's own map, shared by the leads of one outline (strict_yaml.LineMap)
        body_line,  # body_line
    )
    _required_by_status(reader, data, status)
    _misspelt_keys(reader, lead.custom)
    # Warnings (a misspelt custom key) keep the lead; only errors drop it and fail the build.
    return (None if reader.problems and any(p.is_error for p in reader.problems) else lead), reader.problems


def _dates(reader: FieldReader, data: Mapping[str, Any]) -> tuple[date | None, ...]:
    found = tuple(map(data.get, DATE_KEYS))
    if _DATE_OR_NOTHING.issuperset(map(type, found)):
        return found
    return tuple(None if value is None else reader.date(value, key) for key, value in zip(DATE_KEYS, found))


def _status(reader: FieldReader, data: Mapping[str, Any]) -> Any:
    status = data.get("status", "active")
    if status not in STATUSES:
        reader.error("status", f"unknown status {describe(status)} (known: {choices(STATUSES)})")
        return "active"
    return status


def _required_by_status(reader: FieldReader, data: Mapping[str, Any], status: str) -> None:
    needed = _REQUIRED_BY_STATUS.get(status, ()) if data.get("status", "active") in STATUSES else ()  # an unknown status is reported once
    for key in needed:
        if data.get(key) is None:
            reader.error(key, f"required when status is {status}", "required")
    if "owner" not in data or data["owner"] is None:
        reader.missing("owner")


def _owner(reader: FieldReader, data: Mapping[str, Any], config: Config) -> str:
    owner = data.get("owner")
    if owner is None:
        return ""
    if not isinstance(owner, str) or config.member(owner) is None:
        known = choices(m.id for m in config.team)
        reader.error("owner", f"unknown team member {describe(owner)} (known: {known})")
        return ""
    return sys.intern(owner)  # one copy for all leads (unpickled ones share theirs through their chunk's pickle)


def _stage(reader: FieldReader, data: Mapping[str, Any], config: Config, status: str) -> str | None:
    stage = data.get("stage")
    if stage is None:
        return None
    if not isinstance(stage, str) or config.stage(stage) is None:
        known = choices(s.id for s in config.stages)
        reader.error("stage", f"unknown stage {describe(stage)} (known: {known})")
        return None
    return stage


def _money(reader: FieldReader, data: Mapping[str, Any], config: Config) -> tuple[Decimal | None, str, Decimal | None]:
    currency = data.get("currency", config.currency)
    rate = None
    if not isinstance(currency, str) or not CURRENCY_PATTERN.match(currency):
        reader.error("currency", f"expected a three-letter ISO code such as {config.currency}, got {describe(currency)}")
        currency = config.currency
    elif (rate := config.rate(currency)) is None:
        reader.error(
            "currency",
            f"no exchange rate for {currency} (base currency is {config.currency}; add {currency} under exchange_rates in config.yaml)",
        )
    if data.get("value") is None:
        return None, currency, None
    value = reader.number(data["value"], "value", low=_ZERO)
    if value is None:
        return None, currency, None
    if rate is BASE_RATE and type(data["value"]) is int:
        # a whole number times 1 is itself (its few digits are never rounded): the lead keeps one Decimal, not two
        # equal ones, and its pickle writes it once
        return value, currency, value
    return value, currency, (value * rate if rate is not None else None)


def _probability(reader: FieldReader, data: Mapping[str, Any]) -> Decimal | None:
    if data.get("probability") is None:
        return None
    return reader.number(data["probability"], "probability", low=_ZERO, high=_HUNDRED)


def _source(reader: FieldReader, data: Mapping[str, Any], config: Config) -> str | None:
    source = reader.text(data, "source")
    if source is not None and config.sources is not None and source not in config.sources:
        reader.error("source", f"unknown source '{source}' (known: {choices(config.sources)})")
    return source


def _tags(reader: FieldReader, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if type(value) is list and _TEXT.issuperset(map(type, value)):
        return tuple(value)
    return reader.string_list(value, "tags") or ()


def _contacts(reader: FieldReader, value: Any) -> tuple[Mapping[str, str], ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    contacts = []
    for index, item in enumerate(items):
        field = f"contact[{index}]" if isinstance(value, list) else "contact"
        if not isinstance(item, dict):
            reader.error(field, f"expected a mapping such as {{name: ..., email: ...}}, got {describe(item)}", "type")
            continue
        if _TEXT.issuperset(map(type, item.values())):
            contacts.append(dict(item))
            continue
        contact = {}
        for key, text in item.items():
            if isinstance(text, (str, int)) and not isinstance(text, bool):
                contact[key] = str(text)
            elif text is not None:
                reader.error(f"{field}.{key}", f"expected text, got {describe(text)}", "type")
        contacts.append(contact)
    return tuple(contacts)


def _qualification(reader: FieldReader, value: Any, config: Config) -> dict[str, bool]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        reader.error("qualification", f"expected a mapping of criterion to true/false, got {describe(value)}", "type")
        return {}
    if _FLAG.issuperset(map(type, value.values())) and set(value).issubset(config.qualification):
        return dict(value)
    result = {}
    for criterion, met in value.items():
        field = f"qualification.{criterion}"
        if criterion not in config.qualification:
            reader.error(field, f"unknown criterion '{criterion}' (known: {choices(config.qualification)})")
        elif not isinstance(met, bool):
            reader.error(field, f"expected true or false, got {describe(met)}", "type")
        else:
            result[criterion] = met
    return result


def _history(reader: FieldReader, value: Any, config: Config) -> tuple[HistoryEntry, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        reader.error("history", f"expected a list of {{date, stage}} entries, got {describe(value)}", "type")
        return ()
    entries = []
    for index, item in enumerate(value):
        if type(item) is dict and item.keys() == _HISTORY_KEYS and isinstance(item["date"], date) and _is_stage(item["stage"], config):
            entries.append(_shared_entry(item["date"], item["stage"]))  # the usual entry, with nothing to report
            continue
        known = [s.id for s in config.stages] + list(CLOSED)
        field = f"history[{index}]"
        if not isinstance(item, dict):
            reader.error(field, f"expected a mapping such as {{date: 2026-01-31, stage: offer}}, got {describe(item)}", "type")
            continue
        if item.keys() != _HISTORY_KEYS:
            for key in sorted(item.keys() - _HISTORY_KEYS):
                reader.error(f"{field}.{key}", f"unknown key '{key}' (known: date, stage)", "unknown-key")
        for key in ("date", "stage"):
            if item.get(key) is None:
                reader.error(f"{field}.{key}", "required field is missing", "required", line=reader.line(field))
        if item.get("date") is None or item.get("stage") is None:
            continue
        when = reader.date(item["date"], f"{field}.date")
        stage = item["stage"]
        if stage not in known:
            reader.error(f"{field}.stage", f"unknown stage {describe(stage)} (known: {choices(known)})")
        elif when is not None:
            entries.append(HistoryEntry.build(when, stage))
    _check_order(reader, entries)
    return tuple(entries)


_ENTRIES: dict[tuple[date, str], HistoryEntry] = {}
_ENTRIES_MAX = 1 << 14


def _shared_entry(when: date, stage: str) -> HistoryEntry:
    """The history entry of ``when`` and ``stage``, one object for all the leads that have it. Leads repeat their
    entries (1k leads: 3.3k entries, 1.5k distinct); a shared one is a look-up instead of a ``build`` here, and a
    chunk's pickle writes it once (a memo reference instead of a ``build`` call when it is read back)."""
    key = when, stage
    entry = _ENTRIES.get(key)
    if entry is None:
        if len(_ENTRIES) >= _ENTRIES_MAX:
            _ENTRIES.clear()
        entry = _ENTRIES[key] = HistoryEntry.build(when, stage)  # frozen: sharing is safe
    return entry


def _is_stage(stage: Any, config: Config) -> bool:
    """A stage of the config or an outcome (a history entry's stage)."""
    return type(stage) is str and (config.stage(stage) is not None or stage in CLOSED)


def _check_order(reader: FieldReader, entries: list[HistoryEntry]) -> None:
    for index in range(1, len(entries)):
        if entries[index].date < entries[index - 1].date:
            field = f"history[{index}].date"
            reader.error(field, f"history must be oldest first; {entries[index].date} is before {entries[index - 1].date}")
            return


def _misspelt_keys(reader: FieldReader, custom: Mapping[str, Any]) -> None:
    """A typo in a standard key would silently become a custom field; say so."""
    for key in custom:
        if (close := _close_standard_key(key)) is not None:
            reader.warn(key, f"kept as a custom field; did you mean '{close}'?", "unknown-key")


@lru_cache(maxsize=1024)
def _close_standard_key(key: str) -> str | None:
    """~45 us a key; a pipeline's custom keys repeat from lead to lead."""
    close = get_close_matches(key, STANDARD_KEYS, n=1, cutoff=0.8)
    return close[0] if close else None
