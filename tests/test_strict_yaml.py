"""The one-pass strict loader against the earlier two-pass one: same data, line maps and errors."""

from __future__ import annotations

import pickle
import random
import sys
from datetime import date
from pathlib import Path
from typing import Any, Callable

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import strict_yaml_reference as reference  # noqa: E402

from funnel_site import strict_yaml  # noqa: E402
from funnel_site.strict_yaml import YamlError, parse_common, parse_events, parse_yaml  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _outcome(function: Callable[[str, int], Any], text: str) -> Any:
    try:
        return ("ok", function(text, 1))
    except (YamlError, reference.YamlError) as error:
        return ("error", error.line, error.message)


CASES = [
    "a: 1\nb: [1, 2]\n", "a: 1\na: 2\n", "a:\n  b: 1\n  b: 2\nc: 1\nc: 2\n", "x: &a 1\ny: *a\n", "x: !!str 1\n",
    "- a\n- b\n", "just text\n", "", "# only a comment\n", "a: b: c\n", "a: 'unclosed\n", "a: 1\n---\nb: 2\n",
    "? [1, 2]\n: x\n", "1: one\n", "true: yes\n", "~: null\n", "a: {b: 1, b: 2}\nc: 1\nc: 2\n",
    "l:\n  - {x: 1, x: 2}\nm: 1\nm: 2\n", "? {k: 1, k: 2}\n: v\n", "a: 2026-02-30\nb: 2026-02-28\nc: 1.50\nd: 1e3\n",
    "a: " + "[" * 25 + "]" * 25 + "\n", "a: \x07\n", "a: 1\n  b: 2\n", "a:\n- 1\n-2\n", "n: no\no: 0o17\np: 012\n",
    "x: " + "9" * 120 + "\n", "a: [1, {b: 2}, [3]]\nc: {d: {e: [f]}}\n", "'q': 1\n\"q\": 2\n", "a: !x 1\n",
]


def _mutated(rng: random.Random, texts: list[str], edit: Callable[[random.Random, list[str], int], None]) -> str:
    """One of the texts with 1 to 3 of its lines edited by ``edit(rng, lines, index)``."""
    lines = rng.choice(texts).split("\n")
    for _ in range(rng.randint(1, 3)):
        if not lines:  # a one-line front matter whose line was deleted
            lines = [""]
        edit(rng, lines, rng.randrange(len(lines)))
    return "\n".join(lines)


def _structural_edit(rng: random.Random, lines: list[str], i: int) -> None:
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


