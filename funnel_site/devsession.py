"""The model kept in memory while serving: re-read only changed files, render only changed pages."""

from __future__ import annotations

import bisect
import gc
import itertools
import operator
import os
import posixpath
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Mapping

from funnel_site.build import Checked, render_checked
from funnel_site.cache import collector_paused
from funnel_site.checks import lead_warnings
from funnel_site.config import CONFIG_FILE
from funnel_site.figures import LeadFigures, compute
from funnel_site.load import LEADS_DIR, find_lead_files, load_project, read_lead
from funnel_site.model import Lead, Project
from funnel_site.problems import ConfigError, Problem, sort_problems
from funnel_site.render import PageCache


def _settle() -> None:
    """After a full build: what it keeps (every lead, page and row) is never scanned by the cycle collector again.

    A full collection over 10k leads' objects takes a third of a second, and the garbage of every later
    rebuild would start one now and then; frozen objects are skipped by it. What the previous full build
    froze is unfrozen first, so whatever of it became garbage since is collected here once.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _linked(root: Path, paths: list[str]) -> tuple[str, ...]:
    """The lead files that are symlinks or lie in a symlinked folder: saving what they point at is reported
    under the target's name only, so they are read again on every rebuild."""
    folders = {posixpath.dirname(path) for path in paths}
    linked = {folder for folder in folders if os.path.realpath(root / folder) != str(root / folder)}
    return tuple(path for path in paths if posixpath.dirname(path) in linked or os.path.islink(root / path))


def _plain_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


