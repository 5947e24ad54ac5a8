"""build and check as CI sees them: exit codes, stderr lines, the output directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import TODAY, lead

GOOD = lead(title="Acme", owner="anna", stage="offer", value=1000, expected_close="2026-12-01", next_step="Call")
BAD_STAGE = lead(title="Acme", owner="anna", stage="negotation", value=1000, expected_close="2026-12-01")


def test_build_writes_site_and_reports(make_project, run_cli) -> None:
    root = make_project({"leads/acme.md": GOOD})
    result = run_cli("build", str(root), "--today", TODAY)
    assert result.code == 0
    assert result.out == f"built 1 lead into {root / '_site'} (0 errors, 0 warnings)\n"
    data = json.loads((root / "_site" / "data.json").read_text())
    assert (data["schema_version"], data["today"], data["leads"][0]["id"]) == (1, TODAY, "acme")


def test_invalid_lead_fails_build_and_keeps_previous_site(make_project, run_cli, tmp_path: Path) -> None:
    root = make_project({"leads/acme.md": GOOD})
    out = tmp_path / "site"
    assert run_cli("build", str(root), "-o", str(out), "--today", TODAY).code == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (root / "leads" / "acme.md").write_text(BAD_STAGE)
    result = run_cli("build", str(root), "-o", str(out), "--today", TODAY)
    assert result.code == 1
    assert result.err.splitlines() == [
        "leads/acme.md:4: stage: unknown stage 'negotation' (known: lead, offer, negotiation)",
        f"build failed: 1 error, 0 warnings; {out} was left unchanged",
    ]
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site.")] == []


def test_check_reports_all_problems_sorted(make_project, run_cli) -> None:
    root = make_project({
        "leads/b.md": lead(title="B", owner="zoe", stage="offer", value="50k", expected_close="2026-12-01"),
        "leads/a.md": BAD_STAGE,
    })
    result = run_cli("check", str(root), "--today", TODAY)
    assert result.code == 1
    assert result.out == ""
    assert result.err.splitlines() == [
        "leads/a.md:4: stage: unknown stage 'negotation' (known: lead, offer, negotiation)",
        "leads/b.md:3: owner: unknown team member 'zoe' (known: anna, ben)",
        "leads/b.md:5: value: expected a number, got '50k'",
        "checked lead files: 3 errors, 0 warnings",
    ]


def test_check_github_annotations(make_project, run_cli) -> None:
    root = make_project({"leads/acme, inc.md": BAD_STAGE})
    result = run_cli("check", str(root), "--today", TODAY, "--format", "github")
    assert result.code == 1
    assert result.out == (
        "::error file=leads/acme%2C inc.md,line=4,title=funnel-site stage::"
        "stage: unknown stage 'negotation' (known: lead, offer, negotiation)\n"
    )


def test_check_json(make_project, run_cli) -> None:
    root = make_project({"leads/acme.md": BAD_STAGE})
    result = run_cli("check", str(root), "--today", TODAY, "--format", "json")
    assert result.code == 1
    assert json.loads(result.out) == {
        "problems": [{"file": "leads/acme.md", "line": 4, "field": "stage", "severity": "error", "rule": "invalid",
                      "message": "unknown stage 'negotation' (known: lead, offer, negotiation)"}],
        "errors": 1,
    }


def test_config_error_exits_2(make_project, run_cli) -> None:
    root = make_project({"leads/acme.md": GOOD}, config="title: T\ncurrency: euro\nstages: []\nteam: [{id: anna, name: A}]\nstale_after: 3\n")
    result = run_cli("check", str(root), "--today", TODAY)
    assert result.code == 2
    assert result.err.splitlines() == [
        "config.yaml:2: currency: expected a three-letter ISO code such as EUR, got 'euro'",
        "config.yaml:3: stages: needs at least one entry",
        "config.yaml:5: stale_after: unknown setting 'stale_after' (known: title, currency, locale, stages, team, "
        "sources, stale_after_days, targets, exchange_rates, qualification, repo_url, edit_url)",
    ]


def test_missing_config_is_a_usage_error(tmp_path: Path, run_cli) -> None:
    result = run_cli("check", str(tmp_path), "--today", TODAY)
    assert result.code == 2
    assert result.err == f"config.yaml:1: config: no config.yaml in {tmp_path} (is this a pipeline directory?)\n"


def test_bad_today_is_a_usage_error(run_cli) -> None:
    result = run_cli("check", ".", "--today", "22.11.2026")
    assert result.code == 2
    assert "argument --today: expected a date YYYY-MM-DD, got '22.11.2026'" in result.err


def test_output_guard_protects_the_pipeline(make_project, run_cli, tmp_path: Path) -> None:
    root = make_project({"leads/acme.md": GOOD})
    for out in (root, root / "leads", tmp_path):
        result = run_cli("build", str(root), "-o", str(out), "--today", TODAY)
        assert result.code == 2
        assert result.err == f"funnel-site: error: output directory {out} would overwrite the pipeline itself; choose another -o\n"
    assert (root / "leads" / "acme.md").read_text() == GOOD


def test_output_guard_refuses_foreign_directory(make_project, run_cli, tmp_path: Path) -> None:
    root = make_project({"leads/acme.md": GOOD})
    foreign = tmp_path / "docs"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("precious")
    result = run_cli("build", str(root), "-o", str(foreign), "--today", TODAY)
    assert result.code == 2
    assert result.err == (f"funnel-site: error: {foreign} exists and was not made by funnel-site; "
                          "refusing to replace it (remove it or choose another -o)\n")
    assert (foreign / "thesis.txt").read_text() == "precious"


def test_same_input_gives_identical_bytes(make_project, run_cli, tmp_path: Path) -> None:
    root = make_project({"leads/acme.md": GOOD, "leads/b/c.md": BAD_STAGE.replace("negotation", "lead")})
    for name in ("one", "two"):
        assert run_cli("build", str(root), "-o", str(tmp_path / name), "--today", TODAY).code == 0
    one = {p.relative_to(tmp_path / "one"): p.read_bytes() for p in (tmp_path / "one").rglob("*") if p.is_file()}
    two = {p.relative_to(tmp_path / "two"): p.read_bytes() for p in (tmp_path / "two").rglob("*") if p.is_file()}
    assert one == two and len(one) > 3


def _command(*args: str) -> list[str]:
    """The console command as a shell runs it (``python -m funnel_site`` ends through ``cli.run`` too)."""
    return [sys.executable, "-m", "funnel_site", *args]


# Output into a file or pipe is buffered, as in a CI job: unless PYTHONUNBUFFERED (set here and there) says otherwise.
BUFFERED = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}


def test_command_exits_with_its_code_and_all_its_output(make_project, tmp_path: Path) -> None:
    """The command ends with os._exit: what it printed into a buffer (a file, not a terminal) must be flushed first."""
    root = make_project({"leads/acme.md": GOOD})
    out = tmp_path / "out.txt"
    with out.open("w") as stdout:
        built = subprocess.run(_command("build", str(root), "-o", str(tmp_path / "site"), "--today", TODAY),
                               stdout=stdout, stderr=subprocess.PIPE, text=True, env=BUFFERED)
    assert (built.returncode, out.read_text(), built.stderr) == (0, f"built 1 lead into {tmp_path / 'site'} (0 errors, 0 warnings)\n", "")
    (root / "leads" / "acme.md").write_text(BAD_STAGE)
    checked = subprocess.run(_command("check", str(root), "--today", TODAY, "--format", "json"), capture_output=True, text=True, env=BUFFERED)
    assert checked.returncode == 1
    assert [p["message"] for p in json.loads(checked.stdout)["problems"]] == ["unknown stage 'negotation' (known: lead, offer, negotiation)"]


def test_command_whose_output_cannot_be_written_fails_as_before(make_project) -> None:
    """Output that cannot be flushed at the end (a full disk) is reported the way Python always did: exit code 120."""
    root = make_project({"leads/acme.md": GOOD})
    with open("/dev/full", "w") as full:
        result = subprocess.run(_command("check", str(root), "--today", TODAY), stdout=full, stderr=subprocess.PIPE, text=True, env=BUFFERED)
    assert result.returncode == 120
    assert "OSError: [Errno 28] No space left on device" in result.stderr


def test_serve_runs_with_the_cyclic_collector_the_command_turns_off(monkeypatch, tmp_path: Path) -> None:
    """``cli.run`` turns the collector off for the short commands; the dev server runs for hours and needs it."""
    import argparse
    import gc

    from funnel_site import cli, serve

    seen: list[bool] = []
    monkeypatch.setattr(serve, "serve", lambda *args: seen.append(gc.isenabled()) or 0)
    gc.disable()
    try:
        assert cli.run_serve(argparse.Namespace(dir=tmp_path, host="127.0.0.1", port=0, today=None)) == 0
    finally:
        gc.enable()
    assert seen == [True]


@pytest.mark.parametrize("closing", [">&-", "2>&-"])
def test_command_with_stdout_or_stderr_closed_exits_with_its_code(make_project, tmp_path: Path, closing: str) -> None:
    """Started with a descriptor closed (cron, `>&-`), Python has no such stream: the command still ends with its code."""
    root = make_project({"leads/acme.md": GOOD})
    shell = f'exec "$0" "$@" {closing}'
    result = subprocess.run(["sh", "-c", shell, *_command("build", str(root), "-o", str(tmp_path / "site"), "--today", TODAY)],
                            capture_output=True, text=True, env=BUFFERED)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "index.html").is_file()


def test_command_under_a_profiler_ends_the_ordinary_way_so_its_results_are_written(make_project, tmp_path: Path) -> None:
    root = make_project({"leads/acme.md": GOOD})
    profile = tmp_path / "check.prof"
    result = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "funnel_site", "check", str(root), "--today", TODAY],
                            capture_output=True, text=True, env=BUFFERED)
    assert (result.returncode, result.stdout) == (0, "checked 1 lead: 0 errors, 0 warnings\n")
    assert profile.stat().st_size > 0
