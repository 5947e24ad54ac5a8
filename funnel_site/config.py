"""config.yaml: parsed mapping -> Config, with every problem located. No I/O here."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Mapping

from funnel_site.fields import FieldReader, choices, describe
from funnel_site.model import DEFAULT_QUALIFICATION, Config, Member, Stage, Target
from funnel_site.problems import Problem

CONFIG_FILE = "config.yaml"
KNOWN_KEYS = (
    "title", "currency", "locale", "stages", "team", "sources", "stale_after_days",
    "targets", "exchange_rates", "qualification", "repo_url", "edit_url",
)
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
LOCALE_PATTERN = re.compile(r"^[a-z]{2,3}(?:_[A-Z]{2})?$")
MONTH_PERIOD = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
QUARTER_PERIOD = re.compile(r"^([0-9]{4})-Q([1-4])$")
RESERVED_STAGE_IDS = ("won", "lost", "cancelled")  # history entries use them for outcomes
URL_PATTERN = re.compile(r"^https?://[^\s]+$")


def parse_config(data: Any, lines: Mapping[str, int]) -> tuple[Config | None, list[Problem]]:
    """Validate the parsed config.yaml; return the Config (None when invalid) and the problems."""
    reader = FieldReader(CONFIG_FILE, lines)
    if not isinstance(data, dict):
        reader.error("config", f"expected a mapping of settings, got {describe(data)}", line=1)
        return None, reader.problems
    for key in data:
        if key not in KNOWN_KEYS:
            reader.error(key, f"unknown setting '{key}' (known: {choices(KNOWN_KEYS)})", "unknown-key")
    title = reader.text(data, "title", required=True)
    currency = _currency(reader, data)
    locale = reader.text(data, "locale") or "en_US"
    if "locale" in data and not LOCALE_PATTERN.match(locale):
        reader.error("locale", f"expected a locale such as de_DE or en_US, got {describe(data['locale'])}")
    stale_days = _positive_int(reader, data.get("stale_after_days", 30), "stale_after_days")
    config = Config(
        title=title or "",
        currency=currency or "",
        locale=locale,
        stages=_stages(reader, data.get("stages")),
        team=_team(reader, data.get("team")),
        sources=_optional_list(reader, data, "sources"),
        stale_after_days=stale_days or 30,
        targets=_targets(reader, data.get("targets")),
        exchange_rates=_exchange_rates(reader, data.get("exchange_rates"), currency),
        qualification=_optional_list(reader, data, "qualification") or DEFAULT_QUALIFICATION,
        repo_url=_url(reader, data, "repo_url"),
        edit_url=_url(reader, data, "edit_url"),
    )
    return (None if reader.problems else config), reader.problems


def _currency(reader: FieldReader, data: Mapping[str, Any]) -> str | None:
    currency = reader.text(data, "currency", required=True)
    if currency is not None and not CURRENCY_PATTERN.match(currency):
        reader.error("currency", f"expected a three-letter ISO code such as EUR, got {describe(currency)}")
        return None
    return currency


def _positive_int(reader: FieldReader, value: Any, field: str) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        reader.error(field, f"expected a whole number of days (1 or more), got {describe(value)}", "type")
        return None
    return value


def _entries(reader: FieldReader, value: Any, field: str) -> list[tuple[str, dict[str, Any]]]:
    """The mappings of a required, non-empty list, each with its field path."""
    if value is None:
        reader.missing(field)
        return []
    if not isinstance(value, list):
        reader.error(field, f"expected a list, got {describe(value)}", "type")
        return []
    if not value:
        reader.error(field, "needs at least one entry", "required")
        return []
    entries = []
    for index, item in enumerate(value):
        if isinstance(item, dict):
            entries.append((f"{field}[{index}]", item))
        else:
            reader.error(f"{field}[{index}]", f"expected a mapping, got {describe(item)}", "type")
    return entries


def _entry_id(reader: FieldReader, item: dict[str, Any], where: str, seen: set[str]) -> str | None:
    entry_id = reader.text(item, f"{where}.id", "id", required=True)
    if entry_id is None:
        return None
    if not ID_PATTERN.match(entry_id):
        reader.error(f"{where}.id", f"'{entry_id}' is not a valid id (lowercase letters, digits, '-' and '_')")
    elif where.startswith("stages") and entry_id in RESERVED_STAGE_IDS:
        reader.error(f"{where}.id", f"'{entry_id}' is reserved for closed leads; use status: {entry_id} instead of a stage")
    elif entry_id in seen:
        reader.error(f"{where}.id", f"duplicate id '{entry_id}'", "duplicate")
    seen.add(entry_id)
    return entry_id


def _unknown_keys(reader: FieldReader, item: dict[str, Any], where: str, known: tuple[str, ...]) -> None:
    for key in item:
        if key not in known:
            reader.error(f"{where}.{key}", f"unknown key '{key}' (known: {choices(known)})", "unknown-key")


def _stages(reader: FieldReader, value: Any) -> tuple[Stage, ...]:
    stages, seen = [], set[str]()
    for where, item in _entries(reader, value, "stages"):
        _unknown_keys(reader, item, where, ("id", "name", "probability", "stale_after_days"))
        stage_id = _entry_id(reader, item, where, seen)
        name = reader.text(item, f"{where}.name", "name") or stage_id
        probability = None
        if "probability" not in item:
            reader.missing(f"{where}.probability")
        else:
            probability = reader.number(item["probability"], f"{where}.probability", low=Decimal(0), high=Decimal(100))
        stale = item.get("stale_after_days")
        if stale is not None:
            stale = _positive_int(reader, stale, f"{where}.stale_after_days")
        if stage_id and probability is not None:
            stages.append(Stage(stage_id, name or stage_id, probability, stale))
    return tuple(stages)


def _team(reader: FieldReader, value: Any) -> tuple[Member, ...]:
    team, seen = [], set[str]()
    for where, item in _entries(reader, value, "team"):
        _unknown_keys(reader, item, where, ("id", "name", "email", "role"))
        member_id = _entry_id(reader, item, where, seen)
        name = reader.text(item, f"{where}.name", "name", required=True)
        email = reader.text(item, f"{where}.email", "email")
        role = reader.text(item, f"{where}.role", "role") or "member"
        if role not in ("manager", "member"):
            reader.error(f"{where}.role", f"unknown role '{role}' (known: manager, member)")
        elif member_id and name:
            team.append(Member(member_id, name, email, role))  # type: ignore[arg-type]
    return tuple(team)


def _optional_list(reader: FieldReader, data: Mapping[str, Any], field: str) -> tuple[str, ...] | None:
    if data.get(field) is None:
        return None
    return reader.string_list(data[field], field)


def _targets(reader: FieldReader, value: Any) -> tuple[Target, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        reader.error("targets", f"expected a mapping of period to amount, got {describe(value)}", "type")
        return ()
    targets = []
    for period, amount_value in value.items():
        bounds = period_bounds(period)
        if bounds is None:
            reader.error(f"targets.{period}", f"'{period}' is not a period; use YYYY-MM or YYYY-Qn (e.g. 2027-Q1)")
            continue
        amount = reader.number(amount_value, f"targets.{period}", low=Decimal(0))
        if amount is not None:
            targets.append(Target(period, bounds[0], bounds[1], amount))
    return tuple(sorted(targets, key=lambda t: (t.start, t.end)))


def period_bounds(period: str) -> tuple[date, date] | None:
    """First and last day of a ``YYYY-MM`` or ``YYYY-Qn`` period."""
    if match := MONTH_PERIOD.match(period):
        first_month = last_month = int(match[2])
    elif match := QUARTER_PERIOD.match(period):
        last_month = int(match[2]) * 3
        first_month = last_month - 2
    else:
        return None
    year = int(match[1])
    start = date(year, first_month, 1)
    next_start = date(year + 1, 1, 1) if last_month == 12 else date(year, last_month + 1, 1)
    return start, next_start - timedelta(days=1)


def _exchange_rates(reader: FieldReader, value: Any, base: str | None) -> dict[str, Decimal]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        reader.error("exchange_rates", f"expected a mapping such as {{USD: 0.92}}, got {describe(value)}", "type")
        return {}
    rates = {}
    for code, rate_value in value.items():
        field = f"exchange_rates.{code}"
        if not CURRENCY_PATTERN.match(code):
            reader.error(field, f"'{code}' is not a three-letter ISO currency code")
        elif code == base:
            reader.error(field, f"{code} is the base currency; it needs no exchange rate")
        elif (rate := reader.number(rate_value, field)) is not None:
            if rate <= 0:
                reader.error(field, f"must be above 0, got {rate}", "range")
            else:
                rates[code] = rate
    return rates


def _url(reader: FieldReader, data: Mapping[str, Any], field: str) -> str | None:
    url = reader.text(data, field)
    if url is not None and not URL_PATTERN.match(url):
        reader.error(field, f"expected an http:// or https:// address, got {describe(url)}")
        return None
    return url
