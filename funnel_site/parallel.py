"""Parsing many lead files on all cores: forked workers, one share of the files each, results in the files' order.

Forking lets the workers inherit the file bytes and the config instead of receiving them; each
worker sends back the ``(Lead | None, problems)`` of its share when it is done with all of it (one
that sent parts meanwhile would wait for the parent, busy parsing, to take the GIL and receive them:
~0.25 s of 1.2 at 10k leads): pickled one by one when the parent keeps them in the cache as they are,
otherwise as one pickle, which is smaller and quicker at both ends. The parent parses the last share
itself meanwhile. Below ``MIN_FILES`` files, or where fork is unavailable, the parse runs in this
process: starting workers would cost more than it saves.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from typing import Callable, Sequence

from funnel_site.cache import Entry, dump_entries, dump_entry
from funnel_site.model import Config

MIN_FILES = 500
CHUNK = 250  # files per worker at least, and per pickle of a worker's entries
Parse = Callable[[str, bytes, Config], Entry]

# Set just before the fork and inherited by the workers; never pickled.
_job: tuple[Parse, Sequence[tuple[str, bytes]], Config, bool] | None = None


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
              pickled: bool, keep: Callable[[Entry], Entry]) -> list[tuple[Entry, bytes | None]]:
    """``parse(path, raw, config)`` for every item, in order; with the pickled entry when ``pickled``
    (the cache wants it, and workers return it anyway). Each entry a worker parsed passes through
    ``keep`` as soon as this process has unpickled it (those parsed here share their strings already)."""
    workers = workers_for(len(items), jobs)
    if workers <= 1:
        entries = [parse(path, raw, config) for path, raw in items]
        return [(entry, dump_entry(entry) if pickled else None) for entry in entries]
    # This process takes the last share itself: one fewer fork, and its results need no pickling.
    split = len(items) * (workers - 1) // workers
    shares = [(split * worker // (workers - 1), split * (worker + 1) // (workers - 1)) for worker in range(workers - 1)]
    global _job
    _job = (parse, items, config, pickled)
    try:
        with multiprocessing.get_context("fork").Pool(workers - 1) as pool:
            pending = pool.imap(_parse_share, shares)
            own = [parse(path, raw, config) for path, raw in items[split:]]
            blobs = [blob for share in pending for blob in share]
    finally:
        _job = None
    if pickled:
        theirs = [(keep(_entry(blob)), blob) for blob in blobs]
    else:
        theirs = [(keep(entry), None) for blob in blobs for entry in pickle.loads(blob)]
    return theirs + [(entry, dump_entry(entry) if pickled else None) for entry in own]


def _parse_share(bounds: tuple[int, int]) -> list[bytes]:
    """A share's entries, pickled one by one when the cache wants them so, otherwise CHUNK at a time."""
    assert _job is not None, "a worker runs only inside parse_all"
    parse, items, config, pickled = _job
    entries = [parse(path, raw, config) for path, raw in items[bounds[0]:bounds[1]]]
    if pickled:
        return [dump_entry(entry) for entry in entries]
    return [dump_entries(entries[start:start + CHUNK]) for start in range(0, len(entries), CHUNK)]


def _entry(blob: bytes) -> Entry:
    lead, problems = pickle.loads(blob)
    return lead, problems
