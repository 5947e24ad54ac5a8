"""The only reader: config.yaml and leads/**/*.md -> Project, with every problem as a value."""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, replace
from functools import cached_property, partial
from pathlib import Path
from typing import Callable

from funnel_site.cache import PACK_NAME, LeadCache, collector_paused, entry_key
from funnel_site.config import CONFIG_FILE, parse_config
from funnel_site.frontmatter import decode, split_lead
from funnel_site.lead import parse_lead
from funnel_site.model import Config, Lead, Project
from funnel_site.parallel import parse_all
from funnel_site.progress import SILENT, Progress
from funnel_site.problems import ConfigError, Problem, sort_problems
from funnel_site.strict_yaml import YamlError, parse_yaml

LEADS_DIR = "leads"
MAX_LEAD_BYTES = 2 * 1024 * 1024
MAX_CONFIG_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Sources:
    """A pipeline's files as read before any lead is parsed, what a build's inputs are made of; or only found
    (``read_sources(read=False)``), and then read by the parse, which fills in their read problems and keys."""

    root: Path  # resolved
    config: Config
    paths: list[str]  # the lead files, sorted
    problems: list[Problem]  # found while looking for lead files
    raw: list[bytes | None] | None  # per path, None where it could not be read (see ``read_problems``); None: not read here
    read_problems: list[list[Problem]]
    keys: dict[str, bytes] | None = None  # ``entry_keys`` as the processes that read and parsed the files made them

    @cached_property
    def entry_keys(self) -> dict[str, bytes]:
        """Per readable lead file, the cache key of its path and bytes: it decides what the file parses to.
        Computed once for the lead cache and the site cache (a sha256 of every file: ~0.3 s at 100k leads)."""
        if self.keys is not None:
            return self.keys
        if self.raw is None:
            raise RuntimeError("the lead files were not read here; parse_sources reads them, and keys them for a cache")
        return {path: entry_key(path, raw) for path, raw in zip(self.paths, self.raw) if raw is not None}


def load_project(
    root: Path, cache_dir: Path | None = None, jobs: int | None = None, progress: Progress = SILENT,
    meanwhile: Callable[[], object] = lambda: None,
) -> Project:
    """Read and validate a pipeline directory. Config problems raise ConfigError; lead problems are kept.

    ``cache_dir``: reuse (and update) the parsed leads cached there. ``jobs``: parsing processes
    (default: all cores once there are many files; see parallel.py). ``meanwhile``: as ``parse_sources``.
    """
    read = cache_dir is not None and has_parsed_leads(cache_dir)
    return parse_sources(read_sources(root, progress, read), cache_dir, jobs, progress, meanwhile)[0]


def read_sources(root: Path, progress: Progress = SILENT, read: bool = True) -> Sources:
    """The config (validated; problems raise ConfigError) and the bytes of every lead file.

    ``read=False``: the files are only found; ``parse_sources`` reads each in the process that parses it. Where no
    cache can spare a file its parse, nothing needs the bytes before (to look up a key), and reading 10k files here
    first kept the other core idle for ~0.12 s (100k: ~1.2 s, and ~0.3 s more for their keys).
    """
    root = root.resolve()
    config = load_config(root)
    paths, problems = find_lead_files(root)
    if paths and not _in_page_cache(os.path.join(root, paths[0])):
        _announce(root, paths)
    if not read:
        return Sources(root, config, paths, problems, None, [[] for _ in paths])
    raws: list[bytes | None] = []
    read_problems: list[list[Problem]] = []
    for number, path in enumerate(paths, start=1):
        progress.update("read lead files:", number, len(paths))
        raw, found = _read_bytes(root, path)
        raws.append(raw)
        read_problems.append(found)
    return Sources(root, config, paths, problems, raws, read_problems)


def _in_page_cache(path: str) -> bool:
    """False when reading the file's first byte would have to wait for the disk."""
    if not hasattr(os, "RWF_NOWAIT"):
        return True  # no way to ask (not Linux): read as if cached
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return True  # reported when it is read
    try:
        os.preadv(descriptor, [bytearray(1)], 0, os.RWF_NOWAIT)
        return True
    except BlockingIOError:
        return False
    except OSError:
        return True  # reported when it is read
    finally:
        os.close(descriptor)


def _announce(root: Path, paths: list[str]) -> None:
    """Ask the kernel for every file at once: POSIX_FADV_WILLNEED starts the reads without waiting for them.

    Files that are not in the page cache cost a disk round trip each when read one after another (100k
    leads: 14-19 s); announced together, the disk takes them in parallel and in its own order (2.5-7.5 s). The
    first file stands for the rest: after a reboot or under memory pressure none is cached, after a
    checkout or an edit all are, and announcing cached files would only cost time.
    """
    for path in paths:
        try:
            descriptor = os.open(os.path.join(root, path), os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue  # reported when it is read
        try:
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_WILLNEED)
        finally:
            os.close(descriptor)


