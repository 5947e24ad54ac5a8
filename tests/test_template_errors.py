"""A pipeline's broken template override is a located problem (exit 2), never a traceback."""

from __future__ import annotations

from pathlib import Path

from conftest import TODAY, lead

ACME = lead(title="Acme", owner="anna", stage="offer", value=1, expected_close="2026-12-01", next_step="x")


def build(make_project, run_cli, tmp_path: Path, template: str, name: str = "index.html"):  # type: ignore[no-untyped-def]
    root = make_project({"leads/acme.md": ACME, f"templates/{name}": template})
    return run_cli("build", str(root), "-o", str(tmp_path / "out"), "--today", TODAY)


def test_syntax_error_in_override(make_project, run_cli, tmp_path: Path) -> None:
    result = build(make_project, run_cli, tmp_path, '{% extends "builtin/index.html" %}\n{% block content %}\n{{ oops( }}\n{% endblock %}\n')
    assert result.code == 2
    assert result.err == "templates/index.html:3: template: unexpected '}', expected ')'\n"
    assert not (tmp_path / "out").exists()


def test_undefined_variable_in_override(make_project, run_cli, tmp_path: Path) -> None:
    result = build(make_project, run_cli, tmp_path, '{% extends "builtin/index.html" %}\n{% block content %}\n\n{{ no_such_thing.value }}\n{% endblock %}\n')
    assert result.code == 2
    assert result.err == "templates/index.html:4: template: 'no_such_thing' is undefined\n"


def test_missing_parent_template(make_project, run_cli, tmp_path: Path) -> None:
    result = build(make_project, run_cli, tmp_path, '{% extends "builtin/nope.html" %}\n')
    assert result.code == 2
    assert result.err == "templates/index.html:1: template: template 'builtin/nope.html' not found\n"


def test_override_that_works(make_project, run_cli, tmp_path: Path) -> None:
    result = build(make_project, run_cli, tmp_path, '{% extends "builtin/index.html" %}\n{% block title %}Unser Trichter{% endblock %}\n')
    assert result.code == 0, result.err
    assert "<title>Unser Trichter</title>" in (tmp_path / "out" / "index.html").read_text()
