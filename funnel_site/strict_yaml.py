"""Strict, predictable YAML: 1.2-like scalars, no aliases, no duplicate keys, bounded depth.

Plain PyYAML follows YAML 1.1, where ``no`` is ``False``, ``01234`` is octal and a duplicate key
silently replaces the first. For a file that holds money and dates that is too surprising, so the
resolvers below accept only ``true``/``false``, decimal integers, numbers with a dot or exponent
(as exact ``Decimal``) and ``YYYY-MM-DD`` dates; everything else stays a string.

The document is built in one pass over libyaml's event stream (no composed node tree): anchors,
aliases, tags and depth are refused as the events arrive, before anything recursive could run, and
the line of every key is recorded on the way. Among several construction errors (duplicate or
non-text keys) the one PyYAML's breadth-first constructor would meet first is reported, so the
messages match the two-pass loader this replaced (tests/strict_yaml_reference.py).

Most front matters never reach that loop: ``parse_common`` reads the usual shapes line by line and
answers only where it can prove libyaml reads them the same way (see the note above it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

MAX_DEPTH = 20
_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_PATTERNS = [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^[-+]?(?:0|[1-9][0-9]*)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?=[eE]))(?:[eE][-+]?[0-9]+)?$",
        "-+.0123456789",
    ),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:timestamp", r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "0123456789"),
]
_RESOLVERS: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
for _tag, _pattern, _first in _PATTERNS:
    for _char in _first:
        _RESOLVERS.setdefault(_char, []).append((_tag, re.compile(_pattern)))


@dataclass(frozen=True)
class YamlError(Exception):
    """A YAML problem at a 1-based line of the file."""

    line: int
    message: str


_BOOL = {"true": True, "false": False}


def _timestamp(text: str) -> date | str:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return text


def _decimal(text: str) -> Decimal | str:
    """A YAML float as an exact Decimal; an exponent beyond what Decimal can hold stays text,
    which the field check then reports as "expected a number" with its key and line."""
    try:
        return Decimal(text)
    except ArithmeticError:
        return text


_CONSTRUCT = {
    "tag:yaml.org,2002:bool": lambda text: _BOOL[text.lower()],
    # int() refuses more than 4300 digits with a bare ValueError; a Decimal lets the field
    # check report "too large" with its key and line instead.
    "tag:yaml.org,2002:int": lambda text: int(text) if len(text) <= 100 else Decimal(text),
    "tag:yaml.org,2002:float": _decimal,
    "tag:yaml.org,2002:null": lambda text: None,
    "tag:yaml.org,2002:timestamp": _timestamp,
}


def _scalar(event: yaml.ScalarEvent) -> Any:
    return _resolve(event.value) if event.implicit[0] else event.value


def _resolve(value: str) -> Any:
    """The value of a plain (unquoted) scalar."""
    for tag, pattern in _RESOLVERS.get(value[0] if value else "", ()):
        if pattern.match(value):
            return _CONSTRUCT[tag](value)
    return value


@dataclass
class _Frame:
    value: dict | list
    path: str
    round: int  # PyYAML constructs breadth-first: this container's entries are built in this round
    in_key: bool  # inside a complex key, whose subtree PyYAML constructs at once
    mark: Any
    key: Any = None
    key_event: Any = None
    has_key: bool = False
    first_line: dict[str, int] = field(default_factory=dict)


def parse_yaml(text: str, line_offset: int = 0) -> tuple[Any, dict[str, int]]:
    """Parse one YAML document; return the data and a map of key path -> 1-based file line.

    Key paths look like ``stage``, ``contact.email``, ``history[1].date``.
    Raises ``YamlError`` for syntax errors, aliases, explicit tags, deep nesting
    and duplicate keys. An impossible date such as 2026-02-30 stays a string.
    """
    if (common := parse_common(text, line_offset)) is not None:
        return common
    return parse_events(text, line_offset)


def parse_events(text: str, line_offset: int = 0) -> tuple[Any, dict[str, int]]:
    """``parse_yaml`` the long way, for any document: one pass over libyaml's events."""
    stack: list[_Frame] = []
    lines: dict[str, int] = {}
    errors: list[tuple[int, int, ConstructorError]] = []  # (round, event index, error)
    root: Any = None
    root_mark = second_document = None
    documents = 0
    try:
        for index, event in enumerate(yaml.parse(text, Loader=_BaseLoader)):
            kind = type(event)
            if kind is yaml.ScalarEvent or kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                if event.anchor:
                    raise YamlError(event.start_mark.line + 1 + line_offset, "anchors and aliases (&, *) are not allowed; write the value out")
                if event.tag:
                    tag = event.tag.replace("tag:yaml.org,2002:", "!!")
                    raise YamlError(event.start_mark.line + 1 + line_offset, f"YAML tags such as '{tag}' are not allowed")
                if kind is yaml.ScalarEvent:
                    root = _place(stack, lines, errors, index, event, _scalar(event), line_offset, root)
                    if not stack and root_mark is None:
                        root_mark = event.start_mark
                    continue
                if len(stack) + 1 > MAX_DEPTH:
                    raise YamlError(event.start_mark.line + 1 + line_offset, f"nested deeper than {MAX_DEPTH} levels")
                stack.append(_open(stack, lines, event, {} if kind is yaml.MappingStartEvent else [], line_offset))
                if len(stack) == 1 and root_mark is None:
                    root_mark = event.start_mark
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                frame = stack.pop()
                root = _place(stack, lines, errors, index, frame, frame.value, line_offset, root)
            elif kind is yaml.AliasEvent:
                raise YamlError(event.start_mark.line + 1 + line_offset, "anchors and aliases (&, *) are not allowed; write the value out")
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents == 2:
                    second_document = event.start_mark
    except yaml.MarkedYAMLError as error:
        raise _yaml_error(error, line_offset) from None
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 1 + line_offset
        char = error.character if isinstance(error.character, int) else ord(error.character)
        raise YamlError(line, f"control character U+{char:04X} is not allowed") from None
    if second_document is not None:
        error = ComposerError("expected a single document in the stream", root_mark, "but found another document", second_document)
        raise _yaml_error(error, line_offset)
    if errors:
        raise _yaml_error(min(errors, key=lambda e: (e[0], e[1]))[2], line_offset)
    return root, lines if documents else {}


