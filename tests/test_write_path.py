"""The build's own file writer (build._create): exact bytes, open()'s permissions, no overwriting through it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from funnel_site.build import _create


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
