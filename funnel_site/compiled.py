"""Compiled templates kept for the life of the process, and the built-in theme's kept on disk between runs,
as Python keeps a compiled module in ``__pycache__``.

Compiling the theme's two dozen templates costs every build 0.3-0.5 s of one core before the first page
(the code generator of engine.py runs over each template). A template's compiled code depends on its
source, which Jinja checks against a checksum kept with the code, and on how it is compiled: Jinja and
Python versions, this package's code (engine.py's generator) and the locale. Those make the ``salt`` that
names the entries, so an entry of another version or locale is never read. A pipeline's own templates are
kept in memory only: nothing of a pipeline is written outside it and its cache. Where the package's folder is
not writable (a system-wide installation), the theme is compiled in every run, as before.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import jinja2
import jinja2.bccache

from funnel_site.cache import code_fingerprint
from funnel_site.i18n import catalog_path, language_of
from funnel_site.theme import in_theme

FOLDER = Path(__file__).resolve().parent / "__pycache__" / "templates"


class _Entries:
    """What every salted view of one cache shares: compiled code by key, and the keys kept on disk too."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}
        self.on_disk: set[str] = set()


class CompiledTemplates(jinja2.BytecodeCache):
    """Compiled code by template and salt: in memory, and for the templates under ``builtin`` in ``folder`` too.

    An entry's name is ``<template>-<locale>-<code>``: the template (Jinja's key of its name and file), a digest of
    the locale and its catalog, and a digest of the package's code and Jinja's version.
    """

    def __init__(self, builtin: Path, folder: Path | None = FOLDER, entries: _Entries | None = None, salt: str = "-") -> None:
        self.builtin = builtin
        self.folder = folder
        self.entries = entries or _Entries()
        self.salt = salt

    def salted(self, locale: str) -> CompiledTemplates:
        """This cache's entries for one way of compiling: the environment's locale and its catalog (a label may be
        compiled in), this package's code, and the Jinja and Python versions (Jinja checks Python's itself)."""
        try:
            messages = catalog_path(self.builtin, language_of(locale)).read_bytes()
        except OSError:
            messages = b""
        locale_tag = hashlib.sha256(locale.encode() + b"\0" + messages).hexdigest()[:16]
        code_tag = hashlib.sha256(f"{code_fingerprint()}\0{jinja2.__version__}".encode()).hexdigest()[:16]
        return CompiledTemplates(self.builtin, self.folder, self.entries, f"{locale_tag}-{code_tag}")

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        key = f"{super().get_cache_key(name, filename)}-{self.salt}"
        if self.folder is not None and in_theme(filename, self.builtin):
            self.entries.on_disk.add(key)
        return key

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self.entries.code.get(bucket.key)
        if code is None and bucket.key in self.entries.on_disk:
            code = self._read(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self.entries.code[bucket.key] = bucket.bytecode_to_string()
        if bucket.key in self.entries.on_disk:
            self._write(bucket.key, code)

    def _read(self, key: str) -> bytes | None:
        assert self.folder is not None
        try:
            return (self.folder / key).read_bytes()
        except OSError:
            return None

    def _write(self, key: str, code: bytes) -> None:
        """Atomically: builds running at the same time read a whole entry or none. The template's entries for the
        same locale made by other code (an earlier version of the package) go: one entry per template and locale."""
        assert self.folder is not None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._remove_stale(key)
            fd, staging = tempfile.mkstemp(dir=self.folder, prefix=f".{key}.")
            try:
                with os.fdopen(fd, "wb") as stream:
                    stream.write(code)
                os.replace(staging, self.folder / key)
            except BaseException:
                os.unlink(staging)
                raise
        except OSError:  # a read-only installation: compiled again next time, as Python does
            pass

    def _remove_stale(self, key: str) -> None:
        assert self.folder is not None
        same_locale = key.rsplit("-", 1)[0] + "-"
        for name in os.listdir(self.folder):
            if name.startswith(same_locale) and name != key:
                try:
                    os.unlink(self.folder / name)
                except OSError:
                    pass
