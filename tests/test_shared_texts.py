"""``SharedTexts``: a text written once per distinct value, zeros every time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from funnel_site.shared_texts import SharedTexts


def test_a_text_is_written_once_per_value() -> None:
    written: list[Any] = []
    texts = SharedTexts(lambda value: written.append(value) or f"<{value}>")
    values = ["a", None, date(2026, 1, 2), "a", None, date(2026, 1, 2), "", ""]
    assert [texts[value] for value in values] == ["<a>", "<None>", "<2026-01-02>"] * 2 + ["<>", "<>"]
    assert written == ["a", None, date(2026, 1, 2), ""]


def test_zeros_are_written_every_time_and_keep_their_sign() -> None:
    written: list[Any] = []
    texts = SharedTexts(lambda value: written.append(value) or str(value.quantize(Decimal("0.01"))))
    values = [Decimal(0), Decimal("-0"), Decimal("0.00"), Decimal("-0.0"), Decimal("1.5"), Decimal("1.50")]
    assert [texts[value] for value in values] == ["0.00", "-0.00", "0.00", "-0.00", "1.50", "1.50"]
    assert written == values[:5]  # all but the second 1.5
