"""Rendering a site's pages on all cores, into the build's staging folder (build.py, the only writer, owns it).

Forked render workers (``parallel.Team``) take tasks of ``PAGES_PER_TASK`` pages; with many leads a forked process
writes the data files meanwhile (``Aside``). Forking lets them inherit the plan, the leads and the compiled templates
instead of receiving them. Any of them that dies fails the build (``WorkerDied``), which removes the staging folder.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import multiprocessing.process
import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Collection, Iterable, Iterator, Mapping, Sequence

from funnel_site.parallel import Team, die_with_parent, died, failure, raised, workers_for
from funnel_site.problems import ConfigError, Problem
from funnel_site.progress import SILENT, Progress

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    import jinja2

    from funnel_site.build import Recorded, _Staging
    from funnel_site.render import SitePlan

SHARED_TEMPLATES = ("base.html", "macros.html", "charts.html", "warnings.html")  # what the built-in pages load
ASIDE = "the process writing the data files"
PAGES_PER_TASK = 100  # pages a worker renders and writes per task: small enough to balance two cores


@contextmanager
def shared_with_workers() -> Iterator[None]:
    """What this process holds (over 1 GB at 100k leads: leads, figures, plan) made cheaper to share with forked workers.

    A worker shares this process's memory until it writes to a page of it. The cyclic collector
    writes to every object it scans: frozen, the objects are not scanned, neither by the workers nor
    by this process while it makes the data files. Memory freed but kept by malloc (the lead files'
    bytes) goes back to the system, instead of being copied when a worker allocates into it.
    """
    gc.freeze()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
    try:
        yield
    finally:
        gc.unfreeze()


def page_template_problem(error: jinja2.TemplateError, project_root: str) -> Problem:
    """A broken template as a problem at its file and line (a pipeline's own template, or the built-in one)."""
    from funnel_site.theme import builtin_templates
    from funnel_site.template_errors import template_problem

    return template_problem(error, Path(project_root), builtin_templates())


def put_all(writer: _Staging, files: Mapping[str, bytes]) -> None:
    """``files`` written in the order of their paths."""
    writer.make_dirs(files)
    for relative, data in sorted(files.items()):
        writer.put(relative, data)


def write_plan(
    writer: _Staging, plan: SitePlan, files: Mapping[str, bytes] | Callable[[], Mapping[str, Iterable[bytes]]], jobs: int | None,
    progress: Progress = SILENT, reuse: Collection[str] = (), aside: Aside | None = None,
) -> None:
    """Every page of ``plan`` plus ``files``; when there are many pages, this process and forked workers (one process
    per core, or ``jobs``, in all) render them, taking tasks from both ends. ``aside``: the process writing the data
    files meanwhile, whose death ends the render at once.

    Pages do not depend on each other or on the order they are rendered in, so the site is the
    same for any number of workers. The other files are computed by this process meanwhile.
    """
    writer.make_dirs(path for path, _, _ in plan.pages)
    render = [index for index, (path, _, _) in enumerate(plan.pages) if not (path in reuse and writer.link(path))]
    tasks = [render[start:start + PAGES_PER_TASK] for start in range(0, len(render), PAGES_PER_TASK)]
    done = len(plan.pages) - len(render)
    workers = workers_for(len(render), jobs)
    if workers <= 1:
        for task in tasks:
            _write_pages(writer, plan, task)
            done += len(task)
            progress.update("wrote pages:", done, len(plan.pages))
        _write_files(writer, files)
        return
    for name in sorted({template for _, template, _ in plan.pages}):
        plan.env.get_template(name)  # syntax errors surface here, and the workers inherit compiled templates
    import jinja2

    for name in SHARED_TEMPLATES:
        try:
            plan.env.get_template(name)
        except jinja2.TemplateError:  # reported by the page that uses it, if any does
            pass
    problems: dict[int, Problem] = {}

    def work(task: int) -> tuple[Problem | None, Recorded]:  # in a worker
        return _write_task(writer, plan, tasks[task])

    def take(results: Iterable[tuple[int, tuple[Problem | None, Recorded]]]) -> None:
        nonlocal done
        for task, (problem, recorded) in results:
            done += len(tasks[task])
            progress.update("wrote pages:", done, len(plan.pages))
            if problem is not None:
                problems[task] = problem
            writer.absorb(recorded)

    companions = [(aside.process, ASIDE)] if aside is not None and aside.process is not None else []
    with Team(workers - 1, len(tasks), work, "rendering pages", companions) as team:
        _write_files(writer, files)
        # This process renders too, from the end: one process fewer to fork (a forked one copies every page of this
        # process's memory it touches). What it writes is recorded into the writer as it is written.
        for task in team.claimed():
            take([(task, (_written(writer, plan, tasks[task]), ({}, {})))])
            take(team.results(block=False))
        take(team.results(block=True))
    if problems:
        raise ConfigError([problems[min(problems)]])  # the first page's: the same for any number of workers


class Aside:
    """The data files (data.json, CSV, calendar, schema, assets) written by a forked process while this one plans
    the pages and its workers render them: they need no plan, and planning leaves the second core idle (10k
    leads: ~0.4 s each, 100k: ~4 s). ``files``: what ``write_plan`` should still write itself (none, or all of
    them when ``aside`` is not set: few leads, one job, no fork).

    A process of its own, not a pool: a pool's threads would be running while the render workers are forked.
    """

    def __init__(self, writer: _Staging, files: Callable[[], Mapping[str, Iterable[bytes]]], aside: bool) -> None:
        self.writer = writer
        self.process: multiprocessing.process.BaseProcess | None = None
        self.files: Mapping[str, bytes] | Callable[[], Mapping[str, Iterable[bytes]]] = files
        if aside and "fork" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("fork")
            self.receiving, sending = context.Pipe(duplex=False)
            self.process = context.Process(target=_write_aside, args=(writer, files, sending, os.getpid()), daemon=True)
            self.process.start()
            sending.close()  # the child's end only: its death reads as the end of the pipe
            self.files = {}

    def __enter__(self) -> Aside:
        return self

    def wait(self) -> None:
        """Until the files are written; what it recorded joins the writer's, an error in making them is raised here."""
        if self.process is None:
            return
        try:
            recorded, error = self.receiving.recv()
        except (EOFError, OSError):  # OSError: the end came in the middle of a message
            raise died(ASIDE, self.process) from None
        if error is not None:
            raise raised(error)
        self.writer.absorb(recorded)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()  # after ``wait`` it is done; after an error here it must stop writing
            self.process.join()
            self.receiving.close()


def _write_aside(writer: _Staging, files: Callable[[], Mapping[str, Iterable[bytes]]], sending: Connection, parent: int) -> None:
    """In the forked process: write ``files`` and send back what was recorded of them, or the error that stopped it
    with its traceback."""
    die_with_parent(parent)
    writer.recorded()  # only what this process writes goes back
    try:
        _write_files(writer, files)
    except KeyboardInterrupt:  # Ctrl-C reached the whole process group: the build's process reports it
        return
    except Exception as error:  # noqa: BLE001 - raised again in the build's process
        sending.send((None, failure(error)))
    else:
        sending.send((writer.recorded(), None))


def _write_files(writer: _Staging, files: Mapping[str, bytes] | Callable[[], Mapping[str, Iterable[bytes]]]) -> None:
    """``files``; or what the function makes, each file in pieces written as they come."""
    if not callable(files):
        put_all(writer, files)
        return
    made = files()
    writer.make_dirs(made)
    for relative in sorted(made):
        writer.stream(relative, made[relative])


def _write_pages(writer: _Staging, plan: SitePlan, task: Sequence[int]) -> None:
    plan.prepare(task)
    for index in task:
        writer.put(*plan.render(index))


def _written(writer: _Staging, plan: SitePlan, task: Sequence[int]) -> Problem | None:
    """Render and write a range of pages; a template error comes back as a problem."""
    import jinja2

    try:
        _write_pages(writer, plan, task)
    except jinja2.TemplateError as error:
        return page_template_problem(error, plan.context["project"].root)
    return None


def _write_task(writer: _Staging, plan: SitePlan, task: Sequence[int]) -> tuple[Problem | None, Recorded]:
    """In a worker: ``_written``, with what the writer recorded of those pages, when it records (each task sends back
    only its own; the build's process records into the writer directly)."""
    return _written(writer, plan, task), writer.recorded()

