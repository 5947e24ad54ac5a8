"""`funnel-site policy`: commits by different authors on a temporary git repository."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Callable

import pytest

from conftest import Run

CONFIG = """\
title: Policy Pipeline
currency: EUR
stages:
  - {id: lead, name: Lead, probability: 10}
team:
  - {id: anna, name: Anna Berg, email: anna@example.com, role: manager}
  - {id: ben, name: Ben Ott, email: ben@example.com, role: member}
  - {id: cara, name: Cara Lind, email: Cara.Lind@Example.com}
"""
ANNA = ("Anna Berg", "anna@example.com")
BEN = ("Ben Ott", "ben@example.com")
CARA = ("Cara Lind", "cara.lind@example.com")  # config spells it Cara.Lind@Example.com
EVE = ("Eve Mallory", "eve@example.com")


def lead(owner: str, title: str = "Deal") -> str:
    return f"---\ntitle: {title}\nowner: {owner}\n---\nNotes.\n"


class Repo:
    """A git repository in a temporary folder; every commit is made by the given author."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, author: tuple[str, str] = ANNA, check: bool = True) -> str:
        name, email = author
        command = ["git", "-c", f"user.name={name}", "-c", f"user.email={email}", "-c", "commit.gpgsign=false", *args]
        return subprocess.run(command, cwd=self.path, check=check, capture_output=True, text=True).stdout.strip()

    def commit(self, author: tuple[str, str], files: dict[str, str] | None = None, delete: tuple[str, ...] = (),
               move: tuple[str, str] | None = None, message: str = "change") -> str:
        """Write, delete or move files, commit everything as ``author``; the short hash."""
        for relative, text in (files or {}).items():
            (self.path / relative).parent.mkdir(parents=True, exist_ok=True)
            (self.path / relative).write_text(text)
        for relative in delete:
            self.git("rm", "-q", relative)
        if move:
            (self.path / move[1]).parent.mkdir(parents=True, exist_ok=True)
            self.git("mv", *move)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, author=author)
        return self.git("rev-parse", "--short", "HEAD")


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git config (signing, hooks, templates) may change these repositories."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GIT_DIR", raising=False)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """A pipeline with Anna's and Ben's leads, committed by Anna; the base of every range."""
    repo = Repo(tmp_path / "repo")
    repo.commit(ANNA, {"config.yaml": CONFIG, "leads/anna-deal.md": lead("anna"), "leads/ben-deal.md": lead("ben"),
                       "templates/base.html": "<html></html>\n", "README.md": "Pipeline\n"}, message="base")
    repo.git("tag", "base")
    return repo


def policy(run_cli: Callable[..., Run], repo: Repo, *extra: str) -> Run:
    return run_cli("policy", "--base", "base", *extra, str(repo.path))


def test_member_may_add_change_rename_and_delete_own_leads(repo: Repo, run_cli: Callable[..., Run]) -> None:
    repo.commit(BEN, {"leads/ben-new.md": lead("ben", "New")})
    repo.commit(BEN, {"leads/ben-deal.md": lead("ben", "Deal, edited")})
    repo.commit(BEN, move=("leads/ben-deal.md", "leads/region/ben-moved.md"))
    repo.commit(BEN, delete=("leads/ben-new.md",))
    repo.commit(BEN, {"README.md": "Pipeline of the team\n", "docs/howto.txt": "How to\n"})  # other files
    result = policy(run_cli, repo)
    assert (result.code, result.err, result.out) == (0, "", "policy: 5 of 5 commits checked, 0 violations\n")


def test_member_may_not_create_a_lead_for_someone_else(repo: Repo, run_cli: Callable[..., Run]) -> None:
    short = repo.commit(BEN, {"leads/for-anna.md": lead("anna")})
    result = policy(run_cli, repo)
    assert result.code == 1
    assert result.err == (
        f"{short} Ben Ott <ben@example.com>: leads/for-anna.md: member may only add own leads (owner: anna)\n"
        "policy: 1 of 1 commits checked, 1 violation\n"
    )


def test_member_may_not_edit_someone_elses_lead(repo: Repo, run_cli: Callable[..., Run]) -> None:
    short = repo.commit(BEN, {"leads/anna-deal.md": lead("anna", "Deal, edited by Ben")})
    result = policy(run_cli, repo)
    assert result.err.splitlines()[0] == (
        f"{short} Ben Ott <ben@example.com>: leads/anna-deal.md: member may only change own leads (owner before: anna)"
    )
    assert result.code == 1


