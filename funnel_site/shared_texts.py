"""Texts written once per distinct value: the exports and the table's script show the same few values (days,
amounts, stages, owners, sources) for thousands of leads."""

from __future__ import annotations

from typing import Any, Callable, Hashable, TypeVar

Text = TypeVar("Text", str, bytes)  # what is written: a text, or (the pages joined from bytes) its UTF-8


class SharedTexts(dict[Hashable, Text]):
    """``texts[value]`` is ``write(value)``, written the first time and then kept: a dict rather than a function,
    so that a value seen before costs one lookup in C and no Python call.

    Zeros are written every time: ``0``, ``-0`` and ``0.00`` are one key but ``-0`` prints differently.
    """

    __slots__ = ("write",)

    def __init__(self, write: Callable[[Any], Text]) -> None:
        super().__init__()
        self.write = write

    def __missing__(self, value: Any) -> Text:
        text = self.write(value)
        if value != 0:
            self[value] = text
        return text
