"""Text-level edits of a lead's front matter that keep every other byte of the file.

Re-serialising the YAML would drop comments, quoting, key order and line endings, so the edits
work on lines: replace one scalar, insert one key, append one history entry. After every edit the
front matter is parsed again, and ``verify`` proves that the data changed exactly as intended.
"""

from __future__ import annotations

import codecs
import copy
import json
import re
from datetime import date
from typing import Any

import yaml

from funnel_site.frontmatter import FENCE, split_lead
from funnel_site.strict_yaml import YamlError, parse_yaml


class EditError(Exception):
    """The front matter is laid out in a way these line edits cannot handle safely."""


def yaml_scalar(text: str) -> str:
    """``text`` as a YAML scalar: plain when it reads back as the same string, else double-quoted."""
    if text and text == text.strip() and "\n" not in text:
        try:
            data, _ = parse_yaml(f"k: {text}\n")
        except (YamlError, yaml.YAMLError):
            data = None
        if data == {"k": text}:
            return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


class LeadDocument:
    """A lead file as lines (each with its own line ending) plus the parsed front matter."""

    def __init__(self, path: str, raw: bytes) -> None:
        self.path = path
        self.bom = codecs.BOM_UTF8 if raw.startswith(codecs.BOM_UTF8) else b""
        text = raw[len(self.bom) :].decode("utf-8")
        self.lines: list[str] = re.findall(r"[^\n]*\n|[^\n]+$", text)
        self.newline = "\r\n" if self.lines and self.lines[0].endswith("\r\n") else "\n"
        self._reparse()
        self.original_body = self.body
        self.expected: dict[str, Any] = copy.deepcopy(self.data)

    def to_bytes(self) -> bytes:
        return self.bom + "".join(self.lines).encode("utf-8")

    def _reparse(self) -> None:
        source, problem = split_lead(self.path, "".join(self.lines))
        if source is None:
            raise EditError(problem.message if problem else "the front matter cannot be read")
        self.data, self.key_lines, self.body = source.data, source.lines, source.body
        self.closing = next(i for i in range(1, len(self.lines)) if self.lines[i].rstrip() in (FENCE, "..."))

    # -- locating ----------------------------------------------------------------------------

    def _key_start(self, key: str) -> int:
        index = self.key_lines[key] - 1
        if not re.match(rf"""^(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')[ ]*:""", self.lines[index]):
            raise EditError(f"'{key}' is not written as 'key: value' at the start of line {index + 1}")
        return index

    def _extent(self, start: int) -> int:
        """The index after the last line that belongs to the key starting at ``start``."""
        end = index = start + 1
        while index < self.closing:
            line = self.lines[index]
            if line.startswith((" ", "-", "]", "}")):  # indented, a sequence at column 0, or a flow closing
                index += 1
                end = index
            elif not line.strip() or line.startswith("#"):
                index += 1  # a blank line or comment belongs to the key only if the value goes on
            else:
                break
        return end

    # -- edits -------------------------------------------------------------------------------

    def set(self, key: str, value: Any, text: str, after: tuple[str, ...]) -> None:
        """Set top-level ``key`` to the scalar ``text`` (``value`` is what it reads back as)."""
        if key in self.key_lines:
            start = self._key_start(key)
            end = self._extent(start)
            single = _replace_scalar(self.lines[start], text)
            only_comments = all(line.strip().startswith("#") or not line.strip() for line in self.lines[start + 1 : end])
            if single is not None and only_comments:
                self.lines[start] = single
            else:
                self.lines[start:end] = [f"{key}: {text}{self.newline}"]
        else:
            self.lines.insert(self._insert_at(after), f"{key}: {text}{self.newline}")
        self.expected[key] = value
        self._reparse()

    def _insert_at(self, after: tuple[str, ...]) -> int:
        for anchor in after:
            if anchor in self.key_lines and anchor in self.data:
                return self._extent(self._key_start(anchor))
        return self.closing

    def append_history(self, when: date, stage: str) -> None:
        """Append ``{date, stage}`` to ``history`` in the style the file already uses."""
        old = self.data.get("history")
        entry = {"date": when, "stage": stage}
        if "history" not in self.key_lines:
            block = ["history:", f"  - date: {when.isoformat()}", f"    stage: {yaml_scalar(stage)}"]
            at = self.closing
            self.lines[at:at] = [line + self.newline for line in block]
        else:
            self._append_to_existing(entry, old)
        self.expected["history"] = [*(old or []), entry]
        self._reparse()

    def _append_to_existing(self, entry: dict[str, Any], old: Any) -> None:
        start = self._key_start("history")
        end = self._extent(start)
        chunk = "".join(self.lines[start:end])
        value_at = _value_start(chunk, chunk.index(":") + 1)
        keys = list(old[-1]) if isinstance(old, list) and old and isinstance(old[-1], dict) else ["date", "stage"]
        values = {"date": entry["date"].isoformat(), "stage": yaml_scalar(entry["stage"])}
        if value_at < len(chunk) and chunk[value_at] == "[":
            chunk = _append_to_flow(chunk, value_at, _flow_item(keys, values, spaced=False))
            self.lines[start:end] = re.findall(r"[^\n]*\n|[^\n]+$", chunk)
        elif value_at >= len(chunk) or chunk[value_at] == "-":
            self.lines[end:end] = self._block_item(start, end, keys, values)
        else:
            raise EditError("history is not a list")

    def _block_item(self, start: int, end: int, keys: list[str], values: dict[str, str]) -> list[str]:
        """A new sequence item shaped like the last one (flow ``- {…}`` or block ``- key: …``)."""
        dash_lines = [i for i in range(start + 1, end) if self.lines[i].lstrip(" ").startswith("-")]
        if not dash_lines:
            return [f"  - {keys[0]}: {values[keys[0]]}{self.newline}"] + [f"    {k}: {values[k]}{self.newline}" for k in keys[1:]]
        line = self.lines[dash_lines[-1]].rstrip("\r\n")
        dash = len(line) - len(line.lstrip(" "))
        after_dash = line[dash + 1 :]
        if after_dash.lstrip(" ").startswith("{"):
            spaced = after_dash.lstrip(" ").startswith("{ ")
            return [f"{line[: dash + 1]}{after_dash[: len(after_dash) - len(after_dash.lstrip(' '))]}{_flow_item(keys, values, spaced)}{self.newline}"]
        gap = len(after_dash) - len(after_dash.lstrip(" ")) if after_dash.strip() else 1
        indent = dash + 1 + max(gap, 1)
        first = f"{' ' * dash}-{' ' * max(gap, 1)}{keys[0]}: {values[keys[0]]}{self.newline}"
        return [first] + [f"{' ' * indent}{k}: {values[k]}{self.newline}" for k in keys[1:]]

    # -- proof -------------------------------------------------------------------------------

    def verify(self) -> None:
        """The data changed exactly as intended and the notes are untouched; else EditError."""
        if self.data != self.expected:
            raise EditError("the edited front matter does not read back as intended")
        if self.body != self.original_body:
            raise EditError("the edit would change the notes")


