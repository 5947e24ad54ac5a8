"""A persistent cache of validated leads, keyed by file content, so an unchanged lead is never parsed twice.

One pack file per cache directory holds the ``(Lead | None, problems)`` of the last run's lead files in
chunks: each chunk is one pickle of the entries of up to a few hundred files, as the parse made them
(parallel.py; a worker's pickle is the one it sent), listed with their keys sha256(path, file bytes).
One pickle per chunk writes the names and values its leads share once and is read in one go: a third
of the cpu of one pickle per lead at each end. The pack's header names the funnel-site version, a
digest of the package's source code, the Python and PyYAML versions and a fingerprint of the validated
config: a pack written by anything else is ignored as a whole, a chunk that does not unpickle is
ignored alone. Pickle is fine for a private cache; whoever can write the cache directory can already
change the pipeline's code and files.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import sys
import tempfile
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from funnel_site import __version__
from funnel_site.model import Config, Lead
from funnel_site.problems import Problem

CACHE_DIR_NAME = ".funnel-site-cache"
CACHE_DIR_ENV = "FUNNEL_SITE_CACHE_DIR"
PACK_NAME = "leads.pickle"
MAGIC = b"funnel-site lead cache 2\n"
Entry = tuple[Lead | None, list[Problem]]
Chunk = tuple[tuple[bytes, ...], bytes]  # the keys of some entries, and one pickle of the list of them
SMALL_CHUNK = 50  # entries: a chunk kept from an earlier run with fewer is merged with others when the pack changes
CHUNK = 250  # entries per chunk, the parse's (parallel.py) and those the pack pickles afresh: an edit later re-pickles one


def cache_dir_for(root: Path, cache_dir: Path | None, disabled: bool) -> Path | None:
    """``--no-cache`` wins, then ``--cache-dir``, then $FUNNEL_SITE_CACHE_DIR, then DIR/.funnel-site-cache."""
    if disabled:
        return None
    if cache_dir is not None:
        return cache_dir
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV])
    return root / CACHE_DIR_NAME


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Changes with the version, any source file of the package, Python or PyYAML: all decide what a lead parses to."""
    import yaml

    digest = hashlib.sha256(f"{__version__}\0{sys.version}\0{yaml.__version__}\0{yaml.__with_libyaml__}".encode())
    package = Path(__file__).resolve().parent
    for source in sorted(package.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Unpickling or parsing 10k leads allocates millions of objects, none of them garbage: without the
    cyclic collector scanning them again and again, a warm load takes ~30 % less time, a cold one ~20 %.

    What the block allocated then goes straight to the oldest generation (``promoted``): left in the youngest, all of
    it was scanned by the first collection after the block and again by the next of the middle generation
    (10k leads: ~0.1 s in the build's process).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            promoted()
            gc.enable()


def promoted() -> None:
    """Every object the collector tracks moved to its oldest generation, unscanned (freezing and unfreezing splice its
    lists). Not while objects are frozen (``workers.shared_with_workers``, serve): unfreezing would let them go."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


def entry_key(path: str, raw: bytes) -> bytes:
    return hashlib.sha256(path.encode() + b"\0" + raw).digest()


def dump_entries(entries: list[Entry]) -> bytes:
    """Many entries as one pickle, which writes the names and values they share once."""
    return _pickled(entries)


def _pickled(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


class LeadCache:
    """Entries of one run: read once at the start, written back (only if anything changed) at the end."""

    def __init__(self, directory: Path, config: Config) -> None:
        self.directory = directory
        self.header = MAGIC + hashlib.sha256(f"{code_fingerprint()}\0{config!r}".encode()).hexdigest().encode() + b"\n"
        self.chunks = self._read()
        self.stored = {key: (number, place) for number, (keys, _) in enumerate(self.chunks) for place, key in enumerate(keys)}
        self.unpickled: dict[int, list[Entry | None]] = {}  # chunk number -> its entries, once asked for
        self.used: dict[int, dict[bytes, Entry]] = {}  # chunk number -> the entries this run took from it
        self.new: list[Chunk] = []

    def _read(self) -> list[Chunk]:
        try:
            data = (self.directory / PACK_NAME).read_bytes()
        except OSError:
            return []
        if not data.startswith(self.header):
            return []  # another version, another config, or not ours
        try:
            chunks = pickle.loads(data[len(self.header):])
        except Exception:  # a truncated or damaged pack: start afresh  # noqa: BLE001
            return []
        return chunks if isinstance(chunks, list) and all(map(_is_chunk, chunks)) else []

    def get(self, key: bytes) -> Entry | None:
        """The cached result for a file's key, or None when unknown or unreadable."""
        where = self.stored.get(key)
        if where is None:
            return None
        number, place = where
        if number not in self.unpickled:
            self.unpickled[number] = _load_entries(self.chunks[number][1], len(self.chunks[number][0]))
        entry = self.unpickled[number][place]
        if entry is not None:
            self.used.setdefault(number, {})[key] = entry
        return entry

    def put(self, keys: tuple[bytes, ...], blob: bytes) -> None:
        """The entries of ``keys``, pickled together in ``blob`` (``dump_entries``)."""
        self.new.append((keys, blob))

    def save(self) -> None:
        """Keep exactly this run's entries; a cache that cannot be written is no reason to fail a build.

        Chunks this run used whole are kept as they are; the entries it used from others (some of their files
        changed or went away, or the chunk is small) are pickled afresh, together.
        """
        whole = {number for number, used in self.used.items() if len(used) == len(self.chunks[number][0])}
        if not self.new and len(whole) == len(self.chunks):
            return
        kept = {number for number in whole if len(self.chunks[number][0]) >= SMALL_CHUNK}
        loose = {key: entry for number, used in self.used.items() if number not in kept for key, entry in used.items()}
        chunks = [self.chunks[number] for number in sorted(kept)] + self.new
        keys = list(loose)
        for start in range(0, len(keys), CHUNK):
            part = keys[start:start + CHUNK]
            chunks.append((tuple(part), dump_entries([loose[key] for key in part])))
        self._write(chunks)

    def _write(self, chunks: list[Chunk]) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            ignore = self.directory / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# funnel-site's cache; safe to delete\n*\n", encoding="utf-8")
            handle, temporary = tempfile.mkstemp(prefix=f".{PACK_NAME}.", dir=self.directory)
            with os.fdopen(handle, "wb") as stream:
                stream.write(self.header)
                pickle.dump(chunks, stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self.directory / PACK_NAME)
        except OSError:
            if "temporary" in locals():
                Path(temporary).unlink(missing_ok=True)


def _is_chunk(chunk: Any) -> bool:
    return (isinstance(chunk, tuple) and len(chunk) == 2 and isinstance(chunk[0], tuple) and isinstance(chunk[1], bytes)
            and all(isinstance(key, bytes) for key in chunk[0]))


def _load_entries(blob: bytes, count: int) -> list[Entry | None]:
    """A chunk's entries; None for each one that is not an entry, and for all of them when the chunk does not unpickle."""
    try:
        entries: Any = pickle.loads(blob)
    except Exception:  # noqa: BLE001 - a damaged chunk is a cache miss, never a crash
        return [None] * count
    if not isinstance(entries, list) or len(entries) != count:
        return [None] * count
    return [entry if _is_entry(entry) else None for entry in entries]


def _is_entry(entry: Any) -> bool:
    return (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], list)
            and (entry[0] is None or isinstance(entry[0], Lead)) and all(isinstance(p, Problem) for p in entry[1]))
