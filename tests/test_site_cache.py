"""The site cache: a cached build writes exactly what a cold --no-cache build writes, whatever changed,
and renders only what changed."""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import TODAY, lead
from funnel_site import build as build_module
from funnel_site.render import SitePlan

LEADS = {
    "leads/acme.md": lead(title="Acme", owner="anna", stage="offer", value=1000, expected_close="2026-12-01", company="Acme AG", next_step="Call"),
    "leads/acme-2.md": lead(title="Acme two", owner="ben", stage="lead", value=700, expected_close="2027-01-15", company="Acme AG", next_step="Mail"),
    "leads/beta.md": lead(title="Beta", owner="ben", stage="negotiation", value=5000, expected_close="2026-12-20", company="Beta GmbH", next_step="Visit"),
    "leads/sub/gamma.md": lead(title="Gamma", owner="anna", status="won", value=300, closed_on="2026-10-01", company="Gamma KG"),
    "leads/idea.md": lead(title="Idea", owner="ben", status="potential"),
}
SITE_WIDE = ["index.html", "board.html", "leads.html", "ideas.html", "closed.html", "companies.html"]


def snapshot(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def stamps(site: Path) -> dict[str, tuple[int, int, int]]:
    found = {}
    for path in [site, *sorted(site.rglob("*"))]:
        info = path.stat()
        found[path.relative_to(site).as_posix()] = (info.st_ino, info.st_mtime_ns, info.st_ctime_ns)
    return found


@dataclass
class Built:
    printed: str
    files: dict[str, bytes]
    rendered: list[str]  # the pages the cached build rendered, in order


class Builds:
    """A cached build into ``site`` checked against a cold ``--no-cache`` build into a fresh folder each time."""

    def __init__(self, root: Path, run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
        self.root, self.run_cli, self.tmp_path = root, run_cli, tmp_path
        self.site = tmp_path / "site"
        self.count = 0
        self.rendered: list[str] = []
        original = SitePlan.render

        def counting(plan: SitePlan, index: int) -> tuple[str, bytes]:  # the test sites render in this process
            self.rendered.append(plan.pages[index][0])
            return original(plan, index)

        monkeypatch.setattr(SitePlan, "render", counting)

    def cached(self, *flags: str) -> tuple[int, str, str]:
        self.rendered.clear()
        result = self.run_cli("build", str(self.root), "-o", str(self.site), "--today", TODAY, *flags)
        return result.code, result.out, result.err

    def __call__(self, *flags: str) -> Built:
        code, out, err = self.cached(*flags)
        rendered = list(self.rendered)
        self.count += 1
        cold_out = self.tmp_path / f"cold-{self.count}"
        cold = self.run_cli("build", str(self.root), "-o", str(cold_out), "--today", TODAY, "--no-cache", *flags)
        assert code == cold.code == 0, err + cold.err
        assert err == cold.err
        assert out == cold.out.replace(str(cold_out), str(self.site))
        files = snapshot(self.site)
        assert files == snapshot(cold_out)
        return Built(out, files, rendered)


@pytest.fixture
def builds(make_project, run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Builds:
    monkeypatch.delenv("FUNNEL_SITE_CACHE_DIR", raising=False)
    return Builds(make_project(LEADS), run_cli, tmp_path, monkeypatch)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_every_kind_of_change_builds_what_a_cold_build_builds(builds: Builds) -> None:
    root = builds.root
    first = builds()
    assert len(first.rendered) == len([p for p in first.files if p.endswith(".html")])
    assert builds().files == first.files
    edit(root / "leads/beta.md", "5000", "6000")
    assert builds().files != first.files
    (root / "leads/idea.md").unlink()
    assert "leads/idea.html" not in builds().files
    (root / "leads/new.md").write_text(lead(title="New", owner="anna", status="potential", company="Acme AG"), encoding="utf-8")
    assert "leads/new.html" in builds().files
    edit(root / "config.yaml", "Testpipeline", "Other title")
    assert b"Other title" in builds().files["leads/beta.html"]
    (root / "templates/assets").mkdir(parents=True)
    (root / "templates/assets/style.css").write_text("body { color: red }\n", encoding="utf-8")
    assert builds().files["assets/style.css"] == b"body { color: red }\n"
    (root / "templates/lead.html").write_text('{% extends "builtin/lead.html" %}\n{% block title %}Own {{ lead.title }}{% endblock %}\n', encoding="utf-8")
    assert b"<title>Own Beta</title>" in builds().files["leads/beta.html"]
    edit(root / "templates/lead.html", "Own", "Mine")
    assert b"<title>Mine Beta</title>" in builds().files["leads/beta.html"]
    (root / "templates/lead.html").unlink()
    builds()
    assert b"As of December 24, 2026" in builds("--today", "2026-12-24").files["leads/beta.html"]
    assert "leads/acme.html" not in builds("--owner", "ben").files
    assert "owners/ben/index.html" in builds("--split").files
    builds()


def test_a_changed_theme_template_is_an_input(builds: Builds, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The built-in theme is not Python source: its bytes take part in the fingerprint themselves."""
    from funnel_site import site_cache

    theme = tmp_path / "theme"
    real = site_cache.builtin_templates()
    theme.mkdir()
    for name in os.listdir(real):
        (theme / name).symlink_to(real / name)
    monkeypatch.setattr(site_cache, "builtin_templates", lambda: theme)
    builds()
    (theme / "extra.html").write_text("new theme file\n", encoding="utf-8")
    builds.cached()
    assert len(builds.rendered) > len(SITE_WIDE)


def test_nothing_changed_parses_renders_and_writes_nothing_and_prints_the_same(builds: Builds, monkeypatch: pytest.MonkeyPatch) -> None:
    edit(builds.root / "leads/beta.md", "next_step: Visit", "sourc: typo")
    builds()
    code, out, err = builds.cached()
    before = stamps(builds.site)

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("a build with nothing changed neither parses nor writes")

    monkeypatch.setattr(build_module, "parse_sources", fail)
    monkeypatch.setattr(build_module, "write_site", fail)
    assert builds.cached() == (code, out, err)
    assert code == 0 and "leads/beta.md:" in err and "sourc" in err
    assert out == f"built 5 leads into {builds.site} (0 errors, 2 warnings)\n"
    assert stamps(builds.site) == before


def test_one_changed_lead_renders_only_its_own_pages_and_the_site_wide_ones(builds: Builds) -> None:
    builds()
    edit(builds.root / "leads/beta.md", "5000", "6000")
    again = builds()
    company = [p for p in again.files if p.startswith("companies/") and b"Beta GmbH" in again.files[p]]
    assert sorted(again.rendered) == sorted([*SITE_WIDE, "leads/beta.html", *company, "owners/ben.html"])
    assert len(company) == 1


def test_a_tampered_deleted_or_added_output_file_is_put_right(builds: Builds) -> None:
    builds()
    page = builds.site / "leads/beta.html"
    info = page.stat()
    data = page.read_bytes()
    page.write_bytes(data.replace(b"Beta", b"Bxta"))
    os.utime(page, ns=(info.st_atime_ns, info.st_mtime_ns))  # same size, same mtime: only ctime tells
    assert "leads/beta.html" in builds().rendered
    (builds.site / "leads/acme.html").unlink()
    assert builds().rendered == [*SITE_WIDE, "leads/acme.html"]
    (builds.site / "leads/stray.html").write_text("not ours", encoding="utf-8")
    (builds.site / "empty").mkdir()
    assert builds().rendered == SITE_WIDE
    assert not (builds.site / "empty").exists()


def test_a_damaged_or_foreign_manifest_is_a_miss(builds: Builds) -> None:
    from funnel_site.cache import CACHE_DIR_NAME

    everything = len(builds().rendered)
    manifests = list((builds.root / CACHE_DIR_NAME).glob("site-*.pickle"))
    assert len(manifests) == 1 and builds().rendered == []
    header = manifests[0].read_bytes().split(b"\n", 2)
    ours = b"\n".join(header[:2]) + b"\n"
    for damage in (b"", b"garbage", ours + b"\x80\x05garbage", ours + pickle.dumps({"a": 1}), ours + header[2][:-5]):
        manifests[0].write_bytes(damage)
        assert len(builds().rendered) == everything
        assert builds().rendered == []


def test_no_cache_writes_no_manifest_and_another_output_is_a_full_build(builds: Builds, run_cli) -> None:
    from funnel_site.cache import CACHE_DIR_NAME

    builds()
    cache = builds.root / CACHE_DIR_NAME
    manifests = sorted(cache.glob("site-*.pickle"))
    builds.rendered.clear()
    other = builds.tmp_path / "other"
    assert run_cli("build", str(builds.root), "-o", str(other), "--today", TODAY).code == 0
    assert len(builds.rendered) == len([p for p in snapshot(other) if p.endswith(".html")])
    assert len(sorted(cache.glob("site-*.pickle"))) == len(manifests) + 1
    assert snapshot(other) == snapshot(builds.site)


def test_a_build_with_nothing_changed_still_removes_what_a_killed_build_left(builds: Builds) -> None:
    builds()
    leftover = builds.site.parent / ".site.tmp-k1ll3d"
    (leftover / "leads").mkdir(parents=True)
    code, _, _ = builds.cached()
    assert code == 0 and builds.rendered == [] and not leftover.exists()


def test_a_restored_copy_of_the_output_is_compared_by_content(builds: Builds, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CI cache restores files with new inodes and ctimes: their content decides."""
    import shutil

    from funnel_site import site_cache

    def restore() -> None:
        shutil.copytree(builds.site, builds.tmp_path / "copy", copy_function=shutil.copy2)
        shutil.rmtree(builds.site)
        (builds.tmp_path / "copy").rename(builds.site)

    builds()
    restore()
    assert builds().rendered == []  # compared by content, then its stamps recorded
    hashed: list[str] = []
    original = site_cache._content
    monkeypatch.setattr(site_cache, "_content", lambda path: hashed.append(path) or original(path))
    assert builds().rendered == [] and hashed == []
    restore()
    edit(builds.root / "leads/beta.md", "5000", "6000")
    assert len(builds().rendered) == len(SITE_WIDE) + 3
    restore()
    page = builds.site / "leads/acme.html"
    page.write_bytes(page.read_bytes().replace(b"Acme", b"Axme"))
    edit(builds.root / "leads/beta.md", "6000", "7000")
    assert "leads/acme.html" in builds().rendered


def test_a_symlinked_folder_in_the_pipelines_templates_is_an_input(builds: Builds, tmp_path: Path) -> None:
    """Jinja and the asset copy follow a symlinked folder; the fingerprint follows it too (and survives a loop)."""
    brand = tmp_path / "brand"
    brand.mkdir()
    (brand / "style.css").write_text("body { color: red }\n", encoding="utf-8")
    (brand / "loop").symlink_to(brand)
    (builds.root / "templates").mkdir()
    (builds.root / "templates/assets").symlink_to(brand)
    assert builds().files["assets/style.css"] == b"body { color: red }\n"
    (brand / "style.css").write_text("body { color: blue }\n", encoding="utf-8")
    assert builds().files["assets/style.css"] == b"body { color: blue }\n"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_build_records_what_it_wrote_without_reading_it_back(builds: Builds, monkeypatch: pytest.MonkeyPatch, jobs: str) -> None:
    """The sha256 of each file comes from the bytes written (by the render workers too), not from reading the site."""
    import hashlib

    from funnel_site import site_cache
    from funnel_site.cache import CACHE_DIR_NAME

    hashed: list[str] = []
    original = site_cache._content
    monkeypatch.setattr(site_cache, "_content", lambda path: hashed.append(path) or original(path))
    builds("--jobs", jobs)
    assert hashed == []
    [manifest_file] = (builds.root / CACHE_DIR_NAME).glob("site-*.pickle")
    manifest = pickle.loads(manifest_file.read_bytes().split(b"\n", 2)[2])
    assert manifest.contents == {path: hashlib.sha256(data).digest() for path, data in snapshot(builds.site).items()}


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_build_records_the_stamps_of_what_it_left_without_scanning_it(builds: Builds, monkeypatch: pytest.MonkeyPatch, jobs: str) -> None:
    """Every file and folder's stamp is taken as it is written or linked (by the render workers and the data-file
    process too): the record equals a scan of the output afterwards, and the output is scanned only to be checked."""
    from funnel_site import site_cache
    from funnel_site.cache import CACHE_DIR_NAME

    scans: list[Path] = []
    original = site_cache.scan_output
    monkeypatch.setattr(site_cache, "scan_output", lambda out: scans.append(out) or original(out))

    def recorded() -> dict[str, tuple[int, int, int, int]]:
        [manifest_file] = (builds.root / CACHE_DIR_NAME).glob("site-*.pickle")
        return pickle.loads(manifest_file.read_bytes().split(b"\n", 2)[2]).files

    builds("--jobs", jobs)  # the first: written whole
    assert scans == []
    assert recorded() == original(builds.site)
    edit(builds.root / "leads/beta.md", "5000", "6000")
    builds("--jobs", jobs)  # pages and data files linked from the last site (new ctimes), others written
    assert scans == [builds.site]  # when the cache was opened, to check what the last build left
    assert recorded() == original(builds.site)
    assert {"owners", "companies", "leads/sub", "assets"} <= {path for path, stamp in recorded().items() if stamp == (0, 0, 0, 0)}


def test_what_each_task_records_comes_back_once_however_many_pages_came_before(builds: Builds, monkeypatch: pytest.MonkeyPatch) -> None:
    """The build's process renders too: its pages go into the record as they are written, not taken out and put back
    after each task (which copied the whole record again every time: quadratic in the pages, 4 s of cpu at 100k)."""
    from funnel_site import workers

    monkeypatch.setattr(workers, "PAGES_PER_TASK", 2)
    sizes: list[int] = []
    absorb = build_module._Staging.absorb
    monkeypatch.setattr(build_module._Staging, "absorb", lambda writer, recorded: sizes.append(len(recorded[0])) or absorb(writer, recorded))
    files = builds("--jobs", "2").files
    assert sizes and sum(sizes) <= len(files)  # each file's digest at most once (a worker's first task: its marker too)