def _replace_scalar(line: str, text: str) -> str | None:
    """``key: old  # comment`` -> ``key: text  # comment``; None when the value is not a one-line scalar."""
    content = line.rstrip("\r\n")
    ending = line[len(content) :]
    colon = _key_colon(content)
    head, after = content[: colon + 1], content[colon + 1 :]
    value_start = len(after) - len(after.lstrip(" "))
    rest = after[value_start:]
    if not rest or rest.startswith("#"):
        return f"{head} {text}{' ' + rest if rest else ''}{ending}"
    if rest[0] in "|>[{&*!":
        return None
    end = _scalar_end(rest)
    if end is None:
        return None
    return f"{head}{after[:value_start]}{text}{rest[end:]}{ending}"


def _key_colon(content: str) -> int:
    if content[:1] in "\"'":
        return content.index(content[0], 1) + content[content.index(content[0], 1) :].index(":")
    return content.index(":")


def _scalar_end(rest: str) -> int | None:
    """Where a one-line scalar ends in ``rest`` (which starts at the value)."""
    if rest[0] in "\"'":
        end = _skip_quoted(rest, 0)
        return end if end <= len(rest) and rest[end - 1] == rest[0] else None
    comment = re.search(r"\s#", rest)
    value = rest[: comment.start()] if comment else rest
    return len(value.rstrip(" "))


def _skip_quoted(text: str, start: int) -> int:
    """The index after the quoted scalar opening at ``start``."""
    quote, index = text[start], start + 1
    while index < len(text):
        char = text[index]
        if quote == '"' and char == "\\":
            index += 2
            continue
        if char == quote:
            if quote == "'" and text[index + 1 : index + 2] == "'":
                index += 2
                continue
            return index + 1
        index += 1
    return len(text) + 1


def _value_start(chunk: str, index: int) -> int:
    """The first character of a value, skipping spaces, line breaks and comments."""
    while index < len(chunk):
        char = chunk[index]
        if char == "#":
            newline = chunk.find("\n", index)
            index = len(chunk) if newline < 0 else newline
        elif char.isspace():
            index += 1
        else:
            return index
    return index


def _append_to_flow(chunk: str, opening: int, item: str) -> str:
    """Insert ``item`` as the last element of the flow sequence opening at ``opening``."""
    depth, index, last = 0, opening, opening
    while index < len(chunk):
        char = chunk[index]
        if char in "\"'":
            index = last = _skip_quoted(chunk, index)
            continue
        if char == "#" and chunk[index - 1] in " \t\n":
            newline = chunk.find("\n", index)
            index = len(chunk) if newline < 0 else newline
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                separator = "" if chunk[last - 1] == "[" else " " if chunk[last - 1] == "," else ", "
                return chunk[:last] + separator + item + chunk[last:]
        if not char.isspace():
            last = index + 1
        index += 1
    raise EditError("history: cannot find the closing ']'")


def _flow_item(keys: list[str], values: dict[str, str], spaced: bool) -> str:
    inner = ", ".join(f"{key}: {values[key]}" for key in keys)
    return f"{{ {inner} }}" if spaced else f"{{{inner}}}"
