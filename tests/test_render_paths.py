"""The fast paths of rendering give the same bytes as the plain ones: markdown-it-pyrs against markdown-it-py,
worker processes against one process, a rebuild over an existing site against a cold build."""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import pytest

from conftest import TODAY, write_project
from test_xss import NOTES as HOSTILE_NOTES

from funnel_site import notes

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from generate import generate  # noqa: E402

EDGE_NOTES = [
    "",
    "# One\n\n## Two\n\n###### Six\n",
    "#### Four only\n\nSetext\n======\n\nLower\n-----\n",
    "##### five\n\n# one\n\n###### six\n\n### three\n\n## two\n",  # shifted up, two levels merging into h6
    "#### four\n\n###### six\n\n##### five\n",  # shifted down
    "### three\n\n#### four `<h3>`\n",  # not shifted; a tag-like text stays text
    "| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n| x | `y` | **z** |\n",
    "![local](img/logo.png) ![](pic.png) ![t](pic.png \"Title\") ![ext](https://example.com/a.png \"T\")\n",
    "![a *b* `c`](https://example.com/x.png) [![inner](i.png)](https://example.com)\n",
    "![q\"u'o<te>&](p.png) [a&b](https://example.com/?a=1&b=\"2\")\n",
    "[ftp](ftp://example.com) [custom](custom:thing) [mail](mailto:a@b.de) [tel](tel:+4930123)\n",
    "<https://example.com/a_b> <a@b.example> <ftp://x.y> <mailto:x@y.z>\n",
    "[ref] and [other][r2]\n\n[ref]: https://example.com \"t\"\n[r2]: ftp://nope\n",
    "```html\n<h1 style=\"text-align:left\">x</h1>\n<img src=\"a\" alt=\"b\" />\n```\n",
    "    <h2>indented code</h2>\n\n`<img src=\"x\" alt=\"y\" />` and ` style=\"text-align:right\"`\n",
    "> # quoted heading\n> - item [x](http://a.b/c d)\n",
    "1. one\n2. two\n   - nested ![n](n.png)\n\n---\n\nline  \nbreak\\\nagain\n",
    "[spaces](<https://example.com/a b>) [ctrl](https://example.com/\u0007) [uml](https://bücher.example/ä)\n",
    "<mailto:jörg@bücher.example> [m](mailto:ä@b.de) [p](https://example.com/%7Euser) [d](https://EXAMPLE.com/A)\n",
    "&lt;b&gt; &amp; &copy; &#x3C;script&#x3E; \\<not a tag\\>\n",
    "*emph **strong*** __a__ _b_ ~~strike~~\n",
    "[empty]() [hash](#part) [rel](../other.html) [q](?x=1)\n",
]

FRAGMENTS = [
    "# H", "## Gespräch", "### Nächste Schritte", "Text mit *Betonung* und **fett**.", "- Punkt", "1. Erster",
    "> Zitat", "`code`", "[Link](https://example.com/x)", "[bad](javascript:alert(1))", "[f](ftp://x)",
    "![Bild](bild.png)", "![Ext](https://example.com/b.png \"T\")", "<b>raw</b>", "<div>block</div>",
    "| a | b |\n|:-|-:|\n| 1 | 2 |", "---", "```\n<x>\n```", "<https://example.com>", "E-Mail <a@b.de>",
    "&amp; &quot; \"quotes\" 'single'", "Zeile  ", "[r]\n\n[r]: https://example.com", "    code",
]


def _bodies(root: Path) -> list[str]:
    """The Markdown below each lead file's front matter."""
    found = []
    for path in sorted((root / "leads").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        found.append(text.split("\n---\n", 1)[1])
    return found


def _fast_or_reference(text: str) -> str:
    fast = notes.render_fast(text)
    return fast if fast is not None else notes.render_reference(text)


def test_the_fast_markdown_path_is_installed_with_the_test_extra() -> None:
    assert notes._FAST is not None, "markdown-it-pyrs (funnel-site[fast], part of the test extra) is not importable"


def test_fast_notes_equal_markdown_it_py_on_the_synthetic_10k_corpus(tmp_path: Path) -> None:
    generate(10_000, tmp_path / "corpus")
    bodies = _bodies(tmp_path / "corpus")
    assert len(bodies) == 10_000
    sample = Path(__file__).parent / "data" / "sample"
    bodies += _bodies(sample)
    differing = [body for body in bodies if notes.render_fast(body) != notes.render_reference(body)]
    assert differing == []


def test_fast_notes_equal_markdown_it_py_on_hostile_and_edge_cases() -> None:
    for text in [HOSTILE_NOTES, *EDGE_NOTES]:
        assert _fast_or_reference(text) == notes.render_reference(text), text


def test_fast_notes_equal_markdown_it_py_on_random_mixtures() -> None:
    rng = random.Random(20261122)
    for _ in range(3000):
        text = "\n\n".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 8))) + "\n"
        assert _fast_or_reference(text) == notes.render_reference(text), text


