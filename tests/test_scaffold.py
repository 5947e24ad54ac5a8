"""`funnel-site init`: a pipeline repository that checks, builds and runs in CI and pre-commit as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from conftest import TODAY
from funnel_site.cache import CACHE_DIR_NAME
from funnel_site.cli import make_parser

REPO = Path(__file__).resolve().parent.parent
CREATED = [
    ".github/workflows/funnel-site.yml", ".gitignore", ".gitlab-ci.yml", ".pre-commit-config.yaml", "config.yaml",
    "leads/example-newsletter-idea.md", "leads/example-support-retainer.md", "leads/example-website-relaunch.md",
]


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_init_creates_a_pipeline_that_checks_clean_and_builds(tmp_path, run_cli):
    root = tmp_path / "sales"
    result = run_cli("init", str(root), "--today", TODAY)
    assert (result.code, result.err) == (0, "")
    assert result.out == f"created a pipeline in {root} (8 files); next: cd {root} && git init && funnel-site check\n"
    assert _files(root) == CREATED
    checked = run_cli("check", str(root), "--today", TODAY)
    assert (checked.code, checked.out, checked.err) == (0, "checked 3 leads: 0 errors, 0 warnings\n", "")
    built = run_cli("build", str(root), "--today", TODAY)
    assert (built.code, built.out) == (0, f"built 3 leads into {root}/_site (0 errors, 0 warnings)\n")
    report = run_cli("report", str(root), "--today", TODAY).out
    assert "1 active lead worth 48.000\xa0€, weighted forecast 24.000\xa0€; won 12.000\xa0€" in report


def test_init_fills_dates_and_quarters_from_today(tmp_path, run_cli):
    root = tmp_path / "p"
    run_cli("init", str(root), "--today", "2027-03-31")
    config = (root / "config.yaml").read_text()
    assert "targets:\n  2027-Q1: 120000\n  2027-Q2: 150000\n" in config
    relaunch = (root / "leads/example-website-relaunch.md").read_text()
    assert "expected_close: 2027-05-15\ncreated: 2027-02-19\n" in relaunch
    for path in _files(root):
        assert not re.search(r"\$\{[a-z_]+\}", (root / path).read_text()), path


def test_init_never_overwrites_and_writes_nothing_when_it_refuses(tmp_path, run_cli):
    root = tmp_path / "repo"
    (root / "leads").mkdir(parents=True)
    (root / ".gitignore").write_text("mine\n")
    result = run_cli("init", str(root), "--today", TODAY)
    assert (result.code, result.out) == (2, "")
    assert result.err == f"funnel-site: error: {root}/.gitignore already exists; init never overwrites files (use an empty directory)\n"
    assert _files(root) == [".gitignore"]
    assert (root / ".gitignore").read_text() == "mine\n"


def test_init_into_a_file_is_refused(tmp_path, run_cli):
    (tmp_path / "f").write_text("x")
    result = run_cli("init", str(tmp_path / "f"), "--today", TODAY)
    assert (result.code, result.err) == (2, f"funnel-site: error: {tmp_path}/f exists and is not a directory\n")


def _commands(script_lines: list[str]) -> list[list[str]]:
    """Every `funnel-site …` command in CI script lines, without shell redirections and `|| true`."""
    found = []
    for line in script_lines:
        line = line.split("||")[0].split(">")[0]
        words = shlex.split(line)
        if words[:1] == ["funnel-site"]:
            found.append(words[1:])
    return found


def _parses(arguments: list[str]) -> None:
    args = make_parser().parse_args(arguments)
    assert args.run is not None


def test_github_workflow_runs_real_commands(tmp_path, run_cli):
    run_cli("init", str(tmp_path / "p"), "--today", TODAY)
    workflow = yaml.safe_load((tmp_path / "p/.github/workflows/funnel-site.yml").read_text())
    steps = workflow["jobs"]["check-and-build"]["steps"]
    commands = _commands([step["run"] for step in steps if "run" in step])
    assert commands == [["check", ".", "--format", "github"], ["report", ".", "--markdown"], ["build", ".", "-o", "_site"]]
    for command in commands:
        _parses(command)
    assert [step.get("uses") for step in steps if "uses" in step] == [
        "actions/checkout@v4", "actions/setup-python@v5", "actions/cache@v4", "actions/upload-artifact@v4",
        "actions/upload-pages-artifact@v3",
    ]
    assert workflow["env"]["FUNNEL_SITE_PACKAGE"] == "funnel-site==0.1.0"
    assert "vars.FUNNEL_SITE_PAGES == 'true'" in workflow["jobs"]["pages"]["if"]  # publishing is opt-in
    policy = workflow["jobs"]["policy"]["steps"]
    assert policy[0] == {"uses": "actions/checkout@v4", "with": {"fetch-depth": 0}}  # the whole range is needed
    policy_command = policy[-1]["run"].splitlines()[-1].split()
    assert policy_command == ["funnel-site", "policy", "--base", '"$BASE"', "--head", '"$HEAD_SHA"', "."]
    _parses(["policy", "--base", "x", "--head", "y", "."])


def test_gitlab_ci_publishes_code_quality_and_junit_reports(tmp_path, run_cli):
    run_cli("init", str(tmp_path / "p"), "--today", TODAY)
    ci = yaml.safe_load((tmp_path / "p/.gitlab-ci.yml").read_text())
    check = ci["check"]
    assert ci["stages"] == ["check", "build", "deploy"]
    assert check["artifacts"]["reports"] == {"codequality": "gl-code-quality-report.json", "junit": "funnel-site-junit.xml"}
    assert check["script"][0].endswith("> gl-code-quality-report.json || true")
    assert check["script"][1].endswith("> funnel-site-junit.xml || true")
    commands = _commands(check["script"] + ci["build"]["script"])
    assert commands[:3] == [["check", ".", "--format", "gitlab"], ["check", ".", "--format", "junit"], ["check", "."]]
    for command in commands:
        _parses(command)
    assert ci["pages"]["script"] == ["mv _site public"] and ci["pages"]["artifacts"]["paths"] == ["public"]
    assert ci["policy"]["variables"] == {"GIT_DEPTH": 0} and ci["policy"]["stage"] == "check"
    assert ci["policy"]["script"][-1] == 'funnel-site policy --base "$BASE" --head "$CI_COMMIT_SHA" .'
    assert ci["pages"]["rules"][0]["if"].startswith('$FUNNEL_SITE_PAGES == "true"')


def test_github_workflow_keeps_the_parse_cache_and_the_site_between_runs(tmp_path, run_cli):
    run_cli("init", str(tmp_path / "p"), "--today", TODAY)
    steps = yaml.safe_load((tmp_path / "p/.github/workflows/funnel-site.yml").read_text())["jobs"]["check-and-build"]["steps"]
    names = [step.get("name") for step in steps]
    cache = steps[names.index("Restore the build cache")]
    assert cache == {"name": "Restore the build cache", "uses": "actions/cache@v4", "with": {
        "path": f"{CACHE_DIR_NAME}\n_site\n",
        "key": "funnel-site-${{ runner.os }}-${{ github.sha }}",
        "restore-keys": "funnel-site-${{ runner.os }}-\n",
    }}
    assert names.index("Restore the build cache") < names.index("Check the lead files")  # the check parses too
    build = _commands([step["run"] for step in steps if step.get("name") == "Build the dashboard"])
    assert build == [["build", ".", "-o", "_site"]]  # the folder kept is the one built, so pages are reused


def test_gitlab_ci_keeps_the_parse_cache_and_the_site_per_branch(tmp_path, run_cli):
    run_cli("init", str(tmp_path / "p"), "--today", TODAY)
    ci = yaml.safe_load((tmp_path / "p/.gitlab-ci.yml").read_text())
    kept = {
        "key": "funnel-site-$CI_COMMIT_REF_SLUG", "fallback_keys": ["funnel-site-$CI_DEFAULT_BRANCH"],
        "paths": [f"{CACHE_DIR_NAME}/", "_site/"],
    }
    assert ci["build"]["cache"] == kept
    assert ci["check"]["cache"] == {**kept, "policy": "pull"}  # only the build saves it
    assert _commands(ci["build"]["script"]) == [["build", ".", "-o", "_site"]]
    assert "cache" not in ci["policy"] and "cache" not in ci["pages"] and "cache" not in ci["default"]


def _hook_files_pattern(hook: dict) -> re.Pattern[str]:
    return re.compile(hook["files"])


@pytest.mark.parametrize("source", ["scaffold", "repository"])
def test_pre_commit_hooks_check_the_whole_pipeline_when_a_lead_or_the_config_changes(tmp_path, run_cli, source):
    if source == "scaffold":
        run_cli("init", str(tmp_path / "p"), "--today", TODAY)
        hooks = yaml.safe_load((tmp_path / "p/.pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    else:
        hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert (hook["id"], hook["entry"], hook["pass_filenames"]) == ("funnel-site-check", "funnel-site check", False)
    assert hook["language"] == ("system" if source == "scaffold" else "python")
    _parses(shlex.split(hook["entry"])[1:])
    pattern = _hook_files_pattern(hook)
    assert [bool(pattern.search(p)) for p in ("config.yaml", "leads/a.md", "leads/sub/b.md", "README.md", "leads/notes.txt")] == [
        True, True, True, False, False,
    ]
