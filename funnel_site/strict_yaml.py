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
import sys
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import compress, repeat
from operator import is_, itemgetter
from typing import Any, Callable, NoReturn, Sequence

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


class LineMap(dict[str, int]):
    """A document's map of key path -> 1-based file line, read-only: the documents of one outline share one map
    (``parse_common``), and a chunk's pickle then writes it once for all its leads (a memo reference instead of
    a dict a lead). A dict underneath, so that looking up a line costs what it costs in a dict."""

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a line map is read-only: documents of one outline share it")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _read_only  # type: ignore[assignment]

    def __reduce__(self) -> tuple[type[LineMap], tuple[dict[str, int]]]:
        return LineMap, (dict(self),)  # unpickling a dict subclass's items would call the refused __setitem__


_NO_LINES = LineMap()
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


def parse_yaml(text: str, line_offset: int = 0) -> tuple[Any, LineMap]:
    """Parse one YAML document; return the data and a map of key path -> 1-based file line.

    Key paths look like ``stage``, ``contact.email``, ``history[1].date``. Keys and key paths are
    interned: every lead repeats them, and one copy per process is what a lead's memory is made of;
    documents of one outline share their whole line map (``LineMap``).
    Raises ``YamlError`` for syntax errors, aliases, explicit tags, deep nesting
    and duplicate keys. An impossible date such as 2026-02-30 stays a string.
    """
    if (common := parse_common(text, line_offset)) is not None:
        return common
    return parse_events(text, line_offset)


def parse_events(text: str, line_offset: int = 0) -> tuple[Any, LineMap]:
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
    return root, LineMap(lines) if documents else _NO_LINES


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
            lines[sys.intern(path)] = event.start_mark.line + 1 + offset
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
            parent.key = sys.intern(value)  # see parse_yaml: one copy of each key per process
            parent.first_line[value] = start.line + 1 + offset
            if not parent.in_key:
                lines[sys.intern(f"{parent.path}.{value}" if parent.path else value)] = start.line + 1 + offset
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
# `- key: value` lists and one-line `[a, b]` lists -- which a line-by-line reader takes in a fraction of
# the time libyaml's event stream costs in Python. It accepts only what it can prove libyaml reads the
# same way, and hands everything else (comments, multi-line or special scalars, any error) to the event
# loop above, so data, line map and every message stay the same (tests/test_strict_yaml.py compares
# both paths on the corpus and on random mutations).
#
# Front matters repeat themselves twice over, and the reader is paid for once per repetition: what a
# line says is worked out once per distinct line (its form -- indentation, key, kind -- and its value;
# the part before the key's ':' once per distinct head, as most new lines are known keys with new values),
# and how a document's lines nest is worked out once per distinct sequence of forms, the document's
# outline (leads written from one template share a few outlines). The outline's plan holds the line map,
# which all its documents share, and the shape of the data, which builds it from the lines' values in a few C calls.

# The characters libyaml does not read as printable, or reads as a line break (all but \n, \x20-\x7e,
# \xa0-\u2027, \u202a-\ud7ff, \ue000-\ufefe, \uff00-\ufffd and the astral planes): a line with one goes the
# long way. Listed, not negated: the same set, compiled in 1 ms instead of 10 at every start. Within ASCII it is
# what ``str.isprintable`` refuses (a line holds no \n), which answers for most lines in under half the search's time.
_UNUSUAL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
# An entry's head, all before the `:` of `key: value`: its indentation, an item's `- ` and its key.
_HEAD = re.compile(r"( *)(- +)?([A-Za-z_][A-Za-z0-9_-]{0,99})")
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW_UNSAFE = frozenset("[]{}#:'\"")  # commas separate the items
_COMMON_DEPTH = 10
_NOT_COMMON = object()
_BLANK = object()
_SCALAR, _NESTED, _FLOW = object(), object(), object()  # `key: value`, `key:` (value on the next lines), `key: [a, b]`


# What one line says apart from where it stands and what its value is: (indent, item -- it starts with
# `- `, column -- where the key starts: indent or, in an item, after the `- `, key -- None for an item
# that is a scalar, kind -- _SCALAR, _NESTED or _FLOW, size -- a flow list's number of values, which the
# line map names one by one, otherwise 0). A plain tuple: a named one takes eight times as long to make.
_Form = tuple[int, bool, int, "str | None", object, int]


# In a plan's outline of the data, the value of the document's line ``index`` is written ``index`` (an int), or
# ``(index,)`` for a flow list (each document gets its own list of the values); mappings, lists and None (a `key:`
# with nothing below it) stand for themselves. Only builtin types: the outline's ``repr`` is made in C, and names
# its shape (a named tuple's ``repr`` took as long as writing the shape's expression, ~13 us an outline).
_Outline = Any


Build = Callable[[Sequence[Any]], Any]
_Plan = tuple["_Shape", LineMap]  # what documents of one outline read as: their data's shape, their (shared) line map