def _open(stack: list[_Frame], lines: dict[str, int], event: Any, value: dict | list, offset: int) -> _Frame:
    if not stack:
        return _Frame(value, "", 0, False, event.start_mark)
    parent = stack[-1]
    as_key = isinstance(parent.value, dict) and not parent.has_key
    path = _child_path(parent, lines, event, offset) if not as_key else ""
    in_key = parent.in_key or as_key
    return _Frame(value, path, parent.round if in_key else parent.round + 1, in_key, event.start_mark)


def _child_path(parent: _Frame, lines: dict[str, int], event: Any, offset: int) -> str:
    """Key path of a value about to be placed in ``parent``; a sequence item's line is recorded here."""
    if isinstance(parent.value, list):
        path = f"{parent.path}[{len(parent.value)}]"
        if not parent.in_key:
            lines[path] = event.start_mark.line + 1 + offset
        return path
    key = parent.key
    return f"{parent.path}.{key}" if parent.path else str(key)


def _place(stack: list[_Frame], lines: dict[str, int], errors: list, index: int, event: Any, value: Any,
           offset: int, root: Any) -> Any:
    """Put a finished value into the enclosing container (or return it as the document's root)."""
    if not stack:
        return value
    parent = stack[-1]
    if isinstance(parent.value, list):
        if isinstance(event, yaml.ScalarEvent):
            _child_path(parent, lines, event, offset)
        parent.value.append(value)
        return root
    if not parent.has_key:
        parent.key, parent.key_event, parent.has_key = value, event, True
        start = event.mark if isinstance(event, _Frame) else event.start_mark
        if not isinstance(value, str):
            errors.append((parent.round, index, ConstructorError(None, None, f"keys must be text, got {value!r}", start)))
            parent.key = None
        elif value in parent.first_line:
            message = f"duplicate key '{value}' (first on line {parent.first_line[value]})"
            errors.append((parent.round, index, ConstructorError(None, None, message, start)))
            parent.key = None
        else:
            parent.first_line[value] = start.line + 1 + offset
            if not parent.in_key:
                lines[f"{parent.path}.{value}" if parent.path else value] = start.line + 1 + offset
        return root
    if parent.key is not None:
        parent.value[parent.key] = value
    parent.has_key = False
    return root


