"""Locale-aware formatting of money, numbers, percentages and dates (Babel/CLDR) as Jinja filters."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any, Callable, TypeVar

import jinja2
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_compact_decimal, format_currency, format_decimal, format_percent

DASH = "–"
MEMO_SIZE = 1 << 16  # distinct (value, options) per filter kept per Formatter; bounds memory at 100k leads
F = TypeVar("F", bound=Callable[..., str])


def _round(value: Any, places: int) -> Decimal:
    """Half-up, as an accountant expects; Babel on its own rounds half-even."""
    return Decimal(value).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def _with_places(pattern: str, places: int) -> str:
    return pattern.replace("#,##0", "#,##0." + "0" * places, 1) if places else pattern


def _memoised(function: F) -> F:
    """A Babel call costs tens of microseconds, and pages repeat the same dates and amounts thousands of
    times; values that cannot be hashed are formatted every time."""
    cached = lru_cache(maxsize=MEMO_SIZE)(function)

    def formatted(*args: Any, **kwargs: Any) -> str:
        if args and not args[0] and isinstance(args[0], (Decimal, float)):
            return function(*args, **kwargs)  # -0 equals 0 but keeps its sign in the output
        try:
            return cached(*args, **kwargs)
        except TypeError:
            return function(*args, **kwargs)

    return formatted  # type: ignore[return-value]


class Formatter:
    """Formatting for one locale; falls back to en_US for a locale Babel does not know.

    Results are memoised per instance: equal values format equally (``Decimal("1.0") == 1`` round alike).
    """

    def __init__(self, locale: str) -> None:
        try:
            self.locale = Locale.parse(locale)
        except (UnknownLocaleError, ValueError):
            self.locale = Locale.parse("en_US")
        currency_pattern = self.locale.currency_formats["standard"].pattern.split(";")[0]
        self._whole_currency = currency_pattern.replace("#,##0.00", "#,##0")
        self._percent = self.locale.percent_formats[None].pattern.split(";")[0]
        for name in ("money", "number", "percent", "date", "month", "period", "compact"):
            setattr(self, name, _memoised(getattr(self, name)))

    def money(self, value: Decimal | None, currency: str, cents: bool = True) -> str:
        """``1.234,50 €`` (de_DE) or ``€1,234.50`` (en_US); ``cents=False`` rounds to whole units."""
        if value is None:
            return DASH
        if cents:
            return format_currency(_round(value, 2), currency, locale=self.locale)
        return format_currency(_round(value, 0), currency, format=self._whole_currency, locale=self.locale, currency_digits=False)

    def number(self, value: Any, places: int = 0) -> str:
        if value is None:
            return DASH
        return format_decimal(_round(value, places), format=_with_places("#,##0", places), locale=self.locale)

    def percent(self, fraction: Decimal | None, places: int = 0) -> str:
        if fraction is None:
            return DASH
        pattern = _with_places(self._percent, places)
        return format_percent(_round(fraction, places + 2), format=pattern, locale=self.locale)

    def date(self, value: date | None, style: str = "medium") -> str:
        return DASH if value is None else format_date(value, format=style, locale=self.locale)

    def month(self, key: str, style: str = "short") -> str:
        """``2026-11`` as ``Nov 26`` (short), ``Nov`` (abbr) or ``November 2026`` (long)."""
        year, month = map(int, key.split("-"))
        pattern = {"short": "MMM yy", "abbr": "LLL"}.get(style, "MMMM y")
        return format_date(date(year, month, 1), format=pattern, locale=self.locale)

    def period(self, key: str) -> str:
        """A target period: ``2026-Q4`` as ``Q4 2026``, ``2026-12`` as the month's name."""
        if "-Q" in key:
            year, quarter = key.split("-Q")
            return f"Q{quarter} {year}"
        return self.month(key, "long")

    def compact(self, value: Any) -> str:
        """Axis labels: ``150K`` (en) or ``150.000`` (de, where CLDR abbreviates only millions)."""
        text = format_compact_decimal(_round(value, 0), locale=self.locale, fraction_digits=1)
        return text if any(c.isalpha() for c in text) else self.number(value)

    def install(self, env: jinja2.Environment) -> None:
        env.filters.update(
            money=self.money, number=self.number, percent=self.percent, date=self.date,
            month=self.month, period=self.period, compact=self.compact,
        )
        env.globals["lang"] = self.locale.language