def test_member_may_not_take_over_or_hand_off_a_lead(repo: Repo, run_cli: Callable[..., Run]) -> None:
    take = repo.commit(BEN, {"leads/anna-deal.md": lead("ben")})
    hand = repo.commit(BEN, {"leads/ben-deal.md": lead("cara")})
    result = policy(run_cli, repo)
    assert result.err.splitlines() == [
        f"{take} Ben Ott <ben@example.com>: leads/anna-deal.md: member may only change own leads (owner before: anna)",
        f"{hand} Ben Ott <ben@example.com>: leads/ben-deal.md: member may not hand a lead to someone else (owner after: cara)",
        "policy: 2 of 2 commits checked, 2 violations",
    ]
    assert result.code == 1


def test_member_may_not_rename_or_delete_someone_elses_lead(repo: Repo, run_cli: Callable[..., Run]) -> None:
    moved = repo.commit(BEN, move=("leads/anna-deal.md", "leads/archive/anna-deal.md"))
    deleted = repo.commit(BEN, delete=("leads/archive/anna-deal.md",))
    result = policy(run_cli, repo)
    assert result.err.splitlines()[:2] == [
        f"{moved} Ben Ott <ben@example.com>: leads/anna-deal.md -> leads/archive/anna-deal.md: "
        "member may only rename own leads (owner before: anna)",
        f"{deleted} Ben Ott <ben@example.com>: leads/archive/anna-deal.md: member may only delete own leads (owner before: anna)",
    ]


def test_member_may_not_change_config_or_templates(repo: Repo, run_cli: Callable[..., Run]) -> None:
    config = repo.commit(BEN, {"config.yaml": CONFIG.replace("Policy Pipeline", "Ben's Pipeline")})
    template = repo.commit(BEN, {"templates/base.html": "<html>mine</html>\n", "templates/assets/extra.css": "p {}\n"})
    result = policy(run_cli, repo)
    assert result.err.splitlines() == [
        f"{config} Ben Ott <ben@example.com>: config.yaml: only managers may change config.yaml",
        f"{template} Ben Ott <ben@example.com>: templates/assets/extra.css: only managers may change templates",
        f"{template} Ben Ott <ben@example.com>: templates/base.html: only managers may change templates",
        "policy: 2 of 2 commits checked, 3 violations",
    ]


def test_roles_come_from_the_config_before_the_commit(repo: Repo, run_cli: Callable[..., Run]) -> None:
    """Ben cannot promote himself and use the new role in the same commit."""
    promoted = CONFIG.replace("ben@example.com, role: member", "ben@example.com, role: manager")
    short = repo.commit(BEN, {"config.yaml": promoted, "leads/anna-deal.md": lead("ben")})
    result = policy(run_cli, repo)
    assert result.err.splitlines()[:2] == [
        f"{short} Ben Ott <ben@example.com>: config.yaml: only managers may change config.yaml",
        f"{short} Ben Ott <ben@example.com>: leads/anna-deal.md: member may only change own leads (owner before: anna)",
    ]


def test_a_member_added_by_a_manager_may_work_from_the_next_commit(repo: Repo, run_cli: Callable[..., Run]) -> None:
    dora = ("Dora Weiss", "dora@example.com")
    early = repo.commit(dora, {"leads/dora-first.md": lead("dora")})
    repo.commit(ANNA, {"config.yaml": CONFIG + "  - {id: dora, name: Dora Weiss, email: dora@example.com}\n"})
    repo.commit(dora, {"leads/dora-second.md": lead("dora")})
    result = policy(run_cli, repo)
    assert result.err.splitlines() == [
        f"{early} Dora Weiss <dora@example.com>: config.yaml: unknown author: no team member has the email dora@example.com",
        "policy: 3 of 3 commits checked, 1 violation",
    ]


def test_unknown_author_is_a_violation(repo: Repo, run_cli: Callable[..., Run]) -> None:
    short = repo.commit(EVE, {"README.md": "Changed by someone outside the team\n"})
    result = policy(run_cli, repo)
    assert result.err.splitlines() == [
        f"{short} Eve Mallory <eve@example.com>: config.yaml: unknown author: no team member has the email eve@example.com",
        "policy: 1 of 1 commits checked, 1 violation",
    ]
    assert result.code == 1


