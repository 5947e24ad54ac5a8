"""Parsing many lead files on all cores: forked workers and this process take chunks of the files as they go,
results in the files' order.

Forking lets the workers inherit the file bytes and the config instead of receiving them. The chunks
nobody has claimed yet are a range in shared memory: the workers take them from its front, this process
from its back, one at a time, until the two ends meet; so everyone stops at about the same time, however
unevenly the files or the cores' other work are spread (halves fixed in advance left one side idle for
~0.3 s of 1.0 at 10k leads). A worker sends each chunk as one pickle through a queue, whose thread writes
it while the worker parses on; this process takes in what has arrived between two of its own chunks, so
when the ends meet only the last chunk or two are left to unpickle (a worker's whole share, received at
the end, was unpickled at ~28 us a lead while the other core stood idle). The cache keeps the chunks'
pickles as they are (cache.py). Below ``MIN_FILES`` files, or where fork is unavailable, the parse runs
in this process: starting workers would cost more than it saves.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
from typing import Any, Callable, Iterator, Sequence

from funnel_site.cache import CHUNK, Entry, dump_entries
from funnel_site.model import Config

MIN_FILES = 500
# CHUNK (cache.py): files per worker at least, and per claim; the cache keeps the chunks as they are
Parse = Callable[[str, bytes, Config], Entry]
Parsed = tuple[list[Entry], bytes | None]  # the entries of consecutive files, with their pickle when wanted

# Set just before the fork and inherited by the workers; never pickled. The last parts are the shared
# [first, end) of the unclaimed chunks and the queue of the chunks parsed by workers.
_job: tuple[Parse, Sequence[tuple[str, bytes]], Config, Any, Any] | None = None


def die_with_parent(parent: int) -> None:
    """In a forked worker: stop at once when ``parent`` (the process that forked it) ends, instead of finishing work
    nobody waits for, or waiting forever to hand it over (Linux; elsewhere a no-op). ``parent`` is checked after the
    request, in case it ended before."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        os._exit(1)


_PR_SET_PDEATHSIG = 1


def workers_for(files: int, jobs: int | None) -> int:
    """``jobs`` if given; otherwise every usable core once there are more than MIN_FILES files."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if jobs is not None:
        return max(1, jobs)
    if files <= MIN_FILES:
        return 1
    return max(1, min(len(os.sched_getaffinity(0)), (files + CHUNK - 1) // CHUNK))


def parse_all(parse: Parse, items: Sequence[tuple[str, bytes]], config: Config, jobs: int | None,
              pickled: bool, keep: Callable[[Entry], Entry]) -> list[Parsed]:
    """``parse(path, raw, config)`` for every item, in order, in chunks of consecutive items; each chunk with
    one pickle of its entries when ``pickled`` (the cache wants it; workers send it anyway). Each entry a
    worker parsed passes through ``keep`` as soon as this process has unpickled it (those parsed here share
    their strings already)."""
    workers = workers_for(len(items), jobs)
    if workers <= 1:
        return [_parsed(parse, items[start:start + CHUNK], config, pickled) for start in range(0, len(items), CHUNK)]
    context = multiprocessing.get_context("fork")
    chunks = (len(items) + CHUNK - 1) // CHUNK
    unclaimed, arrivals = context.Array("q", [0, chunks]), context.Queue()
    global _job
    _job = (parse, items, config, unclaimed, arrivals)
    parsed: dict[int, Parsed] = {}

    def receive(block: bool) -> bool:
        """One chunk a worker sent: False when none has arrived and ``block`` is not set."""
        try:
            chunk, blob = arrivals.get(block)
        except queue.Empty:
            return False
        parsed[chunk] = ([keep(entry) for entry in pickle.loads(blob)], blob if pickled else None)
        return True

    try:
        with context.Pool(workers - 1, initializer=_parse_worker_started, initargs=(os.getpid(),)) as pool:
            pending = [pool.apply_async(_parse_claimed) for _ in range(workers - 1)]
            for chunk in _claimed(unclaimed, from_end=True):
                parsed[chunk] = _parsed(parse, items[chunk * CHUNK:(chunk + 1) * CHUNK], config, pickled)
                while receive(False):
                    pass
            for result in pending:
                result.get()  # a worker's error is raised here
            while len(parsed) < chunks:
                receive(True)
    finally:
        _job = None
        arrivals.close()
    return [parsed[chunk] for chunk in range(chunks)]


def _parsed(parse: Parse, items: Sequence[tuple[str, bytes]], config: Config, pickled: bool) -> Parsed:
    entries = [parse(path, raw, config) for path, raw in items]
    return entries, dump_entries(entries) if pickled else None


def _claimed(unclaimed: Any, from_end: bool) -> Iterator[int]:
    """Chunks taken one at a time from the front or the end of the unclaimed ones, until none is left."""
    while True:
        with unclaimed.get_lock():
            first, end = unclaimed[0], unclaimed[1]
            if first >= end:
                return
            chunk = end - 1 if from_end else first
            unclaimed[1 if from_end else 0] = end - 1 if from_end else first + 1
        yield chunk


def _parse_worker_started(parent: int) -> None:
    """A worker dies with the build, and never waits at its exit for the queue to hand over what nobody reads (the
    parent reads every chunk before it ends the pool)."""
    die_with_parent(parent)
    assert _job is not None, "a worker runs only inside parse_all"
    _job[4].cancel_join_thread()


def _parse_claimed() -> None:
    """A worker's chunks, each sent with one pickle of its entries as soon as it is parsed."""
    assert _job is not None, "a worker runs only inside parse_all"
    parse, items, config, unclaimed, arrivals = _job
    for chunk in _claimed(unclaimed, from_end=False):
        entries = [parse(path, raw, config) for path, raw in items[chunk * CHUNK:(chunk + 1) * CHUNK]]
        arrivals.put((chunk, dump_entries(entries)))
