"""The site cache: what the last build wrote, so a build with nothing changed writes nothing, and a
build with a few changed leads renders only their pages.

One manifest per output folder, in the cache directory next to the parse cache
(``site-<digest of the output path>.pickle``), holds:

* the digest of every input of that build: the code, installed packages, config, theme and pipeline
  templates, today, --owner/--split, the path and bytes of every lead file, and the owner and mode
  a file written now gets (``inputs_digest``);
* every file and folder of the output as it was left, by stat identity (inode, size, mtime, ctime),
  and every file's sha256;
* per lead, company and owner page, the digest of what it shows (``page_digests``);
* what the build printed: its problems and its number of leads.

Same inputs and an output folder exactly as left -> the build is complete already. Otherwise a
page whose digest is unchanged is hard-linked from the output folder, if its file there is still the
one written. A file with its recorded stamp is (ctime cannot be set back: an edit that keeps size and
mtime still shows); one with another stamp is compared by content, so a copy of the output restored
by a CI cache (new inodes and ctimes) counts too. The manifest is written after the swap: a build
killed before leaves the old one, which at worst no longer matches. Like the parse cache, a manifest
that cannot be read or written is a miss, never a failure.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from funnel_site.build import FOLDER, LINKED, Recorded, Stamp, new_file_owner, stamp
from funnel_site.cache import code_fingerprint, collector_paused
from funnel_site.load import Sources
from funnel_site.problems import Problem
from funnel_site.theme import builtin_templates

if TYPE_CHECKING:
    from funnel_site.figures import Figures
    from funnel_site.render import SitePlan

MAGIC = b"funnel-site site cache 1\n"


@dataclass
class Manifest:
    inputs: bytes  # inputs_digest of the build that wrote the output
    files: dict[str, Stamp]  # every file and folder of the output, "/"-separated
    contents: dict[str, bytes] = field(default_factory=dict)  # file -> sha256 of its bytes, for a restored copy
    pages: dict[str, bytes] = field(default_factory=dict)  # page path -> digest of what it shows
    problems: list[Problem] = field(default_factory=list)  # what the build printed
    leads: int = 0
    fingerprint: bytes = b""  # build_fingerprint: pages are compared only when it is the same


def build_fingerprint(sources: Sources, today: date, owner: str | None, split: bool) -> bytes:
    """Everything besides the lead files that a page can depend on."""
    digest = hashlib.sha256(code_fingerprint().encode())
    for part in (_packages(), str(sources.root), repr(sources.config), today.isoformat(), repr(owner), repr(split)):
        digest.update(part.encode() + b"\0")
    for base in (builtin_templates(), sources.root / "templates"):  # the theme is not .py: code_fingerprint misses it
        _hash_tree(digest, base)
    return digest.digest()


def inputs_digest(fingerprint: bytes, sources: Sources, keys: dict[str, bytes]) -> bytes:
    """The fingerprint plus every lead file's path and bytes (``keys``) and what finding or reading them found,
    and who owns a file written now and its mode: another user or umask must not find the site complete."""
    digest = hashlib.sha256(fingerprint + repr(new_file_owner()).encode())
    digest.update(repr(sources.problems).encode())
    for path, problems in zip(sources.paths, sources.read_problems):
        digest.update(b"k" + keys[path] if path in keys else b"p" + repr((path, problems)).encode() + b"\0")
    return digest.digest()


def page_digests(plan: SitePlan, figures: Figures, keys: dict[str, bytes]) -> dict[str, bytes]:
    """Per lead, company and owner page, what it shows (render._page_keys, made durable), as bytes to compare.

    A lead's figures depend on nothing but the lead, the config and today, and its lead's key on
    nothing but its path and bytes; the company link names a slug, which depends on the other companies.
    A lead page's is its lead's key and link as they are, not hashed again (10k pages: ~10 ms less before the
    pages are rendered); what the code, config, theme and today add is the build's fingerprint, compared once
    (``SiteCache.reusable``).
    """
    if len({path for path, _, _ in plan.pages}) != len(plan.pages):
        return {}  # two pages on one path (the later wins): not worth reasoning about
    company_url = plan.env.globals["company_url"]
    shown: dict[str, bytes] = {}  # per lead path: what a page shows of the lead, made once for its three pages
    by_owner: dict[str, list[bytes]] = {}
    for f in figures.leads:
        link = company_url(f.lead.company) if f.lead.company else ""
        shown[f.lead.path] = part = keys[f.lead.path] + link.encode() + b"\0"
        by_owner.setdefault(f.lead.owner, []).append(part)
    digests: dict[str, bytes] = {}
    for path, template, extra in plan.pages:
        if template == "lead.html":
            digests[path] = shown[extra["lead"].path]
        elif template == "company.html":
            parts = [repr(extra["company"].key).encode(), *(shown[f.lead.path] for f in extra["company"].leads)]
            digests[path] = hashlib.sha256(b"\0".join(parts)).digest()
        elif template == "owner.html":
            parts = [repr(extra["owner"].member).encode(), *by_owner.get(extra["owner"].member.id, ())]
            digests[path] = hashlib.sha256(b"\0".join(parts)).digest()
        # pages over all leads are always rendered
    return digests


def manifest_file(directory: Path, out: Path) -> Path:
    """The manifest of the output folder ``out`` (resolved) in the cache ``directory``."""
    return directory / f"site-{hashlib.sha256(os.fsencode(out)).hexdigest()[:16]}.pickle"


def open_site_cache(directory: Path, out: Path, sources: Sources, today: date, owner: str | None, split: bool) -> SiteCache:
    """The site cache of a build of ``sources`` into ``out``, with the manifest its last build left (all of it kept:
    the collector is paused while it is read and the output scanned; a build with nothing changed spent ~3 % collecting)."""
    fingerprint = build_fingerprint(sources, today, owner, split)
    keys = sources.entry_keys
    with collector_paused():
        return SiteCache(directory, out, fingerprint, keys, inputs_digest(fingerprint, sources, keys))


class SiteCache:
    """The manifest of one output folder: read at the start of a build, replaced after its swap."""

    def __init__(self, directory: Path, out: Path, fingerprint: bytes, keys: dict[str, bytes], inputs: bytes) -> None:
        self.file = manifest_file(directory, out)
        self.out, self.fingerprint, self.keys, self.inputs = out, fingerprint, keys, inputs
        self.header = MAGIC + code_fingerprint().encode() + b"\n"
        self.previous = self._read()
        self.found = scan_output(out) if self.previous is not None else {}
        self.intact: set[str] = set()  # files of the output known to hold what the last build wrote
        self.pages: dict[str, bytes] = {}  # this build's page digests, set by whoever plans the pages
        self.owner = new_file_owner()

    def _read(self) -> Manifest | None:
        try:
            data = self.file.read_bytes()
        except OSError:
            return None
        if not data.startswith(self.header):
            return None
        try:
            manifest = pickle.loads(data[len(self.header):])
        except Exception:  # noqa: BLE001 - a damaged manifest is a miss, never a crash
            return None
        return manifest if _well_formed(manifest) else None

    def unchanged(self) -> Manifest | None:
        """The previous build's manifest when it had the same inputs and its output is exactly as it left it.

        A copy of the output (a CI cache restored: new inodes and ctimes) is compared by content, and
        its stamps recorded for the next build.
        """
        previous = self.previous
        if previous is None or previous.inputs != self.inputs or previous.files.keys() != self.found.keys():
            return None
        if not all(self._is_intact(path) for path in self.found):
            return None
        if previous.files != self.found:
            self.pages = previous.pages
            self.save(previous.problems, previous.leads)
        return previous

    def _is_intact(self, path: str) -> bool:
        """Whether the output's file ``path`` still holds what the last build wrote there."""
        assert self.previous is not None
        written, now = self.previous.files.get(path), self.found.get(path)
        if written is None or now is None or now == FOLDER or written == FOLDER:
            return written == now
        if now != written:  # touched since: a restored copy, or changed (content, owner or mode: docs/reliability.md)
            if now[1] != written[1] or path not in self.previous.contents or not _owned(os.path.join(self.out, path), self.owner):
                return False
            if _content(os.path.join(self.out, path)) != self.previous.contents[path]:
                return False
        self.intact.add(path)
        return True

    def reusable(self, plan: SitePlan, figures: Figures) -> set[str]:
        """Pages that show what they showed last time, whose files in the output are still the ones written."""
        self.pages = digests = page_digests(plan, figures, self.keys)
        if self.previous is None or self.previous.fingerprint != self.fingerprint:
            return set()
        old = self.previous.pages
        return {path for path, digest in digests.items() if old.get(path) == digest and self._is_intact(path)}

    def save(self, problems: list[Problem], leads: int, written: Recorded | None = None) -> None:
        """Record the output as this build left it; a cache that cannot be written is no reason to fail.

        ``written``: the sha256 of the files this build wrote, from their bytes, and the stamps of all it left,
        taken as it wrote them (``build.write_checked``); without them, the output is scanned.
        """
        digests, stamps = written or ({}, {})
        files = _completed(self.out, stamps) if stamps else scan_output(self.out)
        manifest = Manifest(self.inputs, files, self._contents(files, digests), self.pages, problems, leads, self.fingerprint)
        temporary = None
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=f".{self.file.name}.", dir=self.file.parent)
            with os.fdopen(handle, "wb") as stream:
                stream.write(self.header)
                pickle.dump(manifest, stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self.file)
        except (OSError, pickle.PicklingError):
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)

    def _contents(self, files: dict[str, Stamp], written: dict[str, bytes]) -> dict[str, bytes]:
        """The sha256 of every file: as written, or as recorded for a file known intact and still the same inode,
        size and mtime (linked into the new site, its ctime changed); read only where neither says."""
        known = self.previous.contents if self.previous is not None else {}
        contents = {}
        for path, now in files.items():
            if now == FOLDER:
                continue
            before = self.found.get(path)
            if path in written:
                contents[path] = written[path]
            elif path in self.intact and before is not None and before[:3] == now[:3] and path in known:
                contents[path] = known[path]
            else:
                contents[path] = _content(os.path.join(self.out, path))
        return contents