def test_links_the_allowlist_refuses_stay_text_on_the_fast_path_too() -> None:
    assert notes.render_fast("[f](ftp://example.com)\n") is None  # handed to markdown-it-py, which keeps it text
    assert str(notes.render_notes("[f](ftp://example.com)\n")) == "<p>[f](ftp://example.com)</p>\n"
    assert str(notes.render_notes("![x](https://example.com/a.png)\n")) == '<p><a href="https://example.com/a.png">x</a></p>\n'


def _project(root: Path, count: int, version: str = "") -> Path:
    files = {}
    for i in range(count):
        status = ("active", "won", "potential")[i % 3]
        front = f"title: Projekt {i}{version}\nowner: {('anna', 'ben')[i % 2]}\nstatus: {status}\ncompany: Firma {i % 23}\n"
        if status == "active":
            front += f"stage: {('lead', 'offer')[i % 2]}\nvalue: {1000 + i}\nexpected_close: 2027-0{1 + i % 9}-15\nnext_step: Call\n"
        elif status == "won":
            front += f"value: {500 + i}\nclosed_on: 2026-0{1 + i % 9}-10\ncreated: 2025-12-01\n"
        files[f"leads/t{i % 4}/lead-{i:03}.md"] = f"---\n{front}---\n## Notiz {i}\n\n- Punkt *{i}*\n"
    return write_project(root, files)


def _site(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _build(run_cli, root: Path, out: Path, *extra: str) -> dict[str, bytes]:
    result = run_cli("build", str(root), "-o", str(out), "--today", TODAY, "--no-cache", *extra)
    assert (result.code, result.err) == (0, "")
    return _site(out)


def test_one_and_two_processes_and_a_rebuild_give_the_same_site(tmp_path: Path, run_cli) -> None:
    root = _project(tmp_path / "p", 120)
    one = _build(run_cli, root, tmp_path / "one", "--jobs", "1")
    two = _build(run_cli, root, tmp_path / "two", "--jobs", "2")
    again = _build(run_cli, root, tmp_path / "two", "--jobs", "2")
    assert len(one) > 150
    assert one == two == again


def test_a_rebuild_links_unchanged_files_and_writes_changed_ones(tmp_path: Path, run_cli) -> None:
    root = _project(tmp_path / "p", 40)
    out = tmp_path / "site"
    cold = _build(run_cli, root, out)
    inodes = {path: os.stat(out / path).st_ino for path in cold}
    (root / "leads" / "t1" / "lead-001.md").write_text(
        (root / "leads" / "t1" / "lead-001.md").read_text().replace("Notiz 1", "Notiz eins")
    )
    rebuilt = _build(run_cli, root, out)
    fresh = _build(run_cli, root, tmp_path / "fresh")
    assert rebuilt == fresh
    changed = {path for path in cold if cold[path] != rebuilt[path]}
    assert changed == {"leads/t1/lead-001.html"}  # notes appear on the lead page only
    assert {path for path in cold if os.stat(out / path).st_ino != inodes[path]} == changed


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_template_error_is_the_same_problem_in_workers(tmp_path: Path, run_cli, jobs: str) -> None:
    root = _project(tmp_path / "p", 12)
    (root / "templates").mkdir()
    (root / "templates" / "lead.html").write_text('{% extends "builtin/lead.html" %}\n{% block title %}{{ lead.nope }}{% endblock %}\n')
    result = run_cli("build", str(root), "-o", str(tmp_path / "site"), "--today", TODAY, "--no-cache", "--jobs", jobs)
    assert result.code == 2
    assert result.err == (
        "templates/lead.html:2: template: 'funnel_site.model.Lead object' has no attribute 'nope'\n"
    )
    assert not (tmp_path / "site").exists()
