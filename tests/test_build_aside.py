"""With many leads, a forked process writes the data files while this one plans the pages (workers.Aside)."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import date
from pathlib import Path

import pytest

from conftest import TODAY, lead
from funnel_site import build as build_module
from funnel_site import render as render_module
from funnel_site import site_cache as site_cache_module

LEADS = {f"leads/l{n}.md": lead(title=f"Acme {n}", owner="anna", stage="offer", value=100 + n, expected_close="2026-12-01",
                                follow_up="2026-11-30") for n in range(6)}
MADE = "data-files-made"


def site(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_data_files_are_made_by_another_process_while_the_pages_are_planned(
    make_project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # type: ignore[no-untyped-def]
    root = make_project(LEADS)
    today = date.fromisoformat(TODAY)
    build_module.build(root, tmp_path / "serial", today, jobs=1)
    made, plan_site = render_module.site_data_files, render_module.plan_site

    def making(*args, **kwargs):  # type: ignore[no-untyped-def]
        (tmp_path / MADE).write_text(str(os.getpid()))
        return made(*args, **kwargs)

    def planning(*args, **kwargs):  # type: ignore[no-untyped-def]
        waited = time.monotonic() + 10
        while not (tmp_path / MADE).exists() and time.monotonic() < waited:  # only another process can make them now
            time.sleep(0.01)
        return plan_site(*args, **kwargs)

    monkeypatch.setattr(render_module, "site_data_files", making)
    monkeypatch.setattr(render_module, "plan_site", planning)
    build_module.build(root, tmp_path / "aside", today, jobs=2)
    assert int((tmp_path / MADE).read_text()) != os.getpid()
    assert site(tmp_path / "aside") == site(tmp_path / "serial")


def test_their_digests_come_back_for_the_site_cache(make_project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    root = make_project(LEADS)
    content = site_cache_module._content
    monkeypatch.setattr(site_cache_module, "_content", lambda path: pytest.fail(f"{path} was read back") if "data.json" in path else content(path))
    build_module.build(root, tmp_path / "site", date.fromisoformat(TODAY), cache_dir=tmp_path / "cache", jobs=2)
    manifest = site_cache_module.SiteCache(tmp_path / "cache", (tmp_path / "site").resolve(), b"", {}, b"").previous
    assert manifest is not None
    assert manifest.contents["data.json"] == hashlib.sha256((tmp_path / "site" / "data.json").read_bytes()).digest()
    assert manifest.contents["leads.csv"] == hashlib.sha256((tmp_path / "site" / "leads.csv").read_bytes()).digest()


def test_an_error_making_them_fails_the_build_and_leaves_the_site_as_it_was(
    make_project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # type: ignore[no-untyped-def]
    root = make_project(LEADS)
    out = tmp_path / "site"
    build_module.build(root, out, date.fromisoformat(TODAY), jobs=1)
    before = site(out)

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(render_module, "site_data_files", failing)
    with pytest.raises(OSError, match="No space left on device"):
        build_module.build(root, out, date(2026, 11, 23), jobs=2)
    assert site(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipeline", "site"]  # no staging folder left behind


class _TwoArguments(Exception):
    def __init__(self, what: str, where: str) -> None:  # pickle rebuilds it from args alone: it cannot come back as it was
        super().__init__(f"{what} in {where}")


@pytest.mark.parametrize(("error", "raised", "text"), [
    (ValueError("bad amount"), ValueError, "bad amount"),
    (_TwoArguments("bad amount", "data.json"), RuntimeError, "_TwoArguments: bad amount in data.json"),
])
def test_an_error_making_them_comes_back_with_its_own_traceback(
    make_project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception, raised: type, text: str,
) -> None:  # type: ignore[no-untyped-def]
    def failing_here(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise error

    monkeypatch.setattr(render_module, "site_data_files", failing_here)
    with pytest.raises(raised) as caught:
        build_module.build(make_project(LEADS), tmp_path / "site", date.fromisoformat(TODAY), jobs=2)
    assert str(caught.value) == text
    assert "in failing_here" in str(caught.value.__cause__)  # the other process's traceback, as the cause
