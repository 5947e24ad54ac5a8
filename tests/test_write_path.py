"""The build's own file writer (build._create, _Staging.stream): exact bytes, open()'s permissions, no overwriting through it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from funnel_site.build import _create, _Staging


@pytest.mark.parametrize("data", [b"", b"<p>x</p>\n", bytes(range(256)) * 1024], ids=["empty", "page", "256KiB"])
def test_create_writes_exactly_the_bytes_with_the_mode_open_gives(tmp_path: Path, data: bytes) -> None:
    mine, reference = tmp_path / "mine.html", tmp_path / "reference.html"
    _create(str(mine), data)
    reference.write_bytes(data)
    assert mine.read_bytes() == data
    assert os.stat(mine).st_mode == os.stat(reference).st_mode


def test_create_leaves_no_descriptor_open_when_writing_fails(tmp_path: Path) -> None:
    before = len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").is_dir() else None
    with pytest.raises(FileNotFoundError):
        _create(str(tmp_path / "missing-folder" / "page.html"), b"x")
    (tmp_path / "page.html").mkdir()
    with pytest.raises(IsADirectoryError):
        _create(str(tmp_path / "page.html"), b"x")
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) == before


@pytest.mark.parametrize(
    ("previous", "linked"),
    [(b"abc", True), (b"ab", False), (b"abcd", False), (b"abd", False), (None, False)],
    ids=["same", "shorter", "longer", "different", "none"],
)
def test_a_streamed_file_is_linked_only_when_the_previous_site_held_exactly_its_bytes(
    tmp_path: Path, previous: bytes | None, linked: bool,
) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    if previous is not None:
        (old / "data.json").write_bytes(previous)
    _Staging(new, old).stream("data.json", iter([b"ab", b"", b"c"]))
    assert (new / "data.json").read_bytes() == b"abc"
    assert os.listdir(new) == ["data.json"]  # the spare name of a link is gone
    if previous is not None:
        assert (os.stat(new / "data.json").st_ino == os.stat(old / "data.json").st_ino) is linked
        assert (old / "data.json").read_bytes() == previous
