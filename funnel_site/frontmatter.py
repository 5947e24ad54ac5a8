"""Splitting a lead file into front matter and notes. No I/O here: bytes in, values out."""

from __future__ import annotations

import codecs
import re
from typing import Any, Mapping, NamedTuple

from funnel_site.problems import Problem
from funnel_site.strict_yaml import YamlError, parse_yaml

MAX_FRONT_MATTER = 64 * 1024
FENCE = "---"


class LeadSource(NamedTuple):
    """One lead file's front matter and notes. A named tuple: made for every file, where a frozen dataclass's
    ``__init__`` would set each field with a call of its own (~1 us a lead)."""

    data: dict[str, Any]
    lines: Mapping[str, int]  # read-only: shared by the documents of one outline (strict_yaml.LineMap)
    body: str
    body_line: int


def decode(path: str, raw: bytes) -> tuple[str | None, Problem | None]:
    """UTF-8 with or without BOM; anything else is a problem at the line of the first bad byte."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None, Problem(path, 1, "file", "is UTF-16 encoded; save it as UTF-8", rule="encoding")
    if (nul := raw.find(b"\0")) >= 0:
        # Valid UTF-8, but a NUL byte means UTF-16 without a byte-order mark or a binary file.
        line = raw[:nul].count(b"\n") + 1
        message = "contains a NUL byte (a UTF-16 or binary file?); save the file as UTF-8 text"
        return None, Problem(path, line, "file", message, rule="encoding")
    utf8 = raw.removeprefix(codecs.BOM_UTF8)  # what the "utf-8-sig" codec does, without its Python wrapper
    try:
        return utf8.decode("utf-8"), None
    except UnicodeDecodeError as error:  # its position counts from the end of the BOM
        line = utf8[: error.start].count(b"\n") + 1
        byte = utf8[error.start]
        message = f"not valid UTF-8 (byte 0x{byte:02x}); save the file as UTF-8"
        return None, Problem(path, line, "file", message, rule="encoding")


def split_lead(path: str, text: str) -> tuple[LeadSource | None, Problem | None]:
    """Split ``---`` front matter from the Markdown notes and parse it strictly."""
    newline = text.find("\n")  # the opening line's end
    if (text if newline < 0 else text[:newline]).rstrip() != FENCE:
        message = "file is empty" if not text.strip() else "the file must start with a '---' line"
        return None, _problem(path, 1, f"{message}; a lead starts with '---', its front matter and another '---'")
    closing = _CLOSING.search(text, newline) if newline >= 0 else None
    if closing is None:
        return None, _problem(path, 1, "no closing '---' line after the front matter")
    fence = closing.start() + 1
    yaml_text = _without_trailing_cr(text[newline + 1 : fence]) or "\n"  # each line ends with a newline
    # A character is at most 4 bytes of UTF-8: nearly every front matter fits without being encoded to know.
    if len(yaml_text) > MAX_FRONT_MATTER // 4 and len(yaml_text.encode()) > MAX_FRONT_MATTER:
        return None, _problem(path, 2, f"is larger than {MAX_FRONT_MATTER // 1024} KiB; keep long text in the notes below the closing '---'")
    if (tab := yaml_text.find("\t")) >= 0:
        return None, _problem(path, yaml_text.count("\n", 0, tab) + 2, "tab character in front matter; indent with spaces")
    try:
        data, key_lines = parse_yaml(yaml_text, line_offset=1)
    except YamlError as error:
        return None, _problem(path, error.line, error.message, rule="yaml")
    if data is None:
        return None, _problem(path, 1, "is empty; a lead needs at least title and owner")
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        return None, _problem(path, 2, f"must be 'key: value' lines (a mapping), got {kind}")
    body = _without_trailing_cr(text[closing.end() + 1 :])  # past the closing line's newline, if any
    return LeadSource(data, key_lines, body, text.count("\n", newline + 1, fence) + 3), None


# The closing fence: a line of ``---`` or ``...``, trailing whitespace allowed (``str.rstrip``'s, which is ``\s``),
# found with the newline before it: a pattern that starts with a character is searched for five times as
# quickly as one that starts with ``^``.
_CLOSING = re.compile(r"\n(?:---|\.\.\.)[^\S\n]*$", re.MULTILINE)
_TRAILING_CR = re.compile(r"\r+$", re.MULTILINE)


def _without_trailing_cr(text: str) -> str:
    """Every line without the carriage returns it ends with (Windows line ends)."""
    return _TRAILING_CR.sub("", text) if "\r" in text else text


def _problem(path: str, line: int, message: str, rule: str = "front-matter") -> Problem:
    return Problem(path, line, "front matter", message, rule=rule)
