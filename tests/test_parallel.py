"""The parallel parse: a worker's chunks are taken in while this process still parses, not all at the end. The
render workers: the first page's problem is reported, whichever worker is done first."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from conftest import TODAY, lead, write_project
from funnel_site import build as build_module
from funnel_site import load as load_module
from funnel_site import parallel, workers
from funnel_site.cache import Entry, dump_entries
from funnel_site.problems import ConfigError, Problem


def test_a_workers_chunks_are_taken_in_while_this_process_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "CHUNK", 1)
    first_sent = multiprocessing.get_context("fork").Event()
    here = os.getpid()
    events: list[str] = []

    def parse(path: str, raw: bytes, config: object) -> Entry:
        if os.getpid() != here:  # the worker, from the front: "a" was sent before it parses "b"
            if path == "b":
                first_sent.set()
                time.sleep(1)  # meanwhile this process parses "d", takes in "a" and parses "c"
        else:
            if path == "d":
                assert first_sent.wait(10)
                time.sleep(0.3)  # the queue's thread has written "a" by now
            events.append(f"parse {path}")
        return None, []

    loads = pickle.loads

    def received(blob: bytes) -> object:  # a worker's chunk taken in
        events.append("received")
        return loads(blob)

    monkeypatch.setattr(parallel.pickle, "loads", received)
    parsed = parallel.parse_all(parse, [(name, b"") for name in "abcd"], None, 2, True)  # type: ignore[arg-type]
    assert events == ["parse d", "received", "parse c", "received"]
    assert parsed == [([(None, [])], dump_entries([(None, [])]), [])] * 4  # in the files' order, each with its pickle


def test_what_this_process_does_meanwhile_runs_once_while_a_worker_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "CHUNK", 1)
    here = os.getpid()
    events: list[str] = []

    def parse(path: str, raw: bytes, config: object) -> Entry:
        if os.getpid() == here:
            events.append(f"parse {path}")
        return None, []

    def meanwhile() -> None:
        events.append(f"meanwhile, {len(multiprocessing.active_children())} worker(s) started")

    parsed = parallel.parse_all(parse, [(name, b"") for name in "abcd"], None, 2, False, meanwhile)  # type: ignore[arg-type]
    assert events[0] == "meanwhile, 1 worker(s) started"
    assert events.count(events[0]) == 1 and all(event.startswith("parse ") for event in events[1:])
    assert parsed == [([(None, [])], None, [])] * 4

    events.clear()  # one process: nothing to overlap, the caller does it afterwards as it would anyway
    parallel.parse_all(parse, [(name, b"") for name in "abcd"], None, 1, False, meanwhile)  # type: ignore[arg-type]
    assert events == ["parse a", "parse b", "parse c", "parse d"]


def test_a_build_imports_the_renderer_while_the_workers_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_project(tmp_path / "p", {"leads/acme.md": lead(title="Acme", status="potential", owner="anna")})
    given: list[object] = []

    def parse_all(*args: object) -> object:
        given.append(args[5])
        return parallel.parse_all(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(load_module, "parse_all", parse_all)
    build_module.build(root, tmp_path / "out", date.fromisoformat(TODAY), cache_dir=None, jobs=2)
    assert [(hook.func, hook.args) for hook in given] == [(build_module._prepare_renderer, ("en_US",))]  # type: ignore[attr-defined]


def test_preparing_the_renderer_loads_its_locale_data(monkeypatch: pytest.MonkeyPatch) -> None:
    import babel.localedata

    loaded: list[str] = []
    load = babel.localedata.load
    monkeypatch.setattr(babel.localedata, "load", lambda name, *args: loaded.append(name) or load(name, *args))
    build_module._prepare_renderer("de_DE")
    build_module._prepare_renderer("xx_XX")  # unknown to Babel: the renderer falls back to en_US by itself
    assert loaded[:1] == ["de_DE"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_files_not_read_before_are_read_by_the_processes_that_parse_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int,
) -> None:
    monkeypatch.setattr(parallel, "CHUNK", 2)  # several chunks: both processes parse and read some
    files: dict[str, str | bytes] = {f"leads/l{n}.md": lead(title=f"L{n}", status="potential", owner="anna") for n in range(7)}
    files["leads/l3.md"] = "---\ntitle: [\n---\n"  # a YAML error: read, but no lead
    files["leads/l5.md"] = b"x" * (load_module.MAX_LEAD_BYTES + 1)  # not read: too large
    root = write_project(tmp_path / "p", files)
    unread = load_module.read_sources(root, read=False)
    with pytest.raises(RuntimeError, match="not read here"):
        unread.entry_keys
    read_first = load_module.read_sources(root)
    project, read_here = load_module.parse_sources(unread, tmp_path / "cache", jobs)  # a cache wants the keys
    assert project == load_module.parse_sources(read_first, None, jobs)[0]
    assert read_here.entry_keys == read_first.entry_keys and len(read_here.entry_keys) == 6
    assert read_here.read_problems == read_first.read_problems
    assert [str(p) for p in project.problems if p.path in ("leads/l3.md", "leads/l5.md")] == [
        "leads/l3.md:3: front matter: did not find expected node content (while parsing a flow node)",
        "leads/l5.md:1: file: is larger than 2 MiB; keep attachments and long documents out of leads/",
    ]

    hashed: list[str] = []  # without a cache nothing needs the keys: no file is hashed
    monkeypatch.setattr(parallel, "entry_key", lambda path, raw: hashed.append(path) or b"")
    uncached, read_uncached = load_module.parse_sources(load_module.read_sources(root, read=False), None, jobs)
    assert uncached == project and read_uncached.read_problems == read_first.read_problems
    assert hashed == [] and read_uncached.keys is None


def test_a_cold_build_reads_while_parsing_and_the_next_build_finds_it_complete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {f"leads/l{n}.md": lead(title=f"L{n}", status="potential", owner="anna") for n in range(3)}
    root, out, cache = write_project(tmp_path / "p", files), tmp_path / "out", tmp_path / "cache"
    assert not build_module._cached_before(cache, out.resolve())
    build_module.build(root, out, date.fromisoformat(TODAY), cache_dir=cache, jobs=2)
    assert build_module._cached_before(cache, out.resolve())
    written = {path: path.stat().st_ino for path in out.rglob("*")}
    read_first = load_module.read_sources
    seen: list[bool] = []
    monkeypatch.setattr(build_module, "read_sources", lambda *args, **kwargs: seen.append(kwargs["read"]) or read_first(*args, **kwargs))
    build_module.build(root, out, date.fromisoformat(TODAY), cache_dir=cache, jobs=2)
    assert seen == [True] and {path: path.stat().st_ino for path in out.rglob("*")} == written  # nothing written again


SLOW_PARSE = """
import os, sys, time
from funnel_site import parallel

