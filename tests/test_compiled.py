"""Compiled templates kept between runs (funnel_site/compiled.py)."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest

from funnel_site.compiled import CompiledTemplates
from funnel_site.engine import BuildEnvironment


def _environment(builtin: Path, own: Path, cache: CompiledTemplates) -> jinja2.Environment:
    return BuildEnvironment(loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(own)), jinja2.FileSystemLoader(str(builtin))]),
                            autoescape=True, keep_trailing_newline=True, bytecode_cache=cache)


@pytest.fixture
def theme(tmp_path: Path) -> tuple[Path, Path, Path]:
    builtin, own, folder = tmp_path / "builtin", tmp_path / "own", tmp_path / "compiled"
    builtin.mkdir()
    own.mkdir()
    (builtin / "page.html").write_text("<p>{{ name }}</p>\n")
    (own / "mine.html").write_text("<b>{{ name }}</b>\n")
    return builtin, own, folder


def _refuse_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    def compile(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled again")

    monkeypatch.setattr(BuildEnvironment, "compile", compile)


def test_a_builtin_template_is_compiled_once_across_processes(theme: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    builtin, own, folder = theme
    first = _environment(builtin, own, CompiledTemplates(builtin, folder).salted("de_DE"))
    assert first.get_template("page.html").render(name="<x>") == "<p>&lt;x&gt;</p>\n"
    assert len(os.listdir(folder)) == 1
    _refuse_compiling(monkeypatch)  # a new process: a new cache over the same folder
    second = _environment(builtin, own, CompiledTemplates(builtin, folder).salted("de_DE"))
    assert second.get_template("page.html").render(name="<x>") == "<p>&lt;x&gt;</p>\n"


def test_a_pipeline_template_is_kept_in_memory_only(theme: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    builtin, own, folder = theme
    cache = CompiledTemplates(builtin, folder)
    assert _environment(builtin, own, cache.salted("de_DE")).get_template("mine.html").render(name="a") == "<b>a</b>\n"
    assert not folder.exists()
    _refuse_compiling(monkeypatch)  # the same process: its memory has it
    assert _environment(builtin, own, cache.salted("de_DE")).get_template("mine.html").render(name="b") == "<b>b</b>\n"


def test_an_edited_template_is_compiled_again(theme: tuple[Path, Path, Path]) -> None:
    builtin, own, folder = theme
    _environment(builtin, own, CompiledTemplates(builtin, folder).salted("de_DE")).get_template("page.html")
    (builtin / "page.html").write_text("<p>{{ name }}!</p>\n")
    env = _environment(builtin, own, CompiledTemplates(builtin, folder).salted("de_DE"))
    assert env.get_template("page.html").render(name="a") == "<p>a!</p>\n"


def test_each_locale_keeps_its_entry_and_new_code_replaces_the_old(theme: tuple[Path, Path, Path]) -> None:
    builtin, own, folder = theme
    cache = CompiledTemplates(builtin, folder)
    de, en = cache.salted("de_DE"), cache.salted("en_US")
    assert de.salt != en.salt
    _environment(builtin, own, de).get_template("page.html")
    _environment(builtin, own, en).get_template("page.html")
    assert sorted(name.split("-", 1)[1] for name in os.listdir(folder)) == sorted([de.salt, en.salt])
    locale = de.salt.split("-")[0]
    for code in ("0000", "1111"):  # the package changed: the German entry of the earlier code goes, the English stays
        _environment(builtin, own, CompiledTemplates(builtin, folder, salt=f"{locale}-{code}")).get_template("page.html")
    assert sorted(name.split("-", 1)[1] for name in os.listdir(folder)) == sorted([f"{locale}-1111", en.salt])


def test_an_unwritable_folder_still_renders(theme: tuple[Path, Path, Path]) -> None:
    builtin, own, folder = theme
    folder.write_text("not a folder")
    env = _environment(builtin, own, CompiledTemplates(builtin, folder).salted("de_DE"))
    assert env.get_template("page.html").render(name="a") == "<p>a</p>\n"


PO = b'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "Facts"\nmsgstr "Eckdaten"\n'


def _refuse_reading_po(monkeypatch: pytest.MonkeyPatch) -> None:
    import babel.messages.pofile

    def read_po(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled again")

    monkeypatch.setattr(babel.messages.pofile, "read_po", read_po)


def test_a_catalog_is_compiled_once_and_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from io import BytesIO

    from babel.support import Translations

    from funnel_site.i18n import compiled_catalog

    fresh = compiled_catalog(PO, "de", None)
    assert Translations(BytesIO(fresh)).gettext("Facts") == "Eckdaten"
    assert compiled_catalog(PO, "de", tmp_path / "catalogs") == fresh
    [kept] = (tmp_path / "catalogs").iterdir()
    _refuse_reading_po(monkeypatch)
    assert compiled_catalog(PO, "de", tmp_path / "catalogs") == fresh  # read from the folder
    monkeypatch.undo()
    changed = compiled_catalog(PO.replace(b"Eckdaten", b"Fakten"), "de", tmp_path / "catalogs")
    assert Translations(BytesIO(changed)).gettext("Facts") == "Fakten"
    assert [path.name for path in (tmp_path / "catalogs").iterdir()] != [kept.name]  # the earlier one went
    assert len(list((tmp_path / "catalogs").iterdir())) == 1


def test_a_catalog_folder_that_cannot_be_written_is_not_used(tmp_path: Path) -> None:
    from funnel_site.i18n import compiled_catalog

    (tmp_path / "catalogs").write_text("a file where the folder would be")
    assert compiled_catalog(PO, "de", tmp_path / "catalogs") == compiled_catalog(PO, "de", None)


@pytest.mark.parametrize("damage", [b"", b"\x95\x04\x12\xde" + b"\0" * 12, b"not a catalog at all"])
def test_a_damaged_kept_catalog_is_compiled_again(tmp_path: Path, damage: bytes) -> None:
    from funnel_site.i18n import translations

    (tmp_path / "templates" / "locale" / "de" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "templates" / "locale" / "de" / "LC_MESSAGES" / "messages.po").write_bytes(PO)
    assert translations(tmp_path / "templates", "de_DE", tmp_path / "catalogs").gettext("Facts") == "Eckdaten"
    [kept] = (tmp_path / "catalogs").iterdir()
    kept.write_bytes(damage)  # a crash right after the file was renamed into place, on a file system without a journal
    translations.cache_clear()
    assert translations(tmp_path / "templates", "de_DE", tmp_path / "catalogs").gettext("Facts") == "Eckdaten"
    assert kept.read_bytes() != damage
