"""Parsing many lead files on all cores: forked workers and this process take chunks of the files as they go,
results in the files' order.

Forking lets the workers inherit the file bytes and the config instead of receiving them. The chunks
nobody has claimed yet are a range in shared memory: the workers take them from its front, this process
from its back, one at a time, until the two ends meet; so everyone stops at about the same time, however
unevenly the files or the cores' other work are spread (halves fixed in advance left one side idle for
~0.3 s of 1.0 at 10k leads). Each worker sends back its chunks when it is done with all of them (one that
sent chunks meanwhile would wait for the parent, busy parsing, to take the GIL and receive them: ~0.25 s
of 1.2 at 10k leads): its entries pickled one by one when the parent keeps them in the cache as they are,
otherwise one pickle per chunk, which is smaller and quicker at both ends. Below ``MIN_FILES`` files, or
where fork is unavailable, the parse runs in this process: starting workers would cost more than it saves.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from typing import Any, Callable, Iterator, Sequence

from funnel_site.cache import Entry, dump_entries, dump_entry
from funnel_site.model import Config

MIN_FILES = 500
CHUNK = 250  # files per worker at least, and per claim
Parse = Callable[[str, bytes, Config], Entry]
Parsed = list[tuple[Entry, bytes | None]]

# Set just before the fork and inherited by the workers; never pickled. The last part is the shared
# [first, end) of the unclaimed chunks.
_job: tuple[Parse, Sequence[tuple[str, bytes]], Config, bool, Any] | None = None


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
              pickled: bool, keep: Callable[[Entry], Entry]) -> Parsed:
    """``parse(path, raw, config)`` for every item, in order; with the pickled entry when ``pickled``
    (the cache wants it, and workers return it anyway). Each entry a worker parsed passes through
    ``keep`` as soon as this process has unpickled it (those parsed here share their strings already)."""
    workers = workers_for(len(items), jobs)
    if workers <= 1:
        return _parsed(parse, items, config, pickled)
    context = multiprocessing.get_context("fork")
    unclaimed = context.Array("q", [0, (len(items) + CHUNK - 1) // CHUNK])
    global _job
    _job = (parse, items, config, pickled, unclaimed)
    try:
        with context.Pool(workers - 1) as pool:
            pending = [pool.apply_async(_parse_claimed) for _ in range(workers - 1)]
            own = {chunk: _parsed(parse, items[chunk * CHUNK:(chunk + 1) * CHUNK], config, pickled)
                   for chunk in _claimed(unclaimed, from_end=True)}
            theirs = dict(chunk for result in pending for chunk in result.get())
    finally:
        _job = None
    parsed: Parsed = []
    for chunk in range(len(own) + len(theirs)):
        parsed.extend(own[chunk] if chunk in own else _received(theirs[chunk], pickled, keep))
    return parsed


def _parsed(parse: Parse, items: Sequence[tuple[str, bytes]], config: Config, pickled: bool) -> Parsed:
    entries = [parse(path, raw, config) for path, raw in items]
    return [(entry, dump_entry(entry) if pickled else None) for entry in entries]


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


def _parse_claimed() -> list[tuple[int, list[bytes]]]:
    """A worker's chunks, each with its entries pickled one by one when the cache wants them so, otherwise
    with one pickle of them all."""
    assert _job is not None, "a worker runs only inside parse_all"
    parse, items, config, pickled, unclaimed = _job
    done = []
    for chunk in _claimed(unclaimed, from_end=False):
        entries = [parse(path, raw, config) for path, raw in items[chunk * CHUNK:(chunk + 1) * CHUNK]]
        done.append((chunk, [dump_entry(entry) for entry in entries] if pickled else [dump_entries(entries)]))
    return done


def _received(blobs: list[bytes], pickled: bool, keep: Callable[[Entry], Entry]) -> Parsed:
    """A worker's chunk as entries, with their pickles when ``pickled``."""
    if pickled:
        return [(keep(_entry(blob)), blob) for blob in blobs]
    return [(keep(entry), None) for entry in pickle.loads(blobs[0])]


def _entry(blob: bytes) -> Entry:
    lead, problems = pickle.loads(blob)
    return lead, problems