class _Shape:
    """How the data of documents of one shape -- its keys, nesting and the line of each value -- is built from
    the lines' values. Outlines that differ only where the data does not (a flow list's number of values, the
    indentation of a list's items) share their shape: at 10k leads ~230 outlines have ~60 shapes.

    The data is built by a tree of small functions at first; a shape that keeps coming back is compiled
    into one Python expression of the lines' values (a dict display, as ``dataclasses`` and ``namedtuple``
    write the code of their methods), which builds a lead's data five times as quickly (~1.5 against ~8 us)
    but takes ~180 us to compile: worth it only for the shapes many documents share."""

    __slots__ = ("build", "outline", "uses")

    def __init__(self, outline: _Outline) -> None:
        self.outline = outline
        self.build: Build = _builder(outline)
        self.uses = 0

    def data(self, values: Sequence[Any]) -> Any:
        """The data of a document of this shape, from its lines' values."""
        self.uses += 1
        if self.uses == _COMPILE_AFTER:
            source = _expression(self.outline)  # written only for the shapes compiled
            self.build = eval(f"lambda values: {source}", {"list": list})  # keys are _HEAD's, written by repr
        return self.build(values)


# Forms are numbered (a document's outline is the tuple of its lines' numbers, quick to look up). A full
# table is emptied (a small table is quicker to use than a full one, and what repeats is back soon): the
# lines' and heads' alone -- there are many more distinct lines than forms or outlines --, or all of them
# when the forms or plans are full, as the numbers of forms start afresh.
_FORM_NUMBERS: dict[_Form | object, int] = {}  # _Form, _BLANK or _NOT_COMMON -> number
_FORMS: list[_Form | object] = []  # number -> _Form, _BLANK or _NOT_COMMON
_LINES: dict[str, tuple[int, Any]] = {}  # line -> its form's number and its value
_HEADS: dict[str, tuple[int, bool, int, str] | None] = {}  # an entry's head -> indent, item, column and key
_PLANS: dict[tuple[int, tuple[int, ...]], _Plan | None] = {}  # (line offset, outline) -> plan, None: not common
_SHAPES: dict[str, _Shape] = {}  # repr of a shape's outline -> shape
_LINES_MAX = 1 << 16
_COMPILE_AFTER = 8  # documents of one shape (at 10k leads, ~60 shapes serve all the documents)
_FORMS_MAX = _PLANS_MAX = 1 << 12


def _forget_lines() -> None:
    """Empty the tables of lines, heads, forms, plans and shapes (the numbers of forms start afresh)."""
    for table in (_FORM_NUMBERS, _FORMS, _LINES, _HEADS, _PLANS, _SHAPES):
        table.clear()
    for form in (_BLANK, _NOT_COMMON):
        _FORM_NUMBERS[form] = len(_FORMS)
        _FORMS.append(form)


_forget_lines()
_NOT_COMMON_NUMBER = _FORM_NUMBERS[_NOT_COMMON]


def parse_common(text: str, line_offset: int = 0) -> tuple[dict[str, Any], LineMap] | None:
    """``parse_yaml``'s result for a document of the common shape; None for anything else."""
    if len(_FORMS) >= _FORMS_MAX or len(_PLANS) >= _PLANS_MAX:
        _forget_lines()  # before the document's lines are numbered, never in the middle
    elif len(_LINES) >= _LINES_MAX:
        _LINES.clear()
        _HEADS.clear()  # no more heads than lines
    lines = text.split("\n")
    known = list(map(_LINES.get, lines))  # one look-up a line: its form's number and its value are kept together
    if None in known:
        for index in compress(range(len(lines)), map(is_, known, repeat(None))):
            line = lines[index]
            known[index] = _LINES[line] if line in _LINES else _remember_line(line)  # a line new twice in the document
    forms, values = zip(*known)
    if _NOT_COMMON_NUMBER in forms:
        return None
    outline = (line_offset, forms)
    plan = _PLANS.get(outline, _NOT_COMMON)  # one look-up: a tuple's hash is worked out anew each time
    if plan is _NOT_COMMON:
        plan = _remember_plan(outline)
    if plan is None:
        return None
    shape, line_map = plan
    return shape.data(values), line_map


def _remember_line(line: str) -> tuple[int, Any]:
    """The form number and value of a line, kept for the front matters with the same line."""
    form, value = _read_line(line)
    number = _FORM_NUMBERS.get(form)
    if number is None:
        number = _FORM_NUMBERS[form] = len(_FORMS)
        _FORMS.append(form)
    known = _LINES[line] = number, value  # the value is immutable, like every value in it (see _RESOLVED): sharing is safe
    return known


def _remember_plan(outline: tuple[int, tuple[int, ...]]) -> _Plan | None:
    """The plan of an outline (None where this path does not answer), kept for the next documents of it."""
    line_offset, forms = outline
    template = _nest([_FORMS[number] for number in forms], line_offset)
    plan = None
    if template is not None:
        data, lines = template
        name = repr(data)  # the same for outlines of the same shape, different for any other (see _Outline)
        shape = _SHAPES.get(name)
        if shape is None:
            shape = _SHAPES[name] = _Shape(data)
        plan = shape, LineMap(lines)
    _PLANS[outline] = plan
    return plan