@dataclass
class Outcome:
    """What one rebuild did: the problems that block the site (empty when it succeeded), the files whose bytes
    changed or that are new, and the files gone."""

    problems: list[Problem]
    changed: int = 0
    removed: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class DevSession:
    """One pipeline being served. Not thread-safe: one watcher thread drives it (other threads may read
    ``rendered``, which each rebuild replaces whole)."""

    root: Path
    today: date
    project: Project | None = None
    leads: dict[str, Lead] = field(default_factory=dict)  # by path
    lead_problems: dict[str, list[Problem]] = field(default_factory=dict)  # by path
    # the files of the last good build, a normal build's bytes; replaced by each, never changed (``serve`` sends them)
    rendered: Mapping[str, bytes] = field(default_factory=lambda: MappingProxyType({}))
    pages: PageCache = field(default_factory=PageCache)  # rendered pages and rows, and what they showed
    checked: Checked | None = None  # the last valid project with its figures and warnings
    # the warnings of each lead (sorted), in the order of the leads they are for
    _warned: tuple[tuple[LeadFigures, ...], list[list[Problem]]] = ((), [])
    _scan: tuple[frozenset[str], list[Problem]] | None = None  # the last find_lead_files: lead files, file problems
    _order: list[str] = field(default_factory=list)  # the paths of project.leads, in their (sorted) order
    _linked: tuple[str, ...] = ()  # the lead files of the last scan reached through a symlink (see ``_linked``)

    def __post_init__(self) -> None:
        self.root = self.root.resolve()  # watchfiles reports paths under the resolved root

    def full_build(self) -> Outcome:
        """Read everything again (start-up, config or template change); the collector waits, as in ``apply``
        (10k leads: 0.46 of 6.5 s of cpu were collections), and ``_settle`` collects once at the end."""
        with collector_paused():
            outcome = self._full_build()
        _settle()
        return outcome

    def _full_build(self) -> Outcome:
        try:
            project = load_project(self.root)
        except ConfigError as error:
            self.project = None
            return Outcome(list(error.problems))
        self.leads = {lead.path: lead for lead in project.leads}
        self._order = [lead.path for lead in project.leads]
        self._forget()  # config or templates may have changed
        _, scan_problems = self._rescan()
        self.lead_problems = {}
        for problem in project.problems:
            if problem not in scan_problems:  # those are found afresh by every apply()
                self.lead_problems.setdefault(problem.path, []).append(problem)
        self.project = project
        return self._publish()

    def apply(self, changed: Iterable[Path]) -> Outcome:
        """Rebuild after the given files changed (added, modified or deleted).

        The cycle collector waits until the pages are rendered: a rebuild allocates a few hundred
        thousand small objects, and each of the hundred collections they would start walks into the
        kept leads and rows (cache misses all over a large heap). What is left is collected later,
        by the next collection or by ``serve`` once it was quiet for a moment (``serve.next_batch``).
        """
        with collector_paused():
            return self._apply(changed)

    def _apply(self, changed: Iterable[Path]) -> Outcome:
        relative = {self._relative(path) for path in changed}
        relative.discard(None)
        # "templates" itself: a folder created with files in it may report only itself (its files can beat the
        # watch on it), so the files are looked for by the full build
        if self.project is None or any(p in (CONFIG_FILE, "templates") or p.startswith("templates/") for p in relative):  # type: ignore[union-attr]
            return self.full_build()
        scan = self._scan
        known, file_problems = self._lead_files(relative)  # type: ignore[arg-type]
        # a lead reached through a symlink changes with what it points at, whose save is all the watcher reports
        saved = sorted({p for p in relative if p.startswith(f"{LEADS_DIR}/")} | set(self._linked))  # type: ignore[union-attr]
        if self._scan is scan and (leads := self._reread(saved)) is not None:
            problems = [p for found in self.lead_problems.values() for p in found]
        else:
            leads, problems = self._reread_all(known, saved)
        self.project = replace(self.project, leads=leads, problems=tuple(sort_problems([*problems, *file_problems])))
        return self._publish()

    def _reread(self, saved: list[str]) -> tuple[Lead, ...] | None:
        """No file came or went: the saved lead files read again, each put in its place; ``None`` when one of
        them is not a valid lead now or was not before (then the leads are sorted afresh)."""
        assert self.project is not None
        leads, order = list(self.project.leads), self._order
        for path in saved:
            place = bisect.bisect_left(order, path)
            if place == len(order) or order[place] != path:
                return None
            lead = self._read(path)
            if lead is None:
                return None
            leads[place] = lead
        return tuple(leads)

    def _read(self, path: str) -> Lead | None:
        """Read one lead file again; its lead (if valid) and its problems replace what was known of it."""
        assert self.project is not None
        self.leads.pop(path, None)
        self.lead_problems.pop(path, None)
        lead, problems = read_lead(self.root, path, self.project.config)
        if lead is not None:
            self.leads[path] = lead
        if problems:
            self.lead_problems[path] = problems
        return lead

    def _reread_all(self, known: frozenset[str], saved: list[str]) -> tuple[tuple[Lead, ...], list[Problem]]:
        assert self.project is not None
        self.lead_problems = {path: found for path, found in self.lead_problems.items() if path in known}
        # A file saved into a folder that was just created can beat the watch on that folder;
        # whatever is on disk but not yet in memory is read too.
        unseen = {p for p in known if p not in self.leads and p not in self.lead_problems}
        for path in sorted(unseen | set(saved)):
            if path in known:
                self._read(path)
            else:
                self.leads.pop(path, None)
                self.lead_problems.pop(path, None)
        for path in list(self.leads):  # a folder rename shows up as one event for the folder
            if path not in known:
                self.leads.pop(path)
        problems = [p for path, found in self.lead_problems.items() if path in known for p in found]
        self._order = sorted(self.leads)
        return tuple(self.leads[p] for p in self._order), problems

    def _publish(self) -> Outcome:
        assert self.project is not None
        if any(p.is_error for p in self.project.problems):
            return Outcome([p for p in self.project.problems if p.is_error])
        if self.checked is not None and self.checked.figures.today != self.today:
            self._forget()
        checked = self._check(self.project)
        try:
            rendered = render_checked(checked, self.pages)
        except ConfigError as error:
            return Outcome(list(error.problems))
        last = self.rendered  # only the files the render made anew can differ: the others are last build's very bytes
        changed = sum(last.get(path) != rendered[path] for path in self.pages.changed)
        self.rendered = MappingProxyType(rendered)
        return Outcome([], changed, len(last.keys() - rendered.keys()))

    def _forget(self) -> None:
        """Nothing rendered or computed before is reused (config, templates or today changed)."""
        self.pages = PageCache()
        self.checked, self._warned, self._scan = None, ((), []), None

    def _lead_files(self, relative: set[str]) -> tuple[frozenset[str], list[Problem]]:
        """``find_lead_files``; when only plain lead files it found last time were saved, no file came or
        went (a new file or folder has an event of its own), so last time's answer stands."""
        if self._scan is not None and relative <= self._scan[0] and all(_plain_file(self.root / p) for p in relative):
            return self._scan
        return self._rescan()

    def _rescan(self) -> tuple[frozenset[str], list[Problem]]:
        paths, problems = find_lead_files(self.root)
        self._scan, self._linked = (frozenset(paths), problems), _linked(self.root, paths)
        return self._scan

    def _check(self, project: Project) -> Checked:
        """``build.check_project`` of a valid project, reusing the figures and warnings of unchanged leads."""
        figures = compute(project, self.today, self.checked.figures if self.checked else None, updatable=True)
        warned = self._warnings(figures.leads)
        self._warned = (figures.leads, warned)
        # leads come in path order and each one's warnings sorted: together they are sorted as they are
        found = list(itertools.chain.from_iterable(warned))
        self.checked = Checked(project, figures, sort_problems([*project.problems, *found]) if project.problems else found)
        return self.checked

    def _warnings(self, leads: tuple[LeadFigures, ...]) -> list[list[Problem]]:
        """Each lead's warnings, sorted; those of a lead whose figures are last build's very object are kept."""
        last_leads, last = self._warned
        if len(last_leads) == len(leads):
            warned, changed = list(last), list(itertools.compress(itertools.count(), map(operator.is_not, last_leads, leads)))
            moved = {id(last_leads[index]): last[index] for index in changed}  # a rename shifts the leads after it
            for index in changed:
                kept = moved.get(id(leads[index]))  # the ids are of objects last_leads holds: no other object has them
                warned[index] = kept if kept is not None else sort_problems(lead_warnings(leads[index], self.today))
            return warned
        places = {id(f): index for index, f in enumerate(last_leads)}  # the objects live on in last_leads
        return [last[places[id(f)]] if id(f) in places else sort_problems(lead_warnings(f, self.today)) for f in leads]

    def _relative(self, path: Path) -> str | None:
        """The path as the pipeline names it; not resolved, so a symlinked lead keeps its own name."""
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return None
