"""The model kept in memory while serving: re-read only changed files, rewrite only changed pages."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Iterable

from funnel_site.build import InvalidLeads, check_project, render_checked, sync_site
from funnel_site.config import CONFIG_FILE
from funnel_site.load import LEADS_DIR, find_lead_files, load_config, load_project, read_lead
from funnel_site.model import Lead, Project
from funnel_site.problems import ConfigError, Problem, sort_problems
from funnel_site.render import PageCache


RELOAD_SCRIPT = "/__livereload.js"
_RELOAD_TAG = f'<script src="{RELOAD_SCRIPT}" defer></script>\n</head>'.encode()


def with_reload_script(files: dict[str, bytes]) -> dict[str, bytes]:
    """The dev server's pages load the live-reload script; a normal build never contains it."""
    return {path: data.replace(b"</head>", _RELOAD_TAG, 1) if path.endswith(".html") else data for path, data in files.items()}


@dataclass
class Outcome:
    """What one rebuild did: the problems that block the site (empty when it succeeded) and pages written."""

    problems: list[Problem]
    written: int = 0
    removed: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class DevSession:
    """One pipeline being served. Not thread-safe: one watcher thread drives it."""

    root: Path
    out: Path
    today: date
    project: Project | None = None
    leads: dict[str, Lead] = field(default_factory=dict)  # by path
    lead_problems: dict[str, list[Problem]] = field(default_factory=dict)  # by path
    files: dict[str, bytes] = field(default_factory=dict)  # what is on disk in `out`
    pages: PageCache = field(default_factory=dict)  # rendered pages and what they showed

    def __post_init__(self) -> None:
        self.root = self.root.resolve()  # watchfiles reports paths under the resolved root

    def full_build(self) -> Outcome:
        """Read everything again (start-up, config or template change)."""
        try:
            project = load_project(self.root)
        except ConfigError as error:
            self.project = None
            return Outcome(list(error.problems))
        self.leads = {lead.path: lead for lead in project.leads}
        self.pages = {}  # config or templates may have changed: nothing rendered before is reused
        _, scan_problems = find_lead_files(self.root)
        self.lead_problems = {}
        for problem in project.problems:
            if problem not in scan_problems:  # those are found afresh by every apply()
                self.lead_problems.setdefault(problem.path, []).append(problem)
        self.project = project
        return self._publish()

    def apply(self, changed: Iterable[Path]) -> Outcome:
        """Rebuild after the given files changed (added, modified or deleted)."""
        relative = {self._relative(path) for path in changed}
        relative.discard(None)
        if self.project is None or any(p == CONFIG_FILE or p.startswith("templates/") for p in relative):  # type: ignore[union-attr]
            return self.full_build()
        paths, file_problems = find_lead_files(self.root)
        known = set(paths)
        self.lead_problems = {path: found for path, found in self.lead_problems.items() if path in known}
        # A file saved into a folder that was just created can beat the watch on that folder;
        # whatever is on disk but not yet in memory is read too.
        unseen = {p for p in known if p not in self.leads and p not in self.lead_problems}
        for path in sorted(unseen | {p for p in relative if p.startswith(f"{LEADS_DIR}/")}):  # type: ignore[union-attr]
            self.leads.pop(path, None)
            self.lead_problems.pop(path, None)
            if path in known:
                lead, problems = read_lead(self.root, path, self.project.config)
                if lead is not None:
                    self.leads[path] = lead
                if problems:
                    self.lead_problems[path] = problems
        for path in list(self.leads):  # a folder rename shows up as one event for the folder
            if path not in known:
                self.leads.pop(path)
        problems = [p for path, found in self.lead_problems.items() if path in known for p in found]
        leads = tuple(self.leads[p] for p in sorted(self.leads))
        self.project = replace(self.project, leads=leads, problems=tuple(sort_problems([*problems, *file_problems])))
        return self._publish()

    def _publish(self) -> Outcome:
        assert self.project is not None
        try:
            checked = check_project(self.project, self.today)
        except InvalidLeads as error:
            return Outcome([p for p in error.problems if p.is_error])
        try:
            files = with_reload_script(render_checked(checked, self.pages))
        except ConfigError as error:
            return Outcome(list(error.problems))
        written, removed = sync_site(files, self.out, self.files)
        self.files = files
        return Outcome([], written, removed)

    def _relative(self, path: Path) -> str | None:
        """The path as the pipeline names it; not resolved, so a symlinked lead keeps its own name."""
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return None