def parse_sources(
    sources: Sources, cache_dir: Path | None = None, jobs: int | None = None, progress: Progress = SILENT,
    meanwhile: Callable[[], object] = lambda: None,
) -> tuple[Project, Sources]:
    """Parse and validate what ``read_sources`` found (``cache_dir``, ``jobs``: as ``load_project``; ``meanwhile``: as
    ``parallel.parse_all``); and the sources as read, with the keys and read problems of files the parse read."""
    problems = list(sources.problems)
    leads: list[Lead] = []
    entries, sources = read_leads(sources, cache_dir, jobs, progress, meanwhile)
    for lead, lead_problems in entries:
        problems.extend(lead_problems)
        if lead is not None:
            leads.append(lead)
    return Project(str(sources.root), sources.config, tuple(leads), tuple(sort_problems(problems))), sources


def has_parsed_leads(cache_dir: Path) -> bool:
    """Whether ``cache_dir`` may know parsed leads: then their keys are looked up before anything is parsed."""
    return (cache_dir / PACK_NAME).exists()


def load_config(root: Path) -> Config:
    """Read config.yaml; any problem with it is a ConfigError (exit code 2)."""
    path = root / CONFIG_FILE
    if not path.is_file():
        raise ConfigError([Problem(CONFIG_FILE, 1, "config", f"no {CONFIG_FILE} in {root} (is this a pipeline directory?)", rule="missing")])
    raw = path.read_bytes()
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError([Problem(CONFIG_FILE, 1, "file", "is larger than 1 MiB", rule="size")])
    text, problem = decode(CONFIG_FILE, raw)
    if problem is None and text is not None:
        problem = _tab_problem(text)
    if problem is not None or text is None:
        raise ConfigError([problem] if problem else [])
    try:
        data, lines = parse_yaml(text)
    except YamlError as error:
        raise ConfigError([Problem(CONFIG_FILE, error.line, "config", error.message, rule="yaml")]) from None
    config, problems = parse_config(data, lines)
    if config is None:
        raise ConfigError(sort_problems(problems))
    return config


def _tab_problem(text: str) -> Problem | None:
    for number, line in enumerate(text.split("\n"), start=1):
        if "\t" in line:
            return Problem(CONFIG_FILE, number, "config", "tab character; indent with spaces", rule="yaml")
    return None


def find_lead_files(root: Path) -> tuple[list[str], list[Problem]]:
    """Every ``leads/**/*.md`` as a sorted relative path; refuse what would escape or collide."""
    problems: list[Problem] = []
    found: list[str] = []
    if not (root / LEADS_DIR).is_dir():
        return [], problems
    _scan_folder(root, LEADS_DIR, found, problems)
    problems.extend(_case_collisions(found))
    collided = {p.path for p in problems}
    return sorted(p for p in found if p not in collided), problems


