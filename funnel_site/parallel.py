"""Parsing many lead files on all cores: forked workers, chunks, results in the files' order.

Forking lets the workers inherit the file bytes and the config instead of receiving them; each
worker sends back one pickled ``(Lead | None, problems)`` per file, which the parent unpickles and
can store in the cache as it is. The parent parses the last share itself meanwhile. Below ``MIN_FILES`` files, or where fork is unavailable, the
parse runs in this process: starting workers would cost more than it saves.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from typing import Callable, Sequence

from funnel_site.cache import Entry, dump_entry
from funnel_site.model import Config

MIN_FILES = 500
CHUNK = 250
Parse = Callable[[str, bytes, Config], Entry]

# Set just before the fork and inherited by the workers; never pickled.
_job: tuple[Parse, Sequence[tuple[str, bytes]], Config] | None = None


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
              pickled: bool) -> list[tuple[Entry, bytes | None]]:
    """``parse(path, raw, config)`` for every item, in order; with the pickled entry when ``pickled``
    (the cache wants it, and workers return it anyway)."""
    workers = workers_for(len(items), jobs)
    if workers <= 1:
        entries = [parse(path, raw, config) for path, raw in items]
        return [(entry, dump_entry(entry) if pickled else None) for entry in entries]
    # This process takes the last share itself: one fewer fork, and its results need no pickling.
    split = len(items) * (workers - 1) // workers
    global _job
    _job = (parse, items, config)
    try:
        with multiprocessing.get_context("fork").Pool(workers - 1) as pool:
            chunks = [(start, min(start + CHUNK, split)) for start in range(0, split, CHUNK)]
            pending = pool.imap(_parse_chunk, chunks)
            own = [parse(path, raw, config) for path, raw in items[split:]]
            blobs = [blob for part in pending for blob in part]
    finally:
        _job = None
    theirs = [(_entry(blob), blob if pickled else None) for blob in blobs]
    return theirs + [(entry, dump_entry(entry) if pickled else None) for entry in own]


def _parse_chunk(bounds: tuple[int, int]) -> list[bytes]:
    assert _job is not None, "a worker runs only inside parse_all"
    parse, items, config = _job
    return [dump_entry(parse(path, raw, config)) for path, raw in items[bounds[0]:bounds[1]]]


def _entry(blob: bytes) -> Entry:
    lead, problems = pickle.loads(blob)
    return lead, problems