def _nest(forms: list[Any], line_offset: int) -> tuple[dict[str, Any], dict[str, int]] | None:
    """The outline of a document's data (_Outline: each line's value as its index), and its line map; None
    where this path does not answer."""
    root: dict[str, Any] = {}
    lines: dict[str, int] = {}
    stack: list[tuple[int, dict | list, str]] = [(0, root, "")]  # (indent, container, key path)
    pending: tuple[dict, str, str, int] | None = None  # a `key:` whose value starts on a later line
    for index, form in enumerate(forms):
        if form is _BLANK:
            continue
        number = line_offset + index + 1
        indent, item, column, key, kind, size = form
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
            lines[sys.intern(path)] = number
            if key is None:
                container.append(index)
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
        lines[sys.intern(path)] = number
        if kind is _NESTED:
            container[key] = None
            pending = (container, key, path, column)
        else:
            container[key] = (index,) if kind is _FLOW else index
            for position in range(size):
                lines[sys.intern(f"{path}[{position}]")] = number
    return (root, lines) if root else None


def _builder(outline: _Outline) -> Build:
    """A function of the lines' values that builds the data ``outline`` stands for, with new containers each time.

    A mapping takes all its scalars in one ``zip`` and then only its containers one by one."""
    if outline is None:  # a `key:` with nothing below it
        return lambda values: None
    if type(outline) is int:
        return itemgetter(outline)
    if type(outline) is tuple:  # a flow list
        index = outline[0]
        return lambda values: list(values[index])
    if type(outline) is list:
        parts = [_builder(child) for child in outline]
        return lambda values: [part(values) for part in parts]
    keys = tuple(outline)
    scalars = [child if type(child) is int else 0 for child in outline.values()]
    containers = [(key, _builder(child)) for key, child in outline.items() if type(child) is not int]
    if not containers:
        return lambda values: dict(zip(keys, map(values.__getitem__, scalars)))

    def build(values: Sequence[Any]) -> dict[str, Any]:
        data = dict(zip(keys, map(values.__getitem__, scalars)))  # a container's place taken by line 0's value
        for key, part in containers:
            data[key] = part(values)
        return data

    return build


def _expression(outline: _Outline) -> str:
    """Python source that builds ``outline`` from ``values``: displays of new containers around ``values[i]``."""
    if outline is None:
        return "None"
    if type(outline) is int:
        return f"values[{outline}]"
    if type(outline) is tuple:  # a flow list
        return f"list(values[{outline[0]}])"
    if type(outline) is list:
        return f"[{', '.join(map(_expression, outline))}]"
    return f"{{{', '.join(f'{key!r}: {_expression(child)}' for key, child in outline.items())}}}"


def _read_line(line: str) -> tuple[_Form | object, Any]:
    """The _Form of a line and its value (the scalar, or the flow list's values as a tuple); _BLANK or
    _NOT_COMMON (for a line this path does not read) and None."""
    if not (line.isascii() and line.isprintable()) and _UNUSUAL.search(line):
        return _NOT_COMMON, None
    head, colon, rest = line.partition(":")  # a key has no ':', so an entry's head is all before the first
    if not colon or (rest and rest[0] != " "):
        return _other_line(line)
    start = _HEADS.get(head, _NOT_COMMON)
    if start is _NOT_COMMON:
        start = _remember_head(head)
    if start is None:
        return _other_line(line)
    indent, item, column, key = start
    rest = rest.strip(" ")
    if not rest:
        return (indent, item, column, key, _NESTED, 0), None
    if rest[0] == "[":
        values = _flow_list(rest)
        return (_NOT_COMMON, None) if values is None else ((indent, item, column, key, _FLOW, len(values)), tuple(values))
    value = _common_scalar(rest)
    return (_NOT_COMMON, None) if value is _NOT_COMMON else ((indent, item, column, key, _SCALAR, 0), value)


def _remember_head(head: str) -> tuple[int, bool, int, str] | None:
    """Indent, item, column and key of the lines that start with ``head:``; None where that is not an entry."""
    entry = _HEAD.fullmatch(head)
    start = None
    if entry is not None and type(_resolve_common(entry[3])) is str:  # a non-text key: the long way reports it
        start = entry.end(1), entry[2] is not None, entry.start(3), sys.intern(entry[3])
    _HEADS[head] = start
    return start


def _other_line(line: str) -> tuple[_Form | object, Any]:
    """_read_line of a line that is no `key: value` entry: blank, a list item that is a scalar, or not common."""
    body = line.lstrip(" ")
    if not body:
        return _BLANK, None
    if not body.startswith("- "):
        return _NOT_COMMON, None
    scalar = body[2:].lstrip(" ")
    value = _common_scalar(scalar.rstrip(" "))
    return (_NOT_COMMON, None) if value is _NOT_COMMON else ((len(line) - len(body), True, len(line) - len(scalar), None, _SCALAR, 0), value)


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
    if text[0] not in _RESOLVERS or " " in text:  # no pattern allows a space
        return text  # names, e-mail addresses, phone numbers, titles: no pattern reads them, and they seldom repeat
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
