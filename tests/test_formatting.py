"""Formatter's own application of Babel's number patterns (FastPattern) against Babel itself."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from babel import Locale, UnknownLocaleError
from babel.localedata import locale_identifiers as babel_locales
from babel.numbers import format_currency, format_decimal, format_percent, parse_pattern

from funnel_site.formatting import FastPattern, Formatter, _round, _with_places

LOCALES = ["de_DE", "en_US", "fr_FR", "de_CH", "en_IN", "ja_JP", "ar_EG", "fa_IR", "sv_SE", "nl_NL", "pt_BR", "he_IL", "my_MM", "es_ES"]
CURRENCIES = ["EUR", "USD", "JPY", "CHF", "BHD", "INR"]


def _values() -> list[Decimal]:
    rng = random.Random(7)
    values = [Decimal(v) for v in ("0", "-0", "0.004", "0.005", "-0.005", "0.5", "1", "-1", "999.995", "1000", "-1234.5",
                                   "1234567.891", "12345678901234567890.5", "0.1", "-0.0001", "2.675", "1E+3", "5E-7")]
    values += [Decimal(rng.randint(-10**9, 10**9)) / Decimal(10) ** rng.randint(0, 4) for _ in range(150)]
    return values


@pytest.mark.parametrize("name", LOCALES)
def test_fast_pattern_formats_as_babel(name: str) -> None:
    locale = Locale.parse(name)
    formatter = Formatter(name)
    checked = 0
    for value in _values():
        for currency in CURRENCIES:
            assert FastPattern(locale.currency_formats["standard"], locale, currency).apply(_round(value, 2)) == \
                format_currency(_round(value, 2), currency, locale=locale)
            assert formatter.money(value, currency, False) == format_currency(
                _round(value, 0), currency, format=formatter._whole_currency, locale=locale, currency_digits=False)
            checked += 2
        for places in (0, 1, 2):
            assert formatter.number(value, places) == format_decimal(_round(value, places), format=_with_places("#,##0", places), locale=locale)
            assert formatter.percent(value, places) == format_percent(
                _round(value, places + 2), format=_with_places(formatter._percent, places), locale=locale)
            checked += 2
    assert checked > 3000


def test_unusual_patterns_are_left_to_babel() -> None:
    locale = Locale.parse("en_US")
    for pattern, currency in (("#,##0.00 ¤¤¤", "EUR"), ("0.###E0", None), ("@@@", None), ("'#'#,##0", None)):
        fast = FastPattern(parse_pattern(pattern), locale, currency)
        assert not fast.plain
        assert fast.apply(Decimal("1234.5")) == parse_pattern(pattern).apply(Decimal("1234.5"), locale, currency=currency)
    assert FastPattern(locale.currency_formats["standard"], locale, "EUR").plain


def test_infinity_and_nan_as_babel() -> None:
    locale = Locale.parse("de_DE")
    fast = FastPattern(parse_pattern("#,##0.0"), locale)
    for value in (Decimal("Infinity"), Decimal("-Infinity"), Decimal("NaN")):
        assert fast.apply(value) == parse_pattern("#,##0.0").apply(value, locale)


def test_every_locale_formats_amounts_numbers_and_percentages_as_babel() -> None:
    """Every locale Babel knows (a config may name any): its grouping (threes, Indian, none), symbols and signs,
    rounding half-up at the last place, negatives and big numbers."""
    values = [Decimal(v) for v in ("0", "-0", "0.005", "-0.005", "1.005", "2.675", "-2.675", "999.995", "-999.995", "1000", "-1234.565",
                                   "99999.5", "1234567.891", "-9876543210.125", "12345678901234567890.5", "0.0049", "1E+6")]
    checked = 0
    for name in babel_locales():
        try:
            locale = Locale.parse(name)
        except (UnknownLocaleError, ValueError):
            continue
        formatter = Formatter(name)
        if formatter.locale != locale:  # a locale Babel parses but the formatter cannot use: en_US instead
            continue
        for value in values:
            assert formatter.money(value, "EUR") == format_currency(_round(value, 2), "EUR", locale=locale), (name, value)
            assert formatter.money(value, "EUR", False) == format_currency(
                _round(value, 0), "EUR", format=formatter._whole_currency, locale=locale, currency_digits=False), (name, value)
            assert formatter.number(value, 2) == format_decimal(_round(value, 2), format="#,##0.00", locale=locale), (name, value)
            assert formatter.percent(value) == format_percent(_round(value, 2), format=formatter._percent, locale=locale), (name, value)
            checked += 4
    assert checked > 30_000
