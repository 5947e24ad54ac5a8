"""UI translations: the built-in theme's gettext catalogs (``templates/locale/<lang>/LC_MESSAGES/messages.po``).

The .po file is the only source; it is compiled in memory, so no binary .mo is kept in the repository.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DOMAIN = "messages"


def catalog_path(templates: Path, language: str) -> Path:
    return templates / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def language_of(locale: str) -> str:
    try:
        return Locale.parse(locale).language
    except (UnknownLocaleError, ValueError):
        return "en"


@lru_cache(maxsize=8)
def translations(templates: Path, locale: str) -> gettext.NullTranslations:
    """The catalog for ``locale``'s language; English (the msgids themselves) when there is none."""
    path = catalog_path(templates, language_of(locale))
    if not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=language_of(locale))
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)