def parse(path, raw, config):
    if os.getpid() != int(sys.argv[1]):  # a worker: its pid for the test
        open(os.path.join(sys.argv[2], str(os.getpid())), "w").close()
    time.sleep(0.05)
    return None, [("x" * 100_000, path)]  # big enough to fill the queue's pipe when nobody reads it

parallel.parse_all(parse, [(str(n), b"") for n in range(4000)], None, 3, True)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's (elsewhere workers finish their share)")
def test_workers_of_a_killed_parse_end_with_it(tmp_path: Path) -> None:
    script, pids = tmp_path / "slow.py", tmp_path / "workers"
    script.write_text(SLOW_PARSE)
    pids.mkdir()
    code = f"import os, runpy, sys; sys.argv = ['slow', str(os.getpid()), {str(pids)!r}]; runpy.run_path({str(script)!r})"
    parent = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 20
    while len(list(pids.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # both workers have sent chunks the parent will never read
    parent.kill()
    parent.wait()
    workers = {int(path.name) for path in pids.iterdir()}
    assert len(workers) == 2
    deadline = time.monotonic() + 10
    while (alive := {pid for pid in workers if _running(pid)}) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert alive == set()


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; whoever inherited it may not reap it at once


def test_the_first_pages_problem_is_reported_whichever_task_ends_first(
    make_project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # type: ignore[no-untyped-def]
    root = make_project({f"leads/l{n}.md": lead(title=f"Acme {n}", owner="anna", stage="offer", value=100,
                                                      expected_close="2026-12-01") for n in range(3)})

    def write_task(writer: object, plan: object, task: list[int]) -> tuple[Problem, dict[str, bytes]]:
        if task == [0]:
            time.sleep(0.5)  # the other worker's problems arrive first
        return Problem(f"page {task[0]}", 1, "template", "broken"), {}

    monkeypatch.setattr(workers, "PAGES_PER_TASK", 1)
    monkeypatch.setattr(workers, "_write_task", write_task)
    with pytest.raises(ConfigError) as caught:
        build_module.build(root, tmp_path / "site", date.fromisoformat(TODAY), jobs=2)
    assert caught.value.problems == [Problem("page 0", 1, "template", "broken")]
