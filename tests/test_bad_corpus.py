"""The corpus of bad (and tricky-but-good) pipelines under tests/data/bad/, run through `funnel-site check`.

Each case is a folder holding a tiny pipeline and ``expected.txt``: the exit code on the first line,
then the exact stderr lines (``{root}`` stands for the pipeline directory). Optional:
- ``expected-stdout.txt``: the exact stdout lines;
- ``config.yaml``: otherwise the shared ``_config.yaml`` is used (``no-config`` in setup.txt: none);
- files ending in ``.in`` are expanded before the run, ``{{repeat N TEXT}}`` -> TEXT N times
  (``\\n`` in TEXT is a newline), so huge and deeply nested inputs need not be committed;
- ``setup.txt``: ``symlink LINK TARGET``, ``copy SRC DST``, ``no-config``; for what git should not
  hold (symlinks out of the tree, names differing only in case).
Run with ``--update-golden`` to rewrite the expectations after a deliberate wording change.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import TODAY

CORPUS = Path(__file__).parent / "data" / "bad"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
REPEAT = re.compile(rb"\{\{repeat ([0-9]+) ([^}]*)\}\}")
SUBPROCESS_CASES = {"yaml-deep-nesting-30k-under-size-cap", "yaml-deep-nesting-100k", "config-deep-nesting-100k"}


def materialise(case: Path, root: Path) -> Path:
    """Copy a case into ``root``, expanding ``.in`` files and applying setup.txt."""
    shutil.copytree(case, root, ignore=shutil.ignore_patterns("expected*.txt", "setup.txt"))
    (root / "leads").mkdir(exist_ok=True)
    for template in sorted(root.rglob("*.in")):
        text = REPEAT.sub(lambda m: m[2].replace(rb"\n", b"\n") * int(m[1]), template.read_bytes())
        template.with_suffix("").write_bytes(text)
        template.unlink()
    setup = (case / "setup.txt").read_text().splitlines() if (case / "setup.txt").is_file() else []
    if "no-config" not in setup and not (root / "config.yaml").exists():
        shutil.copyfile(CORPUS / "_config.yaml", root / "config.yaml")
    for line in setup:
        command, *args = line.split()
        if command == "symlink":
            os.symlink(args[1], root / args[0])
        elif command == "copy":
            shutil.copyfile(root / args[0], root / args[1])
        else:
            assert command == "no-config", f"unknown setup command {line!r}"
    return root


def test_the_corpus_is_big_enough() -> None:
    failing = [name for name in CASES if (CORPUS / name / "expected.txt").read_text().split("\n")[0] != "0"]
    assert len(CASES) >= 30 and len(failing) >= 30


@pytest.mark.parametrize("name", CASES)
def test_bad_input(name: str, tmp_path: Path, run_cli, update_golden: bool) -> None:
    case = CORPUS / name
    root = materialise(case, tmp_path / "pipeline")
    if name in SUBPROCESS_CASES:  # a crash of the C YAML loader would take pytest down with it
        command = [sys.executable, "-m", "funnel_site", "check", str(root), "--today", TODAY]
        process = subprocess.run(command, capture_output=True, text=True, timeout=120)
        code, out, err = process.returncode, process.stdout, process.stderr
    else:
        result = run_cli("check", str(root), "--today", TODAY)
        code, out, err = result.code, result.out, result.err
    err_lines = [line.replace(str(root), "{root}") for line in err.splitlines()]
    if update_golden:
        (case / "expected.txt").write_text("\n".join([str(code), *err_lines]) + "\n")
        if code == 0:
            (case / "expected-stdout.txt").write_text(out)
    expected_code, *expected_err = (case / "expected.txt").read_text().splitlines()
    assert (code, err_lines) == (int(expected_code), expected_err)
    if (case / "expected-stdout.txt").is_file():
        assert out == (case / "expected-stdout.txt").read_text()