def _yaml_error(error: yaml.MarkedYAMLError, line_offset: int) -> YamlError:
    mark = error.problem_mark or error.context_mark
    line = (mark.line + 1 if mark else 1) + line_offset
    if error.problem == "but found another document":
        return YamlError(line, "a second YAML document starts here; remove this '---' line")
    message = error.problem or error.context or "invalid YAML"
    if error.context and error.problem and "duplicate" not in error.problem:
        context = error.context
        start = error.context_mark
        if start is not None and start.line + 1 + line_offset != line:
            context = f"{context} that starts on line {start.line + 1 + line_offset}"
        message = f"{message} ({context})"
    hint = _HINTS.get(error.problem or "")
    return YamlError(line, f"{message}; {hint}" if hint else message)


# The YAML errors people actually make, and what to do about them.
_HINTS = {
    "mapping values are not allowed in this context": "put a value containing ': ' in quotes, and check the indentation",
    "could not find expected ':'": "each line needs 'key: value'; check the indentation and quotes",
}


# The fast path: front matter nearly always has one shape -- `key: value` lines, nested mappings,
# `- key: value` lists and one-line `[a, b]` lists -- which a line-by-line reader takes in a fifth of
# the time libyaml's event stream costs in Python: what a line says apart from where it stands is
# worked out once per distinct line, and front matters repeat most of theirs (owners, stages, dates,
# flags, history entries). It accepts only what it can prove libyaml reads the same way, and hands
# everything else (comments, multi-line or special scalars, any error) to the event loop above, so
# data, line map and every message stay the same (tests/test_strict_yaml.py compares both paths on
# the corpus and on random mutations).

# Characters libyaml reads as printable and not as a line break; anything else goes the long way.
_UNUSUAL = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_ENTRY = re.compile(r"([A-Za-z_][A-Za-z0-9_-]{0,99}):(?: +(.*))?$")
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW_UNSAFE = frozenset("[]{}#:'\"")  # commas separate the items
_COMMON_DEPTH = 10
_NOT_COMMON = object()


def parse_common(text: str, line_offset: int = 0) -> tuple[dict[str, Any], dict[str, int]] | None:
    """``parse_yaml``'s result for a document of the common shape; None for anything else."""
    if _UNUSUAL.search(text):
        return None
    root: dict[str, Any] = {}
    lines: dict[str, int] = {}
    stack: list[tuple[int, dict | list, str]] = [(0, root, "")]  # (indent, container, key path)
    pending: tuple[dict, str, str, int] | None = None  # a `key:` whose value starts on a later line
    number = line_offset
    for line in text.split("\n"):
        number += 1
        shape = _SHAPES.get(line)
        if shape is None:
            shape = _remember_shape(line)
        if shape is _BLANK:
            continue
        if shape is _NOT_COMMON:
            return None
        indent, item, column, key, kind, value = shape
        if pending is not None:
            container, pending_key, path, parent_indent = pending
            pending = None
            if indent > parent_indent or (item and indent == parent_indent):
                if len(stack) >= _COMMON_DEPTH:
                    return None
                child: dict | list = [] if item else {}
                container[pending_key] = child
                stack.append((indent, child, path))
        while indent < stack[-1][0]:
            stack.pop()
        top_indent, container, path = stack[-1]
        if indent != top_indent:
            return None
        if item:
            if type(container) is not list:
                return None
            path = f"{path}[{len(container)}]"
            lines[path] = number
            if key is None:
                container.append(value)
                continue
            if len(stack) >= _COMMON_DEPTH:
                return None
            child = {}
            container.append(child)
            stack.append((column, child, path))
            container = child
        elif type(container) is list:
            if len(stack) > 1 and stack[-2][0] == indent:
                stack.pop()  # the end of a list written at its key's indentation
                top_indent, container, path = stack[-1]
            if type(container) is list:
                return None
        if key in container:
            return None  # a duplicate key: the long way reports it
        path = f"{path}.{key}" if path else key
        lines[path] = number
        if kind is _NESTED:
            container[key] = None
            pending = (container, key, path, column)
        elif kind is _FLOW:
            container[key] = list(value)
            for index in range(len(value)):
                lines[f"{path}[{index}]"] = number
        else:
            container[key] = value
    return (root, lines) if root else None


