"""Locale-aware formatting of money, numbers, percentages and dates (Babel/CLDR) as Jinja filters."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, lru_cache
from typing import Any, Callable, TypeVar

import jinja2
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import (
    NumberPattern, format_compact_decimal, get_currency_precision, get_currency_symbol, get_decimal_quantum,
    get_decimal_symbol, get_group_symbol, get_infinity_symbol, parse_pattern,
)

DASH = "–"
MEMO_SIZE = 1 << 16  # distinct (value, options) per filter kept per Formatter; bounds memory at 100k leads
F = TypeVar("F", bound=Callable[..., str])


def _round(value: Any, places: int) -> Decimal:
    """Half-up, as an accountant expects; Babel on its own rounds half-even."""
    return Decimal(value).quantize(_quantum(places), ROUND_HALF_UP)


@cache
def _quantum(places: int) -> Decimal:
    """``10 ** -places``, made once: making it is an eighth of the cost of formatting an amount seen first."""
    return Decimal(1).scaleb(-places)


def _with_places(pattern: str, places: int) -> str:
    return pattern.replace("#,##0", "#,##0." + "0" * places, 1) if places else pattern


def _memoised(function: F) -> F:
    """A Babel call costs tens of microseconds, and pages repeat the same dates and amounts thousands of
    times; values that cannot be hashed are formatted every time."""
    cached = lru_cache(maxsize=MEMO_SIZE)(function)

    def formatted(*args: Any, **kwargs: Any) -> str:
        if args and not args[0] and isinstance(args[0], (Decimal, float)) and str(args[0]).startswith("-"):
            return function(*args, **kwargs)  # -0 equals 0 but keeps its sign in the output: never from the memo
        try:
            return cached(*args, **kwargs)
        except TypeError:
            return function(*args, **kwargs)

    return formatted  # type: ignore[return-value]


class FastPattern:
    """Babel's ``NumberPattern.apply`` for one pattern, currency and locale, with what does not depend on
    the number worked out once (Babel looks up the symbols and the currency's name on every call).

    The same steps as Babel's for a plain pattern (no exponent, no significant digits, no currency name,
    no quotes); any other pattern is handed to Babel itself. tests/test_formatting.py compares the two.
    """

    def __init__(self, pattern: NumberPattern, locale: Locale, currency: str | None = None, currency_digits: bool = True) -> None:
        self.pattern, self.locale, self.currency, self.currency_digits = pattern, locale, currency, currency_digits
        self.frac_prec = (get_currency_precision(currency),) * 2 if currency and currency_digits else pattern.frac_prec
        self.quantum = get_decimal_quantum(self.frac_prec[1])
        self.group, self.decimal = get_group_symbol(locale), get_decimal_symbol(locale)
        self.scale = pattern.scale
        self.thousands = pattern.grouping == (3, 3) and pattern.int_prec[0] <= 1  # Python's own "," groups the digits as Babel would
        self.prefix = tuple(self._affix(text) for text in pattern.prefix)
        self.suffix = tuple(self._affix(text) for text in pattern.suffix)
        affixes = (*self.prefix, *self.suffix)
        self.plain = (  # else Babel's own steps: these would need its quote and currency handling over the number
            not pattern.exp_prec and "@" not in pattern.pattern and pattern.number_pattern != "" and None not in affixes
            and not any("'" in text or "¤" in text for text in (self.group, self.decimal))
            and not any("'" in text for text in affixes)  # type: ignore[operator]
        )

    def _affix(self, text: str) -> str | None:
        if "¤" not in text or self.currency is None:
            return text
        if "¤¤¤" in text:
            return None  # the currency's name, which depends on the number
        return text.replace("¤¤", self.currency.upper()).replace("¤", get_currency_symbol(self.currency, self.locale))

    def apply(self, value: Decimal) -> str:
        if not self.plain:
            return self.pattern.apply(value, self.locale, currency=self.currency, currency_digits=self.currency_digits)
        if not isinstance(value, Decimal):
            value = Decimal(str(value))
        if self.scale:
            value = value.scaleb(self.scale)
        negative = int(value.is_signed())
        value = abs(value).normalize()
        if value.is_infinite():
            number = get_infinity_symbol(self.locale)
        elif self.thousands:  # most locales' patterns: a third of the cost of grouping in Python (``_integer``)
            whole, _, fraction = f"{value.quantize(self.quantum):,f}".partition(".")
            number = whole.replace(",", self.group) + self._fraction(fraction or "0")
        else:
            whole, _, fraction = f"{value.quantize(self.quantum):f}".partition(".")
            number = self._integer(whole) + self._fraction(fraction or "0")
        return self.prefix[negative] + number + self.suffix[negative]  # type: ignore[operator]

    def _integer(self, digits: str) -> str:
        if len(digits) < self.pattern.int_prec[0]:
            digits = "0" * (self.pattern.int_prec[0] - len(digits)) + digits
        size, grouped = self.pattern.grouping[0], ""
        while len(digits) > size:
            grouped = self.group + digits[-size:] + grouped
            digits = digits[:-size]
            size = self.pattern.grouping[1]
        return digits + grouped

    def _fraction(self, digits: str) -> str:
        least, most = self.frac_prec
        if len(digits) < least:
            digits += "0" * (least - len(digits))
        if most == 0 or (least == 0 and int(digits) == 0):
            return ""
        while len(digits) > least and digits[-1] == "0":
            digits = digits[:-1]
        return self.decimal + digits


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
        self._patterns: dict[tuple[str | None, str | None, bool], FastPattern] = {}
        for name in ("money", "number", "percent", "date", "month", "period", "compact"):
            setattr(self, name, _memoised(getattr(self, name)))

    def money(self, value: Decimal | None, currency: str, cents: bool = True) -> str:
        """``1.234,50 €`` (de_DE) or ``€1,234.50`` (en_US); ``cents=False`` rounds to whole units."""
        if value is None:
            return DASH
        if cents:
            return self._pattern(None, currency, True).apply(_round(value, 2))
        return self._pattern(self._whole_currency, currency, False).apply(_round(value, 0))

    def number(self, value: Any, places: int = 0) -> str:
        if value is None:
            return DASH
        return self._pattern(_with_places("#,##0", places)).apply(_round(value, places))

    def percent(self, fraction: Decimal | None, places: int = 0) -> str:
        if fraction is None:
            return DASH
        return self._pattern(_with_places(self._percent, places)).apply(_round(fraction, places + 2))

    def _pattern(self, pattern: str | None, currency: str | None = None, currency_digits: bool = True) -> FastPattern:
        """What Babel's format_currency (``pattern`` None: the locale's standard one), format_decimal and
        format_percent apply."""
        key = (pattern, currency, currency_digits)
        found = self._patterns.get(key)
        if found is None:
            parsed = self.locale.currency_formats["standard"] if pattern is None else parse_pattern(pattern)
            found = self._patterns[key] = FastPattern(parsed, self.locale, currency, currency_digits)
        return found

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
