"""A rebuilt site's files look as freshly written ones would: an unchanged file is hard-linked from the
previous site only when its owner and mode are what a new file would get (docs/reliability.md)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterator

import pytest

from conftest import TODAY, lead
from funnel_site.build import new_file_owner

LEADS = {
    "leads/acme.md": lead(title="Acme", owner="anna", stage="offer", value=1000, expected_close="2026-12-01", company="Acme AG"),
    "leads/beta.md": lead(title="Beta", owner="ben", stage="negotiation", value=5000, expected_close="2026-12-20", company="Beta GmbH"),
}


@pytest.fixture
def umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def files(site: Path) -> dict[str, tuple[int, int, int]]:
    """Every file: inode, owner and permission bits."""
    found = {}
    for path in sorted(site.rglob("*")):
        if path.is_file():
            info = path.lstat()
            found[path.relative_to(site).as_posix()] = (info.st_ino, info.st_uid, stat.S_IMODE(info.st_mode))
    return found


def build(run_cli, root: Path, site: Path, *flags: str) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("build", str(root), "-o", str(site), "--today", TODAY, *flags)
    assert result.code == 0, result.err


def test_new_file_owner_is_the_effective_user_and_the_umask(umask: None) -> None:
    os.umask(0o027)
    assert new_file_owner() == (os.geteuid(), 0o640)
    assert os.umask(0o022) == 0o027  # asking left the umask as it was


@pytest.mark.parametrize("flags", [("--no-cache",), ()], ids=["written", "site-cache"])
def test_unchanged_files_are_linked_only_while_the_umask_gives_their_mode(make_project, run_cli, tmp_path, umask, flags) -> None:  # type: ignore[no-untyped-def]
    root, site = make_project(LEADS), tmp_path / "site"
    build(run_cli, root, site, *flags)
    first = files(site)
    assert {mode for _, _, mode in first.values()} == {0o644}
    build(run_cli, root, site, *flags)
    assert files(site) == first  # same owner and mode: every file linked (or, cached, left) as it was
    os.umask(0o077)
    build(run_cli, root, site, *flags)
    private = files(site)
    assert private.keys() == first.keys()
    assert {mode for _, _, mode in private.values()} == {0o600}
    assert not {inode for inode, _, _ in private.values()} & {inode for inode, _, _ in first.values()}  # none linked
    build(run_cli, root, site, *flags)
    assert files(site) == private


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file away needs root")
@pytest.mark.parametrize("flags", [("--no-cache",), ()], ids=["written", "site-cache"])
def test_a_file_owned_by_another_user_is_written_not_linked(make_project, run_cli, tmp_path, umask, flags) -> None:  # type: ignore[no-untyped-def]
    root, site = make_project(LEADS), tmp_path / "site"
    build(run_cli, root, site, *flags)
    first = files(site)
    os.chown(site / "index.html", 12345, -1)
    os.chown(site / "leads/acme.html", 12345, -1)
    build(run_cli, root, site, *flags)
    rebuilt = files(site)
    assert {path for path, (inode, _, _) in rebuilt.items() if inode != first[path][0]} == {"index.html", "leads/acme.html"}
    assert {uid for _, uid, _ in rebuilt.values()} == {os.geteuid()}


def test_the_umask_is_read_without_setting_it(umask: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Setting the umask to read it back would change it for every thread for a moment; /proc tells it."""
    os.umask(0o077)
    monkeypatch.setattr(os, "umask", lambda mask: pytest.fail("the umask was set"))
    assert new_file_owner() == (os.geteuid(), 0o600)
