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

FOLDER = Path(__file__).resolve().parent / "__pycache__" / "templates"


class CompiledTemplates(jinja2.BytecodeCache):
    """Compiled code by template and salt: in memory, and for the templates under ``builtin`` in ``folder`` too."""

    def __init__(self, builtin: Path, folder: Path | None = FOLDER) -> None:
        self.builtin = str(builtin.resolve()) + os.sep
        self.folder = folder
        self.salt = ""
        self._code: dict[str, bytes] = {}
        self._on_disk: set[str] = set()

    def salted(self, locale: str) -> CompiledTemplates:
        """This cache's entries for one way of compiling: the environment's locale and its catalog (a label may be
        compiled in), this package's code, and the Jinja and Python versions (Jinja checks Python's itself)."""
        catalog = catalog_path(Path(self.builtin), language_of(locale))
        try:
            messages = catalog.read_bytes()
        except OSError:
            messages = b""
        digest = hashlib.sha256(f"{code_fingerprint()}\0{jinja2.__version__}\0{locale}\0".encode() + messages)
        salted = CompiledTemplates.__new__(CompiledTemplates)
        salted.__dict__.update(self.__dict__)  # the same entries (dicts shared), each under another name
        salted.salt = digest.hexdigest()[:32]
        return salted

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        key = super().get_cache_key(name, filename)
        key = f"{key}-{self.salt}"
        if self.folder is not None and filename is not None and os.path.realpath(filename).startswith(self.builtin):
            self._on_disk.add(key)
        return key

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is None and bucket.key in self._on_disk:
            code = self._read(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code[bucket.key] = bucket.bytecode_to_string()
        if bucket.key in self._on_disk:
            self._write(bucket.key, code)

    def _read(self, key: str) -> bytes | None:
        assert self.folder is not None
        try:
            return (self.folder / key).read_bytes()
        except OSError:
            return None

    def _write(self, key: str, code: bytes) -> None:
        """Atomically: builds running at the same time read a whole entry or none. The template's entries of
        other salts (an earlier version of the package) go: a folder holds one entry per template and locale."""
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
        template = key.split("-", 1)[0]
        for name in os.listdir(self.folder):
            if name.startswith(f"{template}-") and name != key and not name.startswith("."):
                try:
                    os.unlink(self.folder / name)
                except OSError:
                    pass
