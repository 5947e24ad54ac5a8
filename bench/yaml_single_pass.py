"""Prototype: funnel_site.strict_yaml.parse_yaml in one pass over libyaml's events.

The product parses each front matter twice (a prescan over events for aliases, tags and depth, then
compose + construct for the data). This builds the data straight from one event stream with the
same resolver rules, checks aliases/tags/depth on the fly, records key lines, and reproduces the
original's error precedence exactly: event errors first (in stream order), then "a second document",
then the first construction error in PyYAML's breadth-first construction order.

    .venv/bin/python bench/yaml_single_pass.py .bench/corpus-10k    # equivalence + fuzz + timing

Not used by the product; measured for the lead engineer (see docs/performance.md).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

from funnel_site.strict_yaml import MAX_DEPTH, StrictLoader, YamlError, _BaseLoader, _yaml_error, parse_yaml

_RESOLVERS = StrictLoader.yaml_implicit_resolvers
_BOOL = {"true": True, "false": False}


def _timestamp(text: str) -> date | str:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return text


_CONSTRUCT = {
    "tag:yaml.org,2002:bool": lambda text: _BOOL[text.lower()],
    "tag:yaml.org,2002:int": lambda text: int(text) if len(text) <= 100 else Decimal(text),
    "tag:yaml.org,2002:float": Decimal,
    "tag:yaml.org,2002:null": lambda text: None,
    "tag:yaml.org,2002:timestamp": _timestamp,
}


def _scalar(event: yaml.ScalarEvent) -> Any:
    value = event.value
    if event.implicit[0]:
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


def parse_yaml_single(text: str, line_offset: int = 0) -> tuple[Any, dict[str, int]]:
    """Same contract as funnel_site.strict_yaml.parse_yaml, one pass."""
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


def _outcome(function: Any, text: str) -> Any:
    try:
        return ("ok", function(text, 1))
    except YamlError as error:
        return ("error", error.line, error.message)


CASES = [
    "a: 1\nb: [1, 2]\n", "a: 1\na: 2\n", "a:\n  b: 1\n  b: 2\nc: 1\nc: 2\n", "x: &a 1\ny: *a\n", "x: !!str 1\n",
    "- a\n- b\n", "just text\n", "", "# only a comment\n", "a: b: c\n", "a: 'unclosed\n", "a: 1\n---\nb: 2\n",
    "? [1, 2]\n: x\n", "1: one\n", "true: yes\n", "~: null\n", "a: {b: 1, b: 2}\nc: 1\nc: 2\n",
    "l:\n  - {x: 1, x: 2}\nm: 1\nm: 2\n", "? {k: 1, k: 2}\n: v\n", "a: 2026-02-30\nb: 2026-02-28\nc: 1.50\nd: 1e3\n",
    "a: " + "[" * 25 + "]" * 25 + "\n", "a: \x07\n", "a: 1\n  b: 2\n", "a:\n- 1\n-2\n", "n: no\no: 0o17\np: 012\n",
    "x: " + "9" * 120 + "\n", "a: [1, {b: 2}, [3]]\nc: {d: {e: [f]}}\n", "'q': 1\n\"q\": 2\n", "a: !x 1\n",
]


def _mutations(texts: list[str], count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        lines = rng.choice(texts).split("\n")
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(lines))
            action = rng.randrange(6)
            if action == 0:
                lines.insert(i, lines[rng.randrange(len(lines))])  # duplicate a line: duplicate keys
            elif action == 1:
                del lines[i]
            elif action == 2:
                lines[i] = " " + lines[i]
            elif action == 3:
                lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)] + rng.choice([":", "&a", "*a", "!t", "[", "{", "'", "\"", "- ", "? "]) + lines[i]
            elif action == 4:
                lines[i] = lines[i].replace(": ", ":", 1)
            else:
                lines.insert(i, "---")
        out.append("\n".join(lines))
    return out


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".bench/corpus-1k")
    texts = [p.read_text().split("\n---", 1)[0][4:] + "\n" for p in sorted(root.rglob("*.md"))]
    mutated = _mutations(texts, 5000)
    differ = 0
    for text in CASES + texts + mutated:
        if _outcome(parse_yaml, text) != _outcome(parse_yaml_single, text):
            differ += 1
            if differ <= 5:
                print("DIFFERENT:", repr(text[:200]), _outcome(parse_yaml, text), _outcome(parse_yaml_single, text), sep="\n  ")
    errors = sum(_outcome(parse_yaml, t)[0] == "error" for t in CASES + mutated)
    print(f"compared {len(CASES) + len(texts) + len(mutated)} documents ({len(texts)} corpus, {len(mutated)} mutated, "
          f"{errors} of the cases/mutations are errors): {differ} differ")
    samples: dict[str, list[float]] = {"parse_yaml (prescan + compose + construct)": [], "single pass": [],
                                       "yaml.load CSafeLoader (reference, not strict)": []}
    for _ in range(5):
        for name, function in (("parse_yaml (prescan + compose + construct)", lambda t: parse_yaml(t, 1)),
                               ("single pass", lambda t: parse_yaml_single(t, 1)),
                               ("yaml.load CSafeLoader (reference, not strict)", lambda t: yaml.load(t, Loader=_BaseLoader))):
            start = time.perf_counter()
            for text in texts:
                function(text)
            samples[name].append((time.perf_counter() - start) * 1e6 / len(texts))
    print("| loader | ms per 1,000 front matters, median (min–max) of 5 |\n|---|---|")
    for name, values in samples.items():
        print(f"| {name} | {statistics.median(values):.0f} ({min(values):.0f}–{max(values):.0f}) |")


if __name__ == "__main__":
    main()
