# Reference for the tests: the earlier two-pass strict loader (prescan, then compose + construct).
# funnel_site.strict_yaml parses in one pass over the event stream; tests/test_strict_yaml.py checks
# that both give the same data, line maps and errors. Kept verbatim apart from this comment.
"""Strict, predictable YAML: 1.2-like scalars, no aliases, no duplicate keys, bounded depth.

Plain PyYAML follows YAML 1.1, where ``no`` is ``False``, ``01234`` is octal and a duplicate key
silently replaces the first. For a file that holds money and dates that is too surprising, so the
resolvers below accept only ``true``/``false``, decimal integers, numbers with a dot or exponent
(as exact ``Decimal``) and ``YYYY-MM-DD`` dates; everything else stays a string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_DEPTH = 20
_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_RESOLVERS = [
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


class StrictLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """A safe loader with YAML-1.2-like implicit types and duplicate-key detection."""

    yaml_implicit_resolvers: dict = {}
    line_offset = 0  # lines of the file before the YAML text (the opening '---')

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[str, Any]:
        if not isinstance(node, MappingNode):
            raise ConstructorError(None, None, "expected a mapping", node.start_mark)
        mapping: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise ConstructorError(None, None, f"keys must be text, got {key!r}", key_node.start_mark)
            if key in first_line:
                raise ConstructorError(
                    None, None,
                    f"duplicate key '{key}' (first on line {first_line[key]})",
                    key_node.start_mark,
                )
            first_line[key] = key_node.start_mark.line + 1 + self.line_offset
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_yaml_map(self, node: Node):  # type: ignore[no-untyped-def]
        data: dict[str, Any] = {}
        yield data
        data.update(self.construct_mapping(node))

    def construct_yaml_int(self, node: ScalarNode) -> int | Decimal:
        text = self.construct_scalar(node)
        # int() refuses more than 4300 digits with a bare ValueError; a Decimal lets the
        # field check report "too large" with its key and line instead.
        return int(text) if len(text) <= 100 else Decimal(text)

    def construct_yaml_float(self, node: ScalarNode) -> Decimal | str:
        text = self.construct_scalar(node)
        try:
            return Decimal(text)
        except ArithmeticError:  # an exponent beyond Decimal's range stays text ("expected a number")
            return text

    def construct_yaml_timestamp(self, node: ScalarNode) -> date | str:
        text = self.construct_scalar(node)
        try:
            return date.fromisoformat(text)
        except ValueError:
            return text  # e.g. 2026-02-30: the field check reports it with its key and line


for _tag, _pattern, _first in _RESOLVERS:
    StrictLoader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))
StrictLoader.add_constructor("tag:yaml.org,2002:map", StrictLoader.construct_yaml_map)
StrictLoader.add_constructor("tag:yaml.org,2002:int", StrictLoader.construct_yaml_int)
StrictLoader.add_constructor("tag:yaml.org,2002:float", StrictLoader.construct_yaml_float)
StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", StrictLoader.construct_yaml_timestamp)


@dataclass(frozen=True)
class YamlError(Exception):
    """A YAML problem at a 1-based line of the file."""

    line: int
    message: str


def parse_yaml(text: str, line_offset: int = 0) -> tuple[Any, dict[str, int]]:
    """Parse one YAML document; return the data and a map of key path -> 1-based file line.

    Key paths look like ``stage``, ``contact.email``, ``history[1].date``.
    Raises ``YamlError`` for syntax errors, aliases, explicit tags, deep nesting
    and duplicate keys. An impossible date such as 2026-02-30 stays a string.
    """
    _prescan(text, line_offset)
    loader = StrictLoader(text)
    loader.line_offset = line_offset
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        raise _yaml_error(error, line_offset) from None
    finally:
        loader.dispose()
    lines: dict[str, int] = {}
    if node is not None:
        _collect_lines(node, "", lines, line_offset)
    return data, lines


def _prescan(text: str, line_offset: int) -> None:
    """Refuse aliases, anchors, tags and deep nesting before the recursive composer sees them."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_BaseLoader):
            line = event.start_mark.line + 1 + line_offset
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise YamlError(line, "anchors and aliases (&, *) are not allowed; write the value out")
            if getattr(event, "tag", None) and not isinstance(event, yaml.DocumentStartEvent):
                tag = event.tag.replace("tag:yaml.org,2002:", "!!")
                raise YamlError(line, f"YAML tags such as '{tag}' are not allowed")
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise YamlError(line, f"nested deeper than {MAX_DEPTH} levels")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.MarkedYAMLError as error:
        raise _yaml_error(error, line_offset) from None
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 1 + line_offset
        char = error.character if isinstance(error.character, int) else ord(error.character)
        raise YamlError(line, f"control character U+{char:04X} is not allowed") from None


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


def _collect_lines(node: Node, path: str, lines: dict[str, int], offset: int) -> None:
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            key_path = f"{path}.{key_node.value}" if path else str(key_node.value)
            lines[key_path] = key_node.start_mark.line + 1 + offset
            _collect_lines(value_node, key_path, lines, offset)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            item_path = f"{path}[{index}]"
            lines[item_path] = item.start_mark.line + 1 + offset
            _collect_lines(item, item_path, lines, offset)
