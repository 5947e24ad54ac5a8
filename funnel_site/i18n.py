"""UI translations: the built-in theme's gettext catalogs (``templates/locale/<lang>/LC_MESSAGES/messages.po``).

The .po file is the only source: no binary .mo is kept in the repository. It is compiled on first use and the
result kept in the package's ``__pycache__/catalogs/``, as Python keeps compiled modules and compiled.py the
compiled theme: reading and compiling the .po with Babel cost every build ~40 ms of one core before the first page.
"""

from __future__ import annotations

import gettext
import hashlib
import os
import struct
import tempfile
from functools import lru_cache
from io import BytesIO
from pathlib import Path

import babel
from babel import Locale, UnknownLocaleError
from babel.support import Translations

DOMAIN = "messages"
FOLDER = Path(__file__).resolve().parent / "__pycache__" / "catalogs"


def catalog_path(templates: Path, language: str) -> Path:
    return templates / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def language_of(locale: str) -> str:
    try:
        return Locale.parse(locale).language
    except (UnknownLocaleError, ValueError):
        return "en"


@lru_cache(maxsize=8)
def translations(templates: Path, locale: str, folder: Path | None = FOLDER) -> gettext.NullTranslations:
    """The catalog for ``locale``'s language; English (the msgids themselves) when there is none. ``folder``: where
    compiled catalogs are kept (None: compiled every time)."""
    language = language_of(locale)
    try:
        source = catalog_path(templates, language).read_bytes()
    except OSError:
        return gettext.NullTranslations()
    try:
        return Translations(BytesIO(compiled_catalog(source, language, folder)), domain=DOMAIN)
    except (OSError, ValueError, LookupError, struct.error):  # a kept catalog damaged (a crash as it was written): anew
        return Translations(BytesIO(compiled_catalog(source, language, folder, reuse=False)), domain=DOMAIN)


def compiled_catalog(source: bytes, language: str, folder: Path | None = FOLDER, reuse: bool = True) -> bytes:
    """The .mo of the .po text ``source``: kept in ``folder`` under a digest of the text, the language and Babel's
    version, so a changed catalog is compiled anew; a folder that cannot be written is only not used. ``reuse``:
    False compiles it anew and replaces the kept one."""
    key = hashlib.sha256(b"\0".join((source, language.encode(), babel.__version__.encode()))).hexdigest()[:24]
    kept = folder / f"{language}-{key}.mo" if folder is not None else None
    if kept is not None and reuse:
        try:
            return kept.read_bytes()
        except OSError:
            pass
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    compiled = BytesIO()
    write_mo(compiled, read_po(BytesIO(source), locale=language))
    if kept is not None:
        _keep(kept, compiled.getvalue())
    return compiled.getvalue()


def _keep(path: Path, data: bytes) -> None:
    """Atomically, as compiled.py writes: readers at the same time see the whole file or none. The language's earlier
    catalogs go."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(f"{path.name.split('-')[0]}-*.mo"):
            stale.unlink(missing_ok=True)
        descriptor, staging = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(data)
            os.replace(staging, path)
        except BaseException:
            os.unlink(staging)
            raise
    except OSError:  # a read-only installation: compiled again next time
        pass