def _owned(path: str, owner: tuple[int, int]) -> bool:
    """Whether a file has this owner and mode (``new_file_owner``; a copy or a chown may change them)."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return (info.st_uid, stat.S_IMODE(info.st_mode)) == owner


def _content(path: str) -> bytes:
    try:
        with open(path, "rb") as stream:
            return hashlib.sha256(stream.read()).digest()
    except OSError:
        return b""


def _completed(out: Path, stamps: dict[str, Stamp]) -> dict[str, Stamp]:
    """The stamps a build recorded as it wrote, with those of the files it linked taken now."""
    return {path: _stamp_now(os.path.join(out, path)) if recorded == LINKED else recorded for path, recorded in stamps.items()}


def _stamp_now(path: str) -> Stamp:
    try:
        return stamp(os.lstat(path))
    except OSError:
        return FOLDER  # vanished: never equal to a file written, as in a scan


def scan_output(out: Path) -> dict[str, Stamp]:
    """Every file and folder below ``out`` by stat identity; empty when there is no such folder."""
    found: dict[str, Stamp] = {}
    _scan(os.fspath(out), "", found)
    return found


def _scan(folder: str, prefix: str, found: dict[str, Stamp]) -> None:
    try:
        with os.scandir(folder) as listing:
            entries = list(listing)
    except OSError:
        return
    for entry in entries:
        relative = prefix + entry.name
        try:
            if entry.is_dir(follow_symlinks=False):
                found[relative] = FOLDER
                _scan(entry.path, relative + "/", found)
                continue
            info = entry.stat(follow_symlinks=False)
        except OSError:
            found[relative] = FOLDER  # vanished or unreadable: never equal to a file written
            continue
        found[relative] = stamp(info)


def _well_formed(manifest: Any) -> bool:
    return (isinstance(manifest, Manifest) and isinstance(manifest.inputs, bytes) and isinstance(manifest.files, dict)
            and isinstance(manifest.pages, dict) and isinstance(manifest.contents, dict) and isinstance(manifest.leads, int)
            and isinstance(manifest.fingerprint, bytes)
            and isinstance(manifest.problems, list) and all(isinstance(p, Problem) for p in manifest.problems))


def _hash_tree(digest: Any, base: Path) -> None:
    # Jinja's loader and the asset copy follow symlinked folders, so the digest must too (once each: loops).
    seen: set[str] = set()
    for folder, folders, names in os.walk(base, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            folders.clear()
            continue
        seen.add(real)
        folders.sort()
        for name in sorted(names):
            path = os.path.join(folder, name)
            try:
                with open(path, "rb") as stream:
                    data = stream.read()
            except OSError:
                data = b"\0unreadable"
            relative = os.path.relpath(path, base).encode("utf-8", "surrogateescape")
            digest.update(relative + b"\0" + str(len(data)).encode() + b"\0" + data)


def _packages() -> str:
    """The installed distributions and their versions (Jinja2, Babel, markdown-it-pyrs, ...), from the
    names of their metadata folders: importlib.metadata alone would cost ~100 ms."""
    names: list[str] = []
    for entry in sys.path:
        if os.path.basename(entry) not in ("site-packages", "dist-packages"):
            continue  # not the working directory: what it holds is no input
        try:
            names += sorted(n for n in os.listdir(entry or ".") if n.endswith((".dist-info", ".egg-info")))
        except OSError:
            continue
    return "\n".join(names)
