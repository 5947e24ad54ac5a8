"""The commit policy: who may change which pipeline files, checked commit by commit over a git range.

Roles come from config.yaml as it was *before* each commit (its parent), so nobody can grant
themselves rights in the commit that uses them; a commit whose parent has no valid config.yaml uses
its own. Git is read through its plumbing commands in a subprocess; nothing is written.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from funnel_site.config import CONFIG_FILE, parse_config
from funnel_site.frontmatter import decode, split_lead
from funnel_site.model import Config
from funnel_site.problems import UsageError
from funnel_site.strict_yaml import YamlError, parse_yaml

TEMPLATES_PREFIX = "templates/"
LEADS_PREFIX = "leads/"
UNREADABLE = "unreadable front matter"  # shown instead of an owner; never a member id (ids have no spaces)
NO_OWNER = "none"
VERBS = {"A": "add", "D": "delete", "R": "rename", "C": "add"}
ID_LIKE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Commit:
    sha: str
    short: str
    parents: tuple[str, ...]
    name: str
    email: str

    @property
    def author(self) -> str:
        return f"{self.name} <{self.email}>"


@dataclass(frozen=True)
class Violation:
    commit: Commit
    file: str
    rule: str

    def __str__(self) -> str:
        return _printable(f"{self.commit.short} {self.commit.author}: {self.file}: {self.rule}")


@dataclass(frozen=True)
class PolicyResult:
    commits: int  # in the range
    checked: int  # of those, the ones that change something in the pipeline directory
    violations: tuple[Violation, ...]


@dataclass(frozen=True)
class Change:
    """One changed file, with pipeline-relative paths; ``before`` is None when added, ``after`` when deleted."""

    status: str
    before: str | None
    after: str | None

    @property
    def label(self) -> str:
        if self.before and self.after and self.before != self.after:
            return f"{self.before} -> {self.after}"
        return self.before or self.after or ""

    @property
    def verb(self) -> str:
        return VERBS.get(self.status, "change")


@dataclass(frozen=True)
class Author:
    """The team members a commit author's email belongs to (usually one)."""

    ids: frozenset[str]
    manager: bool


class Git:
    """Read-only access to the repository that holds the pipeline directory."""

    def __init__(self, directory: Path) -> None:
        if not directory.is_dir():
            raise UsageError(f"{directory} is not a directory")
        self.directory = directory
        try:
            self.prefix = self.run("rev-parse", "--show-prefix").decode().strip()
        except GitFailed as error:
            raise UsageError(f"{directory} is not inside a git repository ({error})") from None

    def run(self, *args: str, stdin: bytes | None = None) -> bytes:
        try:
            done = subprocess.run(["git", "-C", str(self.directory), *args], input=stdin, capture_output=True, check=False)
        except FileNotFoundError:
            raise UsageError("git is not installed (the policy command reads the history with git)") from None
        if done.returncode != 0:
            raise GitFailed(done.stderr.decode(errors="replace").strip().splitlines()[0] if done.stderr.strip() else "git failed")
        return done.stdout

    def commit_id(self, rev: str) -> str:
        try:
            return self.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}").decode().strip()
        except GitFailed:
            raise UsageError(f"unknown revision '{rev}' in {self.directory}") from None

    def commits(self, base: str, head: str) -> list[Commit]:
        """The commits in base..head, oldest first."""
        text = self.run("rev-list", "--reverse", "--format=%H%x00%h%x00%P%x00%an%x00%ae", f"{base}..{head}").decode(errors="replace")
        found = []
        for line in text.splitlines():
            if line.startswith("commit "):
                continue
            sha, short, parents, name, email = line.split("\0")
            found.append(Commit(sha, short, tuple(parents.split()), name, email))
        return found

    def changes(self, commit: Commit) -> list[Change]:
        """Files the commit changes inside the pipeline directory (a merge: only files unlike every parent)."""
        if len(commit.parents) > 1:
            raw = self.run("diff-tree", "-r", "-c", "--name-only", "--no-commit-id", "-z", commit.sha)
            paths = [p for p in raw.decode(errors="surrogateescape").split("\0") if p]
            return [Change("M", p, p) for p in self._inside(paths)]
        against = [commit.parents[0], commit.sha] if commit.parents else ["--root", commit.sha]
        raw = self.run("diff-tree", "-r", "-M", "--name-status", "--no-commit-id", "-z", *against)
        return self._parse_name_status(raw.decode(errors="surrogateescape").split("\0"))

    def _parse_name_status(self, fields: list[str]) -> list[Change]:
        changes, index = [], 0
        while index < len(fields) and fields[index]:
            status = fields[index][0]
            if status in "RC":
                before, after = self._relative(fields[index + 1]), self._relative(fields[index + 2])
                index += 3
                if status == "C":
                    before = None  # a copy leaves its source untouched
            else:
                path = self._relative(fields[index + 1])
                before, after = (None if status == "A" else path), (None if status == "D" else path)
                index += 2
            if before is not None or after is not None:
                changes.append(Change(status, before, after))
        return changes

    def _relative(self, path: str) -> str | None:
        return path[len(self.prefix):] if path.startswith(self.prefix) else None

    def _inside(self, paths: Iterable[str]) -> list[str]:
        return [r for r in (self._relative(p) for p in paths) if r is not None]

    def read(self, requests: list[tuple[str, str]]) -> dict[tuple[str, str], bytes | None]:
        """Blob contents for (commit, pipeline-relative path) pairs, in one call; None where there is no file."""
        wanted = [(rev, path) for rev, path in dict.fromkeys(requests) if "\n" not in path]
        if not wanted:
            return {}
        stdin = "".join(f"{rev}:{self.prefix}{path}\n" for rev, path in wanted).encode(errors="surrogateescape")
        output = self.run("cat-file", "--batch", stdin=stdin)
        contents: dict[tuple[str, str], bytes | None] = {}
        position = 0
        for key in wanted:
            end = output.index(b"\n", position)
            header = output[position:end].split(b" ")
            position = end + 1
            if header[-1] in (b"missing", b"ambiguous") or len(header) != 3:
                contents[key] = None
                continue
            size = int(header[2])
            contents[key] = output[position : position + size] if header[1] == b"blob" else b""
            position += size + 1
        return contents