def _scan_folder(root: Path, folder: str, found: list[str], problems: list[Problem]) -> None:
    """One folder, then its sub-folders (as os.walk would, top-down), with the file types the directory
    listing already knows: no stat per plain file, which counts at 100k leads."""
    try:
        with os.scandir(root / folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError:
        return  # like os.walk: a folder that cannot be listed is skipped
    folders = []
    for entry in entries:
        if not entry.name.startswith(".") and _is_dir(entry):
            if entry.is_symlink():
                problems.append(_file_problem(f"{folder}/{entry.name}", "symlinked folders are not followed; move the files into leads/"))
            else:
                folders.append(f"{folder}/{entry.name}")
    for entry in entries:
        path = f"{folder}/{entry.name}"
        if entry.name.startswith(".") or _is_dir(entry):
            continue
        if not entry.name.endswith(".md"):
            problems.append(_file_problem(path, "not a lead file (only *.md files are read)", "warning"))
        elif entry.is_symlink() and _escapes(Path(entry.path), root):
            problems.append(_file_problem(path, "symlink points outside the pipeline directory"))
        elif not _is_file(entry):
            what = "symlink is broken or loops" if entry.is_symlink() else "not a regular file"
            problems.append(_file_problem(path, f"{what}; a lead must be a plain file inside the pipeline directory"))
        else:
            found.append(path)
    for sub_folder in folders:
        _scan_folder(root, sub_folder, found, problems)


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _escapes(full: Path, root: Path) -> bool:
    try:
        return not full.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a symlink loop: reported as broken below
        return False


def _file_problem(path: str, message: str, severity: str = "error") -> Problem:
    return Problem(path, 1, "file", message, severity, "file")  # type: ignore[arg-type]


def _case_collisions(paths: list[str]) -> list[Problem]:
    first: dict[str, str] = {}
    problems = []
    for path in sorted(paths):
        key = unicodedata.normalize("NFC", path).casefold()  # macOS and Windows treat these as one file
        if key in first:
            same_text = unicodedata.normalize("NFC", path) == unicodedata.normalize("NFC", first[key])
            how = "how its accents are encoded (NFC/NFD)" if same_text else "upper/lower case"
            message = f"differs from {first[key]} only in {how}; their pages would collide"
            problems.append(Problem(path, 1, "file", message, rule="file"))
        else:
            first[key] = path
    return problems


def lead_id(path: str) -> str:
    return path[len(LEADS_DIR) + 1 : -len(".md")]


def read_leads(
    sources: Sources, cache_dir: Path | None, jobs: int | None, progress: Progress = SILENT,
    meanwhile: Callable[[], object] = lambda: None,
) -> tuple[list[tuple[Lead | None, list[Problem]]], Sources]:
    """Every lead file validated, in order; what the cache knows is not parsed again. Sources not read yet are read
    by the processes that parse them: the sources come back with their keys and read problems."""
    config = sources.config
    cache = LeadCache(cache_dir, config) if cache_dir is not None else None
    unread = sources.raw is None
    results: list[tuple[Lead | None, list[Problem]] | None] = []
    todo: list[tuple[int, str, bytes | None]] = []
    keys = sources.entry_keys if cache is not None and not unread else {}
    read_keys: dict[str, bytes] = {}  # of the files the parse read (b"" without a cache)
    with collector_paused():  # to the end: the lists made after the parse would start a full collection (100k: 0.7 s)
        for path, raw, problems in zip(sources.paths, sources.raw or [None] * len(sources.paths), sources.read_problems):
            cached = cache.get(keys[path]) if cache is not None and raw is not None else None
            if (raw is not None or unread) and cached is None:
                todo.append((len(results), path, raw))
            results.append(cached if raw is not None else (None, problems))
        progress.update("parsing lead files:", 0, len(todo))
        read = partial(_read_bytes, sources.root) if unread else None
        parsed = parse_all(parse_lead_bytes, [(path, raw) for _, path, raw in todo], config, jobs, cache is not None, meanwhile, read)
        progress.update("parsed lead files:", len(todo), len(todo))
        start = 0
        known = read_keys if unread else keys
        for entries, blob, chunk_keys in parsed:
            chunk = todo[start:start + len(entries)]
            start += len(entries)
            for (index, _, _), entry in zip(chunk, entries):
                results[index] = entry
            read_keys.update((path, key) for (_, path, _), key in zip(chunk, chunk_keys) if key is not None)
            if cache is not None and blob is not None and all(path in known for _, path, _ in chunk):  # an unreadable file: not kept
                cache.put(tuple(known[path] for _, path, _ in chunk), blob)
        if cache is not None:
            cache.save()
        entries = list(filter(None, results))
        if unread:
            read_problems = [[] if path in read_keys else problems for path, (_, problems) in zip(sources.paths, entries)]
            sources = replace(sources, read_problems=read_problems, keys=read_keys if cache is not None else None)
    return entries, sources


def read_lead(root: Path, path: str, config: Config) -> tuple[Lead | None, list[Problem]]:
    """Read, split, parse and validate one lead file."""
    raw, problems = _read_bytes(root, path)
    return parse_lead_bytes(path, raw, config) if raw is not None else (None, problems)


def _read_bytes(root: Path, path: str) -> tuple[bytes | None, list[Problem]]:
    try:
        descriptor = os.open(os.path.join(root, path), os.O_RDONLY | os.O_CLOEXEC)
        try:
            raw = _read_whole(descriptor)
        finally:
            os.close(descriptor)
    except OSError as error:
        return None, [Problem(path, 1, "file", f"cannot be read ({error.strerror})", rule="file")]
    if len(raw) > MAX_LEAD_BYTES:
        return None, [Problem(path, 1, "file", f"is larger than {MAX_LEAD_BYTES // 1024 // 1024} MiB; keep attachments and long documents out of leads/", rule="size")]
    return raw, []


def _read_whole(descriptor: int) -> bytes:
    """The file's bytes: in one read when its size is as stated (4 system calls a file instead of
    ``open().read()``'s 9, which counts at 100k files), in more when it grew meanwhile."""
    size = os.fstat(descriptor).st_size
    raw = os.read(descriptor, size + 1)
    if len(raw) <= size:  # a short read of a regular file is its end
        return raw
    parts = [raw]
    while part := os.read(descriptor, 1 << 16):
        parts.append(part)
    return b"".join(parts)


def parse_lead_bytes(path: str, raw: bytes, config: Config) -> tuple[Lead | None, list[Problem]]:
    """Everything after reading: decode, split, parse, validate."""
    text, problem = decode(path, raw)
    if text is None:
        return None, [problem] if problem else []
    source, problem = split_lead(path, text)
    if source is None:
        return None, [problem] if problem else []
    return parse_lead(path, lead_id(path), source.data, source.lines, source.body, source.body_line, config)