def _mutations(texts: list[str], count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [_mutated(rng, texts, _structural_edit) for _ in range(count)]


def _front_matters() -> list[str]:
    """Every front matter in the repository: the example pipeline, the sample and the bad-input corpus."""
    texts = []
    for path in sorted([*(REPO / "leads").rglob("*.md"), *(REPO / "tests" / "data").rglob("*.md")]):
        text = path.read_bytes().decode("utf-8", errors="replace")
        if text.startswith("---\n") and "\n---" in text[3:]:
            texts.append(text[4:].split("\n---", 1)[0] + "\n")
    return texts


@pytest.mark.parametrize("text", CASES, ids=range(len(CASES)))
def test_hand_written_cases(text: str) -> None:
    assert _outcome(parse_yaml, text) == _outcome(reference.parse_yaml, text)


def test_every_front_matter_in_the_repository_and_5000_mutations() -> None:
    texts = _front_matters()
    assert len(texts) > 50
    documents = texts + _mutations(texts, 5000)
    differing = [t for t in documents if _outcome(parse_yaml, t) != _outcome(reference.parse_yaml, t)]
    assert differing == []
    errors = sum(_outcome(parse_yaml, t)[0] == "error" for t in documents)
    assert errors > 1000  # the mutations do reach the error paths


# The line-by-line fast path (parse_common) against the event loop (parse_events): the same values of the
# same types in the same order, the same line map in the same order; or no answer (the event loop decides).

COMMON = (
    'title: "API-Gateway – Datasoft GmbH & Co. KG"\nowner: jan\nvalue: 190000\nexpected_close: 2027-05-15\n'
    "probability: 12.50\nnext_step: Schedule a demo   \ntags: [content, konzern, 2026-01-01, 7]\nempty: []\n"
    "contact:\n  name: 'Sarah Schneider'\n  phone: +49 530 3892509\n  url: https://x.example/a#b\n"
    "qualification:\n  budget: true\n  need: FALSE\n  timeline:\nhistory:\n  - date: 2026-09-17\n    stage: erstkontakt\n"
    "  -   date: 2026-10-27\n      stage: angebot\n      notes:\n      - a\n      - \"b: c\"\nlast: ~\n"
)
EDGES = [
    "a: 1\nb:\n- x\n- y\nc: 2\n", "a:\nb: 2\n", "a:   \n\n  b: 1\n", "a:    x  y  \n", "a: ''\nb: \"\"\n", "a: [ ]\n",
    "l:\n- a: 1\n  b:\n  - 1\n  - 2\n- c: 3\nz: 1\n", "l:\n  - a: 1\n   b: 2\n", "a: 1\n\n   \nb: 2\n", "a:\n  b: 1\n c: 2\n",
    "x: a:b\ny: C#\nz: 100%\n", "a: [a ,b ]\n", "a: [a,]\n", "a: ['a']\n", "l:\n- x\n-\n", "a: -1\n", "Null: 1\n", "nULL: 1\n",
    "a: 'it''s'\n", 'a: "x\\ty"\n', "a: b\n- c\n", "- a\n", "a: x]\n", "a: {b}\n", "a: x: \n", "a: x #c\n", "# c\na: 1\n",
    "a: 9" + "9" * 150 + "\n", "a: 2026-13-01\n", "a: 1\r\nb: 2\n", "a: 1\x85b: 2\n", "a: 1\u2028b: 2\n", "a: \ufeffx\n",
    "l:\n- a:\n  - 1\n  b: 2\n- c\n", "l:\n  - a:\n  - b\n", "a:\n  - x\n  b: 1\n", "a:\n  - x\n- y\n", "a: 1\n---\nb: 2\n", "a: 1\n...\n", "a: 1\na: 2\n", "x:\n  - - a\n", "q: 'a\n", "k" * 150 + ": 1\n", "", "\n",
]


def _exact(value: Any) -> Any:
    if isinstance(value, dict):
        return ("dict", [(_exact(k), _exact(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_exact(v) for v in value])
    return (type(value).__name__, repr(value))


def _events(text: str) -> Any:
    try:
        data, lines = parse_events(text, 1)
    except YamlError as error:
        return ("error", error.line, error.message)
    except ArithmeticError as error:  # Decimal("1e99999999999999999999"): raised by both paths alike
        return ("raises", type(error).__name__)
    return ("ok", _exact(data), list(lines.items()))


def _common(text: str) -> Any:
    try:
        result = parse_common(text, 1)
    except ArithmeticError as error:
        return ("raises", type(error).__name__)
    return None if result is None else ("ok", _exact(result[0]), list(result[1].items()))


def test_the_common_shape_takes_the_fast_path() -> None:
    data, lines = parse_common(COMMON, 1)
    assert list(lines.items())[:3] == [("title", 2), ("owner", 3), ("value", 4)]
    assert data["history"][1]["notes"] == ["a", "b: c"] and lines["history[1].notes[1]"] == 25
    assert _common(COMMON) == _events(COMMON)
    assert all(parse_common(text, 1) is not None for text in _front_matters()[:20] if "#" not in text)


@pytest.mark.parametrize("text", [*EDGES, *CASES], ids=range(len(EDGES) + len(CASES)))
def test_the_fast_path_answers_as_the_event_loop_or_not_at_all(text: str) -> None:
    assert _common(text) in (None, _events(text))


def test_the_fast_path_on_the_repository_and_20000_character_mutations() -> None:
    rng = random.Random(11)
    pieces = [":", ": ", " #", "&a ", "*a", "!t ", "[", "]", "{", "'", '"', "- ", "-", "? ", "  ", "\t", "\r", "\x85", "\ufeff",
              "---", "...", ",", "\\", "|", ">", "%", "@", "true", "null", "~", "1e3", "2026-02-30", "\n", "\n  ", "\n- ", "x: y"]
    texts = _front_matters() + [COMMON]
    documents = list(texts)

    def character_edit(rng: random.Random, lines: list[str], i: int) -> None:
        action = rng.randrange(6)
        if action == 0:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif action == 1:
            lines[i] = " " * rng.randint(1, 3) + lines[i]
        elif action == 2:
            lines[i] = lines[i][1:]
        else:
            cut = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:cut] + rng.choice(pieces) + lines[i][cut:]

    documents += [_mutated(rng, texts, character_edit) for _ in range(20000)]
    answered = [text for text in documents if _common(text) is not None]
    assert [text for text in answered if _common(text) != _events(text)] == []
    assert len(answered) > 2500  # the mutations do reach the fast path, not only the fallback


def test_a_line_read_before_means_the_same_wherever_it_stands_and_nothing_is_shared() -> None:
    first, _ = parse_common("tags: [a, b]\nh:\n  - date: 2026-01-01\n", 1)
    first["tags"].append("c")
    first["h"][0]["date"] = None
    second, lines = parse_common("x: 1\ntags: [a, b]\nnotes:\n  h:\n  - date: 2026-01-01\n", 1)
    assert _exact(second) == _exact({"x": 1, "tags": ["a", "b"], "notes": {"h": [{"date": date(2026, 1, 1)}]}})
    assert list(lines.items()) == [
        ("x", 2), ("tags", 3), ("tags[0]", 3), ("tags[1]", 3), ("notes", 4), ("notes.h", 5), ("notes.h[0]", 6), ("notes.h[0].date", 6)]


def test_documents_of_one_outline_share_its_plan_and_line_map_but_never_their_containers() -> None:
    outline = "title: {}\ntags: [{}, b]\ncontact:\n  name: {}\nhistory:\n  - date: 2026-01-0{}\n    stage: offer\n"
    first, _ = parse_common(outline.format("A", "a", "Ann", 1), 1)
    plans = len(strict_yaml._PLANS)
    second, lines = parse_common(outline.format("B", "c", "Bob", 2), 1)
    assert len(strict_yaml._PLANS) == plans  # the same outline: its plan is reused, not worked out again
    assert _exact(second) == _exact({"title": "B", "tags": ["c", "b"], "contact": {"name": "Bob"},
                                     "history": [{"date": date(2026, 1, 2), "stage": "offer"}]})
    assert first["tags"] is not second["tags"] and first["history"][0] is not second["history"][0]
    assert list(lines.items()) == [("title", 2), ("tags", 3), ("tags[0]", 3), ("tags[1]", 3), ("contact", 4),
                                   ("contact.name", 5), ("history", 6), ("history[0]", 7), ("history[0].date", 7), ("history[0].stage", 8)]
    assert lines is parse_common(outline.format("C", "d", "Cy", 3), 1)[1]  # one read-only line map for the outline
    assert lines is not parse_common(outline.format("B", "c", "Bob", 2), 2)[1]  # another line offset: another outline


def test_a_line_map_is_read_only_and_pickles_as_one_map_however_often_it_is_written() -> None:
    _, lines = parse_common("title: A\ntags: [a]\n", 1)
    _, events = parse_events("title: A  # a comment\n", 1)
    for line_map in (lines, events, parse_events("", 1)[1]):
        assert type(line_map) is strict_yaml.LineMap
        written = dict(line_map)
        refused = [lambda: line_map.__setitem__("title", 9), lambda: line_map.__delitem__("title"),
                   lambda: line_map.__ior__({"x": 1}), line_map.clear, lambda: line_map.pop("title"), line_map.popitem,
                   lambda: line_map.setdefault("x", 1), lambda: line_map.update(x=1)]
        for change in refused:
            with pytest.raises(TypeError, match="^a line map is read-only: documents of one outline share it$"):
                change()
        assert line_map == written and list(line_map.items()) == list(written.items())
    first, second = pickle.loads(pickle.dumps([lines, lines], protocol=pickle.HIGHEST_PROTOCOL))
    assert first is second and type(first) is strict_yaml.LineMap and list(first.items()) == [("title", 2), ("tags", 3), ("tags[0]", 3)]
    assert len(pickle.dumps([lines] * 100)) < len(pickle.dumps([lines])) + 3 * 99  # each repetition a memo reference


def test_the_fast_path_answers_the_same_when_its_tables_are_emptied_between_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [text for text in _front_matters()[:60] if "#" not in text] + [COMMON]
    for table, size in [("_LINES_MAX", 40), ("_PLANS_MAX", 3), ("_FORMS_MAX", 12)]:
        monkeypatch.setattr(strict_yaml, table, size)
        strict_yaml._forget_lines()
        answers = [(_common(text), text) for text in texts]
        assert [text for answer, text in answers if answer not in (None, _events(text))] == []
        assert sum(answer is not None for answer, _ in answers) > 40
        monkeypatch.undo()
    strict_yaml._forget_lines()


def test_an_outline_that_keeps_coming_back_is_compiled_and_builds_the_same_data() -> None:
    texts = [COMMON, *(text for text in EDGES if _common(text) is not None), *_front_matters()[:20]]
    for text in texts:
        built = [parse_common(text, 1) for _ in range(strict_yaml._COMPILE_AFTER + 2)]
        assert all(_common(text) == _events(text) for _ in range(2))  # past the compiling use: compiled
        assert len({id(data) for data, _ in built}) == len(built)  # new containers each time
        assert {repr(_exact(data)) for data, _ in built} == {repr(_events(text)[1])}
    plan = strict_yaml._PLANS[(1, tuple(strict_yaml._LINES[line][0] for line in COMMON.split("\n")))]
    assert plan is not None and plan[0].uses > strict_yaml._COMPILE_AFTER
    assert plan[0].build.__code__.co_filename == "<string>"  # the compiled expression, not the tree of functions
    data, _ = parse_common(COMMON, 1)
    data["history"][1]["notes"].append("x")
    assert parse_common(COMMON, 1)[0]["history"][1]["notes"] == ["a", "b: c"]


def test_a_head_read_before_means_the_same_before_another_value_and_a_colon_needs_a_space() -> None:
    text = "l:\n- k: v\n- k:v\n- k:\n  - 1\nk: [a]\nk2:  x  \n"
    data, lines = parse_common(text, 1)
    assert _exact(data) == _exact({"l": [{"k": "v"}, "k:v", {"k": [1]}], "k": ["a"], "k2": "x"})
    assert list(lines.items()) == [("l", 2), ("l[0]", 3), ("l[0].k", 3), ("l[1]", 4), ("l[2]", 5), ("l[2].k", 5),
                                   ("l[2].k[0]", 6), ("k", 7), ("k[0]", 7), ("k2", 8)]
    assert _common(text) == _events(text)
    for other in ["a:b\n", "True: 1\n", "- True: 1\n", "k" * 101 + ": 1\n", "-k: 1\n"]:  # no entry of the common shape
        assert parse_common(other, 1) is None


def test_outlines_that_differ_only_in_their_line_maps_share_one_shape_compiled_once() -> None:
    strict_yaml._forget_lines()
    texts = ["tags: [a]\nh:\n- d: 1\n", "tags: [a, b]\nh:\n  - d: 2\n", "tags: [a, b, c]\nh:\n    -   d: 3\n"]
    for _ in range(strict_yaml._COMPILE_AFTER):
        parse_common(texts[0], 1)
    answers = [_common(text) for text in texts]
    assert (len(strict_yaml._PLANS), len(strict_yaml._SHAPES)) == (3, 1)
    shape = next(iter(strict_yaml._SHAPES.values()))
    assert shape.uses == strict_yaml._COMPILE_AFTER + 3 and shape.build.__code__.co_filename == "<string>"
    assert answers == [_events(text) for text in texts]
    assert answers[2] == ("ok", _exact({"tags": ["a", "b", "c"], "h": [{"d": 3}]}),
                          [("tags", 2), ("tags[0]", 2), ("tags[1]", 2), ("tags[2]", 2), ("h", 3), ("h[0]", 4), ("h[0].d", 4)])
    strict_yaml._forget_lines()


def test_unusual_characters_are_exactly_those_libyaml_does_not_read_as_printable_text() -> None:
    def printable(code: int) -> bool:  # libyaml's printable set, line breaks other than \n excluded
        return (code == 0x0A or 0x20 <= code <= 0x7E or 0xA0 <= code <= 0x2027 or 0x202A <= code <= 0xD7FF
                or 0xE000 <= code <= 0xFEFE or 0xFF00 <= code <= 0xFFFD or code >= 0x10000)

    unusual = strict_yaml._UNUSUAL.search
    assert [code for code in range(0x110000) if bool(unusual(chr(code))) == printable(code)] == []


def test_a_line_with_a_character_libyaml_does_not_read_as_printable_goes_the_long_way_ascii_or_not() -> None:
    codes = [code for code in [*range(0x80), 0x85, 0xA0, 0xE4, 0x2028, 0xFEFF, 0x1F600] if code != 0x0A]
    texts = {code: f"a: x{chr(code)}y\n" for code in codes}
    answered = {code: parse_common(text, 1) for code, text in texts.items()}
    assert [code for code, answer in answered.items() if answer is None] == [*range(0x0A), *range(0x0B, 0x20), 0x7F, 0x85, 0x2028, 0xFEFF]
    assert [code for code, answer in answered.items() if answer is not None and answer != parse_events(texts[code], 1)] == []
