"""The one-pass strict loader against the earlier two-pass one: same data, line maps and errors."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import strict_yaml_reference as reference  # noqa: E402

from funnel_site.strict_yaml import YamlError, parse_yaml  # noqa: E402

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
