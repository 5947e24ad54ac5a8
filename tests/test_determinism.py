"""Same input and --today => byte-identical output, whatever the file-system order, locale, time zone or hash seed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import BASE_CONFIG, TODAY, write_project

LEADS = {
    "leads/zeta-gmbh.md": "title: Zeta Relaunch\nowner: ben\nstage: lead\nvalue: 1200.50\ncurrency: USD\nexpected_close: 2027-01-31\n"
                          "next_step: Anruf\ntags: [web, shop]\nfarbe: blau\n",
    "leads/älter/öko.md": "title: Öko-Shop\nowner: anna\nstage: negotiation\nvalue: 45000\nexpected_close: 2026-12-15\n"
                         "next_step: Vertrag\ncontact: {name: Jörg Weiß, email: j@oeko.example}\ncreated: 2026-09-01\n",
    "leads/Acme Corp.md": "title: Acme\nowner: anna\nstage: offer\nvalue: 9999.99\nexpected_close: 2026-11-30\nfollow_up: 2026-11-01\n",
    "leads/b/won.md": "title: Gewonnen\nowner: ben\nstatus: won\nvalue: 30000\nclosed_on: 2026-10-02\ncreated: 2026-06-01\n",
    "leads/b/lost.md": "title: Verloren\nowner: anna\nstatus: lost\nclosed_on: 2026-08-20\nreason: Preis\n",
    "leads/idee.md": "title: Idee\nowner: ben\nstatus: potential\ncompany: Zukunft AG\n",
}


def files(order: list[str]) -> dict[str, str]:
    """The same leads, created in the given order (the file system lists them in creation order)."""
    return {path: f"---\n{LEADS[path]}---\n## Notizen\n\n- Gespräch am 1. Oktober, **wichtig**.\n" for path in order}


def build(root: Path, out: Path, **env: str) -> dict[str, bytes]:
    environment = {key: value for key, value in os.environ.items() if key not in ("LANG", "LC_ALL", "LANGUAGE", "TZ")}
    environment.update(env)
    command = [sys.executable, "-m", "funnel_site", "build", str(root), "-o", str(out), "--today", TODAY]
    subprocess.run(command, check=True, capture_output=True, env=environment)
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_builds_are_byte_identical_across_order_locale_time_zone_and_hash_seed(tmp_path: Path) -> None:
    forward = sorted(LEADS)
    one = write_project(tmp_path / "one", files(forward), config=BASE_CONFIG)
    two = write_project(tmp_path / "two", files(forward[::-1]), config=BASE_CONFIG)
    first = build(one, tmp_path / "site-1", LC_ALL="C", LANG="C", TZ="UTC", PYTHONHASHSEED="1")
    second = build(two, tmp_path / "site-2", LC_ALL="de_DE.UTF-8", LANG="de_DE.UTF-8", TZ="Pacific/Kiritimati",
                   PYTHONHASHSEED="4242")
    third = build(one, tmp_path / "site-3", LANG="tr_TR.UTF-8", TZ="America/Adak", PYTHONHASHSEED="random")
    assert len(first) > 5 and b"Zeta Relaunch" in first["data.json"]
    assert first == second == third


def test_rebuilding_in_place_gives_the_same_bytes(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", files(sorted(LEADS)))
    first = build(root, tmp_path / "site", TZ="Europe/Berlin")
    shutil.copytree(tmp_path / "site", tmp_path / "kept")
    second = build(root, tmp_path / "site", TZ="Asia/Kolkata")
    assert first == second