class GitFailed(Exception):
    """A git command exited with an error; the message is git's first line."""


def check_policy(directory: Path, base: str, head: str = "HEAD") -> PolicyResult:
    """Check every commit in base..head; bad revisions or a missing repository are usage errors."""
    git = Git(directory)
    commits = git.commits(git.commit_id(base), git.commit_id(head))
    violations: list[Violation] = []
    checked = 0
    for commit in commits:
        changes = git.changes(commit)
        if changes:
            checked += 1
            violations.extend(check_commit(git, commit, changes))
    return PolicyResult(len(commits), checked, tuple(violations))


def check_commit(git: Git, commit: Commit, changes: list[Change]) -> list[Violation]:
    """The violations of one commit that changes the pipeline."""
    requests = [(rev, CONFIG_FILE) for rev in (*commit.parents[:1], commit.sha)]
    requests += _lead_requests(commit, changes)
    files = git.read(requests)
    config = _config_at(files, commit)
    if config is None:
        rule = "no valid config.yaml before or in this commit, so its author cannot be checked"
        return [Violation(commit, CONFIG_FILE, rule)]
    author = find_author(config, commit.email)
    if author is None:
        return [Violation(commit, CONFIG_FILE, f"unknown author: no team member has the email {commit.email}")]
    if author.manager:
        return []
    return [Violation(commit, change.label, rule) for change in changes if (rule := member_rule(change, commit, files, author))]


def _lead_requests(commit: Commit, changes: list[Change]) -> list[tuple[str, str]]:
    requests = []
    for change in changes:
        if change.before and is_lead(change.before):
            requests += [(parent, change.before) for parent in commit.parents]
        if change.after and is_lead(change.after):
            requests.append((commit.sha, change.after))
    return requests


def _config_at(files: dict[tuple[str, str], bytes | None], commit: Commit) -> Config | None:
    for rev in (*commit.parents[:1], commit.sha):
        config = parse_config_bytes(files.get((rev, CONFIG_FILE)))
        if config is not None:
            return config
    return None


def parse_config_bytes(raw: bytes | None) -> Config | None:
    """A valid Config from config.yaml's bytes, or None (absent or invalid)."""
    if raw is None:
        return None
    text, _ = decode(CONFIG_FILE, raw)
    if text is None:
        return None
    try:
        data, lines = parse_yaml(text)
    except YamlError:
        return None
    return parse_config(data, lines)[0]


def find_author(config: Config, email: str) -> Author | None:
    """The members with this email (compared case-insensitively); a manager only if every match is one."""
    key = email.strip().casefold()
    matches = [m for m in config.team if m.email and m.email.strip().casefold() == key]
    if not matches:
        return None
    return Author(frozenset(m.id for m in matches), all(m.role == "manager" for m in matches))


def is_lead(path: str) -> bool:
    """The files load reads as leads: leads/**/*.md, no hidden file or folder."""
    return path.startswith(LEADS_PREFIX) and path.endswith(".md") and not any(p.startswith(".") for p in path.split("/"))


def member_rule(change: Change, commit: Commit, files: dict[tuple[str, str], bytes | None], author: Author) -> str | None:
    """The rule a member breaks with this change, or None."""
    paths = [p for p in (change.before, change.after) if p]
    if CONFIG_FILE in paths:
        return "only managers may change config.yaml"
    if any(p.startswith(TEMPLATES_PREFIX) for p in paths):
        return "only managers may change templates"
    before = [lead_owner(files.get((parent, change.before))) for parent in commit.parents] if change.before and is_lead(change.before) else []
    after = [lead_owner(files.get((commit.sha, change.after)))] if change.after and is_lead(change.after) else []
    return ownership_rule(change.verb, [o for o in before if o is not None], [o for o in after if o is not None], author.ids)


def ownership_rule(verb: str, before: list[str], after: list[str], own: frozenset[str]) -> str | None:
    """A member's lead change is allowed only when every version before and after is their own."""
    wrong_before = [o for o in before if o not in own]
    wrong_after = [o for o in after if o not in own]
    if not wrong_before and not wrong_after:
        return None
    if before and not wrong_before:
        return f"member may not hand a lead to someone else (owner after: {_owners(wrong_after)})"
    if not before:
        return f"member may only {verb} own leads (owner: {_owners(wrong_after)})"
    details = [f"owner before: {_owners(wrong_before)}"]
    if wrong_after and set(wrong_after) != set(wrong_before):
        details.append(f"owner after: {_owners(wrong_after)}")
    return f"member may only {verb} own leads ({', '.join(details)})"


def _owners(owners: list[str]) -> str:
    return ", ".join(dict.fromkeys(owners))


def lead_owner(raw: bytes | None) -> str | None:
    """The owner written in a lead file's front matter; None when there is no such file."""
    if raw is None:
        return None
    text, _ = decode("lead", raw)
    source = split_lead("lead", text)[0] if text is not None else None
    if source is None:
        return UNREADABLE
    owner = source.data.get("owner")
    if owner is None:
        return NO_OWNER
    return owner if isinstance(owner, str) and ID_LIKE.match(owner) else f"'{_printable(str(owner))[:40]}'"



def _printable(text: str) -> str:
    """One line, whatever names and paths hold: control characters escaped, so CI logs cannot be forged."""
    text = text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