_SCALAR, _NESTED, _FLOW = object(), object(), object()  # `key: value`, `key:` (value on the next lines), `key: [a, b]`
_BLANK = object()


class _Shape(NamedTuple):
    """What one line says, apart from where it stands."""

    indent: int
    item: bool  # starts with `- `
    column: int  # where the key starts: ``indent`` or, in an item, after the `- `
    key: str | None  # None for an item that is a scalar
    kind: object  # _SCALAR, _NESTED or _FLOW
    value: Any  # the scalar, or the flow list's values as a tuple (each document gets its own list)


_SHAPES: dict[str, Any] = {}  # line -> _Shape, _BLANK or _NOT_COMMON
_SHAPES_MAX = 1 << 16


def _remember_shape(line: str) -> Any:
    """``_shape(line)``, kept for the next front matter with the same line."""
    shape = _shape(line)
    if len(_SHAPES) >= _SHAPES_MAX:
        _SHAPES.clear()  # a small table is quicker to look up than one kept full, and the lines that repeat are back soon
    _SHAPES[line] = shape  # immutable, like every value in it (see _RESOLVED): sharing is safe
    return shape


def _shape(line: str) -> Any:
    """The _Shape of a line, _BLANK, or _NOT_COMMON for a line this path does not read."""
    body = line.lstrip(" ")
    if not body:
        return _BLANK
    indent = column = len(line) - len(body)
    item = body.startswith("- ")
    if item:
        body = body[2:].lstrip(" ")
        column = len(line) - len(body)
    entry = _ENTRY.match(body)
    if entry is None:
        if not item:
            return _NOT_COMMON
        value = _common_scalar(body.rstrip(" "))
        return _NOT_COMMON if value is _NOT_COMMON else _Shape(indent, True, column, None, _SCALAR, value)
    key, rest = entry.group(1), (entry.group(2) or "").rstrip(" ")
    if type(_resolve_common(key)) is not str:
        return _NOT_COMMON  # a non-text key: the long way reports it
    if not rest:
        return _Shape(indent, item, column, key, _NESTED, None)
    if rest[0] == "[":
        values = _flow_list(rest)
        return _NOT_COMMON if values is None else _Shape(indent, item, column, key, _FLOW, tuple(values))
    value = _common_scalar(rest)
    return _NOT_COMMON if value is _NOT_COMMON else _Shape(indent, item, column, key, _SCALAR, value)


def _common_scalar(text: str) -> Any:
    """A one-line plain or quoted scalar without escapes (``text`` has no outer spaces)."""
    if not text:
        return _NOT_COMMON
    first = text[0]
    if first == '"' or first == "'":
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != first or first in inner or "\\" in inner:
            return _NOT_COMMON
        return inner
    if first in _INDICATORS or ": " in text or " #" in text or text[-1] == ":":
        return _NOT_COMMON
    return _resolve_common(text)


_RESOLVED: dict[str, Any] = {}  # stages, owners, dates, flags: front matters repeat most of their values
_RESOLVED_MAX = 1 << 16


def _resolve_common(text: str) -> Any:
    value = _RESOLVED.get(text, _NOT_COMMON)
    if value is not _NOT_COMMON:
        return value
    value = _resolve(text)
    if len(_RESOLVED) >= _RESOLVED_MAX:
        _RESOLVED.clear()
    _RESOLVED[text] = value  # every value is immutable (str, int, Decimal, date, bool, None): sharing is safe
    return value


def _flow_list(text: str) -> list[Any] | None:
    """A one-line ``[a, b]`` of plain scalars."""
    if text[-1] != "]":
        return None
    inner = text[1:-1]
    if not _FLOW_UNSAFE.isdisjoint(inner):
        return None
    if not inner.strip(" "):
        return []
    values = []
    for part in inner.split(","):
        part = part.strip(" ")
        if not part or part[0] in _INDICATORS or (value := _resolve_common(part)) is _NOT_COMMON:
            return None
        values.append(value)
    return values
