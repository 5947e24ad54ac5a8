"""Property-based tests: whatever bytes a lead file holds, the loader answers with located problems.

Never an exception, a hang or a crash of the interpreter: the C YAML loader segfaults on very deep
nesting, so those inputs also run in a subprocess, where a crash shows up as a signal exit.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import BASE_CONFIG, TODAY, write_project
from funnel_site.cli import main
from funnel_site.config import parse_config
from funnel_site.lead import STANDARD_KEYS
from funnel_site.load import parse_lead_bytes
from funnel_site.problems import Problem
from funnel_site.strict_yaml import parse_yaml

CONFIG = parse_config(*parse_yaml(BASE_CONFIG))[0]
PATH = "leads/fuzz.md"
LOCATED = re.compile(r"^leads/[^:]+\.md:[1-9][0-9]*: (warning: )?[^:]+: .+$")
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# The pieces people (and importers) actually put into front matter, good and bad.
SCALARS = [
    "Acme", "anna", "zoe", "offer", "negotation", "won", "lost", "potential", "1000", "-1", "1e400", "1" * 120,
    "0.5", ".inf", "NaN", "01234", "no", "on", "yes", "null", "~", "true", "2026-12-01", "2026-02-30",
    "0001-01-01", "9999-12-31", "01.12.2026", "'quoted'", '"dq\\u00e4"', "[a, b]", "{a: 1}", "[", "{", "]",
    "&a x", "*a", "!!python/object:os.system", "!tag x", "|", ">", "- x", "? x", "%YAML 1.2", "@", "`",
    "<script>alert(1)</script>", "javascript:alert(1)", "Müller", "\u202e", "\x85", "\ufeff", "'", '"',
]
KEYS = list(STANDARD_KEYS) + ["x", "custom", "1", "true", "? [a]", "- item", "<<", "'quoted key'", ""]
INDENTS = ["", "", "", "  ", "    ", " ", "\t", "- ", "  - "]


@st.composite
def yamlish(draw: st.DrawFn) -> str:
    """Front-matter-like text: key/value lines with odd indentation, flow syntax and stray fences."""
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        indent = draw(st.sampled_from(INDENTS))
        key = draw(st.sampled_from(KEYS))
        value = draw(st.one_of(st.sampled_from(SCALARS), st.text(max_size=12)))
        separator = draw(st.sampled_from([": ", ":", " : ", ":\t", ": [", ": {", "\n  - "]))
        lines.append(f"{indent}{key}{separator}{value}")
    head = draw(st.sampled_from(["---\n", "---\r\n", "\ufeff---\n", "--- \n", "", "...\n"]))
    tail = draw(st.sampled_from(["\n---\nNotes\n", "\r\n---\r\n", "\n...\n", "", "\n--- x\n"]))
    return head + "\n".join(lines) + tail


def assert_located(problems: list[Problem]) -> None:
    for problem in problems:
        assert problem.path == PATH
        assert problem.line >= 1
        assert problem.field and problem.message
        assert LOCATED.match(str(problem)), str(problem)


@FUZZ
@given(st.binary(max_size=2000))
@example(b"\xff\xfe-\x00-\x00-\x00")
@example(b"---\ntitle: \xe4\n---\n")
@example(b"\x00")
def test_arbitrary_bytes_give_located_problems(raw: bytes) -> None:
    lead, problems = parse_lead_bytes(PATH, raw, CONFIG)
    assert_located(problems)
    assert lead is not None or any(p.is_error for p in problems)


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_after_a_fence_give_located_problems(raw: bytes) -> None:
    lead, problems = parse_lead_bytes(PATH, b"---\n" + raw + b"\n---\n", CONFIG)
    assert_located(problems)
    assert lead is not None or any(p.is_error for p in problems)


@FUZZ
@given(yamlish())
@example("---\nvalue: " + "1" * 5000 + "\n---\n")
@example("---\na: " + "[" * 25 + "]" * 25 + "\n---\n")
def test_yamlish_text_gives_located_problems(text: str) -> None:
    lead, problems = parse_lead_bytes(PATH, text.encode("utf-8", "surrogatepass"), CONFIG)
    assert_located(problems)
    assert lead is not None or any(p.is_error for p in problems)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yamlish())
def test_a_whole_build_survives_yamlish_leads(text: str) -> None:
    """Through the CLI, with a good lead next to the fuzzed one: exit 0 or 1, only located lines."""
    good = "---\ntitle: Good\nowner: anna\nstatus: potential\n---\n"
    with tempfile.TemporaryDirectory() as tmp:
        root = write_project(Path(tmp) / "p", {"leads/good.md": good, PATH: text.encode("utf-8", "surrogatepass")})
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["build", str(root), "-o", str(Path(tmp) / "site"), "--today", TODAY])
    lines = err.getvalue().splitlines()
    assert code in (0, 1)
    if code == 1:
        assert lines[-1].startswith("build failed: ")
        lines = lines[:-1]
    assert lines == [line for line in lines if LOCATED.match(line)]


def _check_in_subprocess(tmp_path: Path, lead_text: bytes) -> subprocess.CompletedProcess[str]:
    root = write_project(tmp_path / "p", {PATH: lead_text})
    command = [sys.executable, "-m", "funnel_site", "check", str(root), "--today", TODAY]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_deep_nesting_within_the_size_cap_does_not_crash_the_c_loader(tmp_path: Path) -> None:
    """30,000 levels (60 KB) segfault libyaml's recursive composer; the pre-scan refuses them first."""
    result = _check_in_subprocess(tmp_path, b"---\ntitle: " + b"[" * 30_000 + b"]" * 30_000 + b"\n---\n")
    assert (result.returncode, result.stderr.splitlines()) == (1, [
        "leads/fuzz.md:2: front matter: nested deeper than 20 levels",
        "checked lead files: 1 error, 0 warnings",
    ])


def test_100k_levels_of_nesting_are_refused_by_size(tmp_path: Path) -> None:
    result = _check_in_subprocess(tmp_path, b"---\ntitle: " + b"{a: " * 100_000 + b"}" * 100_000 + b"\n---\n")
    assert (result.returncode, result.stderr.splitlines()) == (1, [
        "leads/fuzz.md:2: front matter: is larger than 64 KiB; keep long text in the notes below the closing '---'",
        "checked lead files: 1 error, 0 warnings",
    ])


def test_100k_levels_in_config_do_not_crash(tmp_path: Path) -> None:
    """config.yaml has a 1 MiB cap, not 64 KiB, so 100,000 levels reach the pre-scan."""
    root = write_project(tmp_path / "p", {}, config="title: " + "[" * 100_000 + "]" * 100_000 + "\n")
    command = [sys.executable, "-m", "funnel_site", "check", str(root), "--today", TODAY]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (2, "config.yaml:1: config: nested deeper than 20 levels\n")