def test_manager_may_change_everything(repo: Repo, run_cli: Callable[..., Run]) -> None:
    repo.commit(ANNA, {"leads/ben-deal.md": lead("cara"), "leads/for-ben.md": lead("ben")})
    repo.commit(ANNA, {"config.yaml": CONFIG.replace("Policy Pipeline", "Renamed"), "templates/base.html": "<p></p>\n"})
    repo.commit(ANNA, move=("leads/for-ben.md", "leads/ben/for-ben.md"))
    repo.commit(ANNA, delete=("leads/anna-deal.md",))
    repo.commit(ANNA, {"leads/broken.md": "no front matter\n"})
    result = policy(run_cli, repo)
    assert (result.code, result.err, result.out) == (0, "", "policy: 5 of 5 commits checked, 0 violations\n")


def test_emails_match_case_insensitively(repo: Repo, run_cli: Callable[..., Run]) -> None:
    repo.commit(CARA, {"leads/cara-deal.md": lead("cara")})
    short = repo.commit(CARA, {"leads/ben-deal.md": lead("cara")})
    result = policy(run_cli, repo)
    assert result.err.splitlines() == [
        f"{short} Cara Lind <cara.lind@example.com>: leads/ben-deal.md: member may only change own leads (owner before: ben)",
        "policy: 2 of 2 commits checked, 1 violation",
    ]


def test_unparseable_lead_is_not_owned_by_a_member(repo: Repo, run_cli: Callable[..., Run]) -> None:
    added = repo.commit(BEN, {"leads/ben-broken.md": "---\ntitle: [unclosed\nowner: ben\n---\n"})
    no_owner = repo.commit(BEN, {"leads/ben-nobody.md": "---\ntitle: Nobody's\n---\n"})
    result = policy(run_cli, repo)
    assert result.err.splitlines()[:2] == [
        f"{added} Ben Ott <ben@example.com>: leads/ben-broken.md: member may only add own leads (owner: unreadable front matter)",
        f"{no_owner} Ben Ott <ben@example.com>: leads/ben-nobody.md: member may only add own leads (owner: none)",
    ]


def test_several_violations_in_one_commit_are_all_reported(repo: Repo, run_cli: Callable[..., Run]) -> None:
    short = repo.commit(BEN, {"leads/anna-deal.md": lead("anna", "X"), "leads/new-for-cara.md": lead("cara"),
                              "leads/ben-deal.md": lead("ben", "Own edit")})
    result = policy(run_cli, repo)
    assert result.err.splitlines() == [
        f"{short} Ben Ott <ben@example.com>: leads/anna-deal.md: member may only change own leads (owner before: anna)",
        f"{short} Ben Ott <ben@example.com>: leads/new-for-cara.md: member may only add own leads (owner: cara)",
        "policy: 1 of 1 commits checked, 2 violations",
    ]


def test_head_limits_the_range(repo: Repo, run_cli: Callable[..., Run]) -> None:
    repo.commit(BEN, {"leads/ben-new.md": lead("ben")})
    repo.git("tag", "good")
    repo.commit(BEN, {"leads/anna-deal.md": lead("ben")})
    assert policy(run_cli, repo, "--head", "good").code == 0
    assert policy(run_cli, repo).code == 1


def test_clean_merges_are_not_checked_but_their_commits_are(repo: Repo, run_cli: Callable[..., Run]) -> None:
    repo.git("checkout", "-q", "-b", "ben-work")
    own = repo.commit(BEN, {"leads/ben-deal.md": lead("ben", "Edited on a branch")})
    bad = repo.commit(BEN, {"leads/anna-deal.md": lead("anna", "Edited on a branch")})
    repo.git("checkout", "-q", "main")
    repo.commit(ANNA, {"README.md": "Main moved on\n"})
    repo.git("merge", "-q", "--no-ff", "--no-edit", "ben-work", author=("GitHub", "noreply@github.com"))
    result = policy(run_cli, repo)
    assert own and result.err.splitlines() == [
        f"{bad} Ben Ott <ben@example.com>: leads/anna-deal.md: member may only change own leads (owner before: anna)",
        "policy: 3 of 4 commits checked, 1 violation",
    ]


