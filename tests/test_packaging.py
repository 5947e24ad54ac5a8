"""What an installed funnel-site ships: every file of the built-in theme and of ``init``'s scaffold.

An editable install reads ``templates/`` from the checkout, so only the wheel's own listing shows a file left out;
this test applies setuptools' ``packages``/``package-dir``/``package-data`` rules from ``pyproject.toml`` to the
files on disk (a pattern per file kind once left ``leads-data.js`` out, and every table of more than 500 leads
needs it).
"""

from __future__ import annotations

import glob
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_ROOTS = {"funnel_site.templates": ROOT / "templates", "funnel_site.scaffold": ROOT / "funnel_site" / "scaffold"}


def _setuptools() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def _package_folder(package: str, package_dir: dict[str, str]) -> Path:
    """setuptools' lookup: the longest mapped prefix of the dotted name, the rest as folders below it."""
    parts = package.split(".")
    for cut in range(len(parts), 0, -1):
        prefix = ".".join(parts[:cut])
        if prefix in package_dir:
            return ROOT.joinpath(package_dir[prefix], *parts[cut:])
    return ROOT.joinpath(*parts)


def _files_on_disk() -> set[Path]:
    return {
        path
        for folder in DATA_ROOTS.values()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".py"
    }


def _shipped_files() -> set[Path]:
    config = _setuptools()
    shipped: set[Path] = set()
    for package in config["packages"]:
        folder = _package_folder(package, config.get("package-dir", {}))
        for pattern in config.get("package-data", {}).get(package, []):
            # glob.glob, as setuptools: '*' stops at '/' and skips dot-files
            shipped.update(Path(name) for name in glob.glob(str(folder / pattern)) if Path(name).is_file())
    return shipped


def test_every_theme_and_scaffold_file_is_in_the_package() -> None:
    on_disk = _files_on_disk()
    assert ROOT / "templates" / "leads-data.js" in on_disk
    assert sorted(str(path.relative_to(ROOT)) for path in on_disk - _shipped_files()) == []


def test_every_data_folder_is_a_listed_package() -> None:
    """An unlisted folder is shipped only by a pattern of its parent, and setuptools warns about it on each build."""
    config = _setuptools()
    listed = {_package_folder(package, config.get("package-dir", {})) for package in config["packages"]}
    folders = {
        path
        for root in DATA_ROOTS.values()
        for path in [root, *root.rglob("*")]
        if path.is_dir() and path.name != "__pycache__"
    }
    assert sorted(str(path.relative_to(ROOT)) for path in folders - listed) == []
