"""Typed reading of parsed YAML values, turning every mismatch into a Problem with its line."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any, Mapping

from funnel_site.problems import Problem

_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_PARENT = re.compile(r"(?:\.[^.\[]*|\[[0-9]+\])$")  # "stages[0].id" -> "stages[0]" -> "stages"
MISSING: Any = object()
MAX_DIGITS = 15  # numbers must be below 10**15


class FieldReader:
    """Reads fields of one parsed file and collects problems instead of raising."""

    def __init__(self, path: str, lines: Mapping[str, int], default_line: int = 1) -> None:
        self.path = path
        self.lines = lines
        self.default_line = default_line
        self.problems: list[Problem] = []

    def line(self, field: str) -> int:
        """The field's line; for a missing key, the line of the nearest enclosing entry."""
        while True:
            if field in self.lines:
                return self.lines[field]
            parent = _PARENT.sub("", field)
            if parent == field:
                return self.default_line
            field = parent

    def error(self, field: str, message: str, rule: str = "invalid", line: int | None = None) -> None:
        self.problems.append(Problem(self.path, line or self.line(field), field, message, "error", rule))

    def warn(self, field: str, message: str, rule: str) -> None:
        self.problems.append(Problem(self.path, self.line(field), field, message, "warning", rule))

    def missing(self, field: str, why: str = "") -> None:
        self.error(field, f"required field is missing{why}", rule="required")

    def text(self, data: Mapping[str, Any], field: str, key: str | None = None, *, required: bool = False) -> str | None:
        value = data.get(key or field, MISSING)
        if type(value) is str and (not required or value.strip()):
            return value  # the usual value, with nothing to convert or report
        if value is MISSING or value is None:
            if required:
                self.missing(field)
            return None
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            return str(value)  # `company: 1und1` style values are text, not numbers
        if not isinstance(value, str):
            self.error(field, f"expected text, got {describe(value)}", "type")
            return None
        if required and not value.strip():
            self.missing(field)
            return None
        return value

    def number(self, value: Any, field: str, *, low: Decimal | None = None, high: Decimal | None = None) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            self.error(field, f"expected a number, got {describe(value)}", "type")
            return None
        number = Decimal(value)
        if not number.is_finite():
            self.error(field, f"expected a number, got {describe(value)}", "type")
            return None
        if number != 0 and number.adjusted() >= MAX_DIGITS:  # abs() would trap Overflow beyond the context's Emax
            # Money is exact Decimal arithmetic with 28 digits; beyond this it would be rounded.
            self.error(field, f"must be less than 1000000000000000, got {describe(value)}", "range")
            return None
        if low is not None and high is not None and not low <= number <= high:
            self.error(field, f"must be between {low} and {high}, got {number}", "range")
            return None
        if low is not None and number < low:
            self.error(field, f"must not be below {low}, got {number}", "range")
            return None
        return number

    def date(self, value: Any, field: str) -> date | None:
        if isinstance(value, date):
            return value
        if isinstance(value, str) and _ISO_DATE.match(value):
            try:
                return date.fromisoformat(value)
            except ValueError as error:
                self.error(field, f"invalid date '{value}' ({error})", "type")
                return None
        self.error(field, f"expected a date YYYY-MM-DD, got {describe(value)}", "type")
        return None

    def string_list(self, value: Any, field: str) -> tuple[str, ...] | None:
        if not isinstance(value, list):
            self.error(field, f"expected a list of text values such as [a, b], got {describe(value)}", "type")
            return None
        items = []
        for index, item in enumerate(value):
            if isinstance(item, (int, Decimal)) and not isinstance(item, bool):
                item = str(item)  # `tags: [2026]` is text, as in `text()`
            if not isinstance(item, str):
                self.error(f"{field}[{index}]", f"expected text, got {describe(item)}", "type")
                return None
            items.append(item)
        return tuple(items)


def describe(value: Any) -> str:
    """How a value looks to the person who wrote it."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 60 else f"'{value[:57]}...'"
    if isinstance(value, (int, Decimal)):
        text = str(value)
        return text if len(text) <= 60 else f"{text[:57]}..."
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def choices(values: Any) -> str:
    return ", ".join(str(v) for v in values)