def test_changes_made_in_a_merge_itself_are_checked(repo: Repo, run_cli: Callable[..., Run]) -> None:
    repo.git("checkout", "-q", "-b", "ben-work")
    repo.commit(BEN, {"leads/ben-deal.md": lead("ben", "Branch")})
    repo.git("checkout", "-q", "main")
    repo.commit(ANNA, {"leads/ben-deal.md": lead("ben", "Main")})
    repo.git("merge", "-q", "ben-work", author=BEN, check=False)  # conflicts in leads/ben-deal.md
    (repo.path / "leads/ben-deal.md").write_text(lead("ben", "Resolved"))
    (repo.path / "leads/anna-deal.md").write_text(lead("anna", "Slipped into the merge"))
    repo.git("add", "-A")
    repo.git("commit", "-q", "--no-edit", author=BEN)
    merge = repo.git("rev-parse", "--short", "HEAD")
    result = policy(run_cli, repo)
    assert result.err.splitlines() == [
        f"{merge} Ben Ott <ben@example.com>: leads/anna-deal.md: member may only change own leads (owner before: anna)",
        "policy: 3 of 3 commits checked, 1 violation",
    ]


def test_pipeline_in_a_subfolder_ignores_the_rest_of_the_repository(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    repo = Repo(tmp_path / "mono")
    repo.commit(ANNA, {"sales/config.yaml": CONFIG, "sales/leads/anna-deal.md": lead("anna"), "app/main.py": "x = 1\n"})
    repo.git("tag", "base")
    repo.commit(EVE, {"app/main.py": "x = 2\n"})  # outside the pipeline: not checked
    short = repo.commit(BEN, {"sales/leads/anna-deal.md": lead("anna", "Edited")})
    result = run_cli("policy", "--base", "base", str(repo.path / "sales"))
    assert result.err.splitlines() == [
        f"{short} Ben Ott <ben@example.com>: leads/anna-deal.md: member may only change own leads (owner before: anna)",
        "policy: 1 of 2 commits checked, 1 violation",
    ]


def test_first_config_comes_from_the_commit_itself(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    repo = Repo(tmp_path / "new")
    repo.commit(ANNA, {"README.md": "Empty so far\n"})
    repo.git("tag", "base")
    repo.commit(ANNA, {"config.yaml": CONFIG, "leads/anna-deal.md": lead("anna")})
    short = repo.commit(BEN, {"leads/anna-deal.md": lead("ben")})
    result = run_cli("policy", "--base", "base", str(repo.path))
    assert result.err.splitlines() == [
        f"{short} Ben Ott <ben@example.com>: leads/anna-deal.md: member may only change own leads (owner before: anna)",
        "policy: 2 of 2 commits checked, 1 violation",
    ]


def test_no_valid_config_means_no_author_can_be_checked(tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    repo = Repo(tmp_path / "new")
    repo.commit(ANNA, {"README.md": "Empty so far\n"})
    repo.git("tag", "base")
    short = repo.commit(ANNA, {"config.yaml": "title: [broken\n", "leads/a.md": lead("anna")})
    result = run_cli("policy", "--base", "base", str(repo.path))
    assert result.err.splitlines()[0] == (
        f"{short} Anna Berg <anna@example.com>: config.yaml: "
        "no valid config.yaml before or in this commit, so its author cannot be checked"
    )
    assert result.code == 1


def test_empty_range_is_fine(repo: Repo, run_cli: Callable[..., Run]) -> None:
    result = policy(run_cli, repo)
    assert (result.code, result.out) == (0, "policy: 0 of 0 commits checked, 0 violations\n")


def test_control_characters_in_names_cannot_forge_log_lines(repo: Repo, run_cli: Callable[..., Run]) -> None:
    short = repo.commit(BEN, {"leads/anna-deal.md": "---\ntitle: X\nowner: \"anna\\n::error::fake\"\n---\n"})
    result = policy(run_cli, repo)
    assert result.err.splitlines()[0] == (
        f"{short} Ben Ott <ben@example.com>: leads/anna-deal.md: "
        "member may only change own leads (owner before: anna, owner after: 'anna\\x0a::error::fake')"
    )


def test_bad_revision_is_a_usage_error(repo: Repo, run_cli: Callable[..., Run]) -> None:
    result = run_cli("policy", "--base", "no-such-rev", str(repo.path))
    assert (result.code, result.out) == (2, "")
    assert result.err == f"funnel-site: error: unknown revision 'no-such-rev' in {repo.path}\n"
    result = run_cli("policy", "--base", "base", "--head=--all", str(repo.path))
    assert (result.code, result.err) == (2, f"funnel-site: error: unknown revision '--all' in {repo.path}\n")


def test_not_a_git_repository_is_a_usage_error(tmp_path: Path, run_cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    result = run_cli("policy", "--base", "HEAD~1", str(folder))
    assert result.code == 2
    assert result.err.startswith(f"funnel-site: error: {folder} is not inside a git repository (fatal: not a git repository")
