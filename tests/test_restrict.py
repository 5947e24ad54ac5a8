"""Restricted sites: `build --owner` and `build --split` show one owner's leads and nothing about anyone else."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Callable

import pytest

from conftest import TODAY, Run, write_project
from funnel_site.build import build
from funnel_site.load import load_project
from funnel_site.problems import UsageError
from funnel_site.restrict import Scope, restrict, scope_of

TEAM_CONFIG = """\
title: Restricted Pipeline
currency: EUR
locale: de_DE
stages:
  - {id: lead, name: Lead, probability: 10}
  - {id: offer, name: Offer, probability: 50}
team:
  - {id: ulrike-mgr, name: Ulrike Quandtmann, email: ulrike.q@example.com, role: manager}
  - {id: ben-rep, name: Benedikt Oswaldi, email: benedikt.o@example.com, role: member}
  - {id: cora-rep, name: Coralie Zebrowski, email: coralie.z@example.com}
  - {id: dario-rep, name: Dariusz Xylander, email: dariusz.x@example.com, role: member}
exchange_rates: {USD: 0.9}
targets:
  2026-Q4: 987654.32
"""


@dataclass(frozen=True)
class Owner:
    """One team member and everything distinctive about their leads."""

    id: str
    name: str
    email: str
    word: str  # in every title, company, file name, contact and note of their leads
    active_value: str
    won_value: str

    def files(self) -> dict[str, str]:
        w, folder = self.word, f"leads/{self.word.lower()}-region"
        return {
            f"{folder}/{w.lower()}-portal-relaunch.md": f"""\
                ---
                title: {w} Portal Relaunch
                owner: {self.id}
                status: active
                stage: offer
                value: {self.active_value}
                company: {w} Werke GmbH
                created: 2026-09-01
                last_contact: 2026-11-10
                expected_close: 2026-12-15
                follow_up: 2026-11-01
                next_step: Call {w} purchasing
                tags: [{w.lower()}-tag]
                contact:
                  - {{name: {w} Kontaktperson, email: kontakt@{w.lower()}.example}}
                {w.lower()}_custom: {w} custom value
                ---
                Notes about {w} budget.
                """,
            f"{folder}/{w.lower()}-shop-won.md": f"""\
                ---
                title: {w} Shop Rollout
                owner: {self.id}
                status: won
                value: {self.won_value}
                currency: USD
                company: {w} Handel AG
                created: 2026-03-01
                closed_on: 2026-10-20
                ---
                """,
        }

    def secrets(self) -> list[str]:
        """Strings that must not appear anywhere in another owner's restricted site."""
        w = self.word
        values = [self.active_value, self.won_value, str(_usd_in_eur(self.won_value))]
        return [self.id, self.name, self.email, w, w.lower(), f"{w.lower()}-portal-relaunch", f"{w.lower()}-shop-won",
                f"{w.lower()}-region"] + [form for value in values for form in money_forms(value)]


def _usd_in_eur(value: str) -> str:
    return str((Decimal(value) * Decimal("0.9")).quantize(Decimal("0.01"), ROUND_HALF_UP))


def money_forms(value: str) -> list[str]:
    """123457.89 as data, en and de text: 123457.89, 123,457.89, 123.457,89, 123457,89 and 123 457,89."""
    whole, cents = value.split(".")
    grouped = f"{int(whole):,}"
    return [value, f"{grouped}.{cents}", f"{grouped.replace(',', '.')},{cents}", f"{whole},{cents}",
            f"{grouped.replace(',', ' ')},{cents}", f"{grouped.replace(',', chr(0xA0))},{cents}",
            f"{grouped.replace(',', chr(0x202F))},{cents}"]


TEAM = (
    Owner("ulrike-mgr", "Ulrike Quandtmann", "ulrike.q@example.com", "Quarzfeld", "456780.57", "401234.17"),
    Owner("ben-rep", "Benedikt Oswaldi", "benedikt.o@example.com", "Nordlicht", "123457.89", "111222.33"),
    Owner("cora-rep", "Coralie Zebrowski", "coralie.z@example.com", "Sternwarte", "234568.91", "222333.47"),
    Owner("dario-rep", "Dariusz Xylander", "dariusz.x@example.com", "Vulkanit", "345679.13", "333444.59"),
)
MEMBERS = [o for o in TEAM if o.id != "ulrike-mgr"]
TODAY_DATE = date.fromisoformat(TODAY)


@pytest.fixture
def team_pipeline(tmp_path: Path) -> Path:
    files = {path: text for owner in TEAM for path, text in owner.files().items()}
    files["leads/notes-for-quarzfeld.txt"] = "not a lead\n"  # a load warning naming a file
    return write_project(tmp_path / "pipeline", files, TEAM_CONFIG)


def site_text(folder: Path) -> dict[str, str]:
    """Every file below ``folder``, decoded leniently, with ICS line folding undone and lower-cased."""
    texts = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        raw = path.read_bytes().replace(b"\r\n ", b"").replace(b"\n ", b"").replace(b"\r\n\t", b"")
        texts[path.relative_to(folder).as_posix()] = raw.decode("utf-8", errors="replace").lower()
    return texts


def assert_only(folder: Path, owner: Owner) -> None:
    """No other owner's secret anywhere below ``folder``; the owner's own leads are there."""
    texts = site_text(folder)
    assert "data.json" in texts and "index.html" in texts
    leaks = [
        f"{name}: {secret!r} of {other.id}"
        for other in TEAM if other is not owner
        for secret in other.secrets()
        for name, text in texts.items() if secret.lower() in text
    ]
    assert leaks == []
    everything = "\n".join(texts.values())
    for own in (f"{owner.word} Portal Relaunch", f"{owner.word} Werke GmbH", owner.name, owner.active_value):
        assert own.lower() in everything


@pytest.mark.parametrize("owner", TEAM, ids=lambda o: o.id)
def test_owner_site_shows_nothing_of_other_owners(team_pipeline: Path, tmp_path: Path, run_cli: Callable[..., Run], owner: Owner) -> None:
    out = tmp_path / "site"
    result = run_cli("build", str(team_pipeline), "-o", str(out), "--today", TODAY, "--owner", owner.id)
    path = f"leads/{owner.word.lower()}-region/{owner.word.lower()}-portal-relaunch.md"
    assert (result.code, result.err) == (0, f"{path}:11: warning: follow_up: follow-up was due 21 days ago (2026-11-01)\n")
    assert result.out == f"built 2 leads of {owner.id} into {out} (0 errors, 1 warning)\n"
    assert_only(out, owner)
    data = json.loads((out / "data.json").read_text())
    assert [lead["owner"] for lead in data["leads"]] == [owner.id, owner.id]
    assert data["totals"]["counts"]["total"] == 2
    assert [o["id"] for o in data["owners"]] == [owner.id]
    assert data["targets"] == []


def test_split_builds_full_site_and_one_site_per_member(team_pipeline: Path, tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    full, split = tmp_path / "full", tmp_path / "split"
    assert run_cli("build", str(team_pipeline), "-o", str(full), "--today", TODAY).code == 0
    result = run_cli("build", str(team_pipeline), "-o", str(split), "--today", TODAY, "--split")
    assert result.code == 0
    assert result.out.splitlines() == [
        f"built 8 leads into {split} (0 errors, 5 warnings)",
        f"restricted sites for ben-rep, cora-rep, dario-rep in {split / 'owners'}",
    ]
    assert sorted(p.name for p in (split / "owners").iterdir() if p.is_dir()) == ["ben-rep", "cora-rep", "dario-rep"]
    for member in MEMBERS:
        assert_only(split / "owners" / member.id, member)
    restricted = tuple(f"owners/{m.id}/" for m in MEMBERS)
    outside = {name: text for name, text in site_text(split).items() if not name.startswith(restricted)}
    assert outside == site_text(full)  # the manager's site is exactly the ordinary full site
    everything = "\n".join(outside.values())
    assert all(o.word.lower() in everything for o in TEAM)


def test_split_site_equals_each_owner_site(team_pipeline: Path, tmp_path: Path) -> None:
    build(team_pipeline, tmp_path / "split", TODAY_DATE, split=True)
    for member in MEMBERS:
        build(team_pipeline, tmp_path / member.id, TODAY_DATE, owner=member.id)
        single = {k: v for k, v in site_text(tmp_path / member.id).items() if k != ".funnel-site"}
        assert site_text(tmp_path / "split" / "owners" / member.id) == single


def test_restricted_project_equals_a_pipeline_of_only_that_owner(team_pipeline: Path, tmp_path: Path) -> None:
    """Nothing else can leak: the restricted project is the one a pipeline of only Ben's files would give."""
    ben = TEAM[1]
    alone_config = TEAM_CONFIG.split("team:")[0] + (
        "team:\n  - {id: ben-rep, name: Benedikt Oswaldi, email: benedikt.o@example.com, role: member}\n"
        "exchange_rates: {USD: 0.9}\n"
    )
    alone = write_project(tmp_path / "alone", ben.files(), alone_config)
    restricted = restrict(load_project(team_pipeline), "ben-rep")
    assert replace(restricted, root=str(alone)) == load_project(alone)


def test_problems_of_other_files_are_dropped(team_pipeline: Path) -> None:
    project = load_project(team_pipeline)
    assert [str(p) for p in project.problems] == [
        "leads/notes-for-quarzfeld.txt:1: warning: file: not a lead file (only *.md files are read)"
    ]
    assert restrict(project, "ulrike-mgr").problems == ()


def test_owner_build_prints_only_own_warnings(make_project: Callable[..., Path], tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    stale = ("---\ntitle: {t}\nowner: {o}\nstatus: active\nstage: lead\nvalue: 1000\nexpected_close: 2027-01-31\n"
             "next_step: Call\ncreated: 2026-01-05\n---\n")
    root = make_project({"leads/anna-old.md": stale.format(t="Anna Old", o="anna"),
                         "leads/ben-old.md": stale.format(t="Ben Old", o="ben")})
    result = run_cli("build", str(root), "-o", str(tmp_path / "site"), "--today", TODAY, "--owner", "ben")
    assert result.code == 0
    assert result.err == "leads/ben-old.md:9: warning: created: stale: no activity for 321 days (last on 2026-01-05)\n"


def test_scope_names_the_owner_and_what_is_left_out(team_pipeline: Path) -> None:
    scope = scope_of(load_project(team_pipeline), "cora-rep")
    assert isinstance(scope, Scope)
    assert scope.notice == (
        "Only leads of Coralie Zebrowski; team-wide figures are computed over these leads only "
        "and team targets are left out."
    )
    assert scope.to_data() == {
        "owner": "cora-rep", "owner_name": "Coralie Zebrowski", "left_out": ["targets"], "notice": scope.notice,
    }


def test_member_without_leads_gets_an_empty_site(make_project: Callable[..., Path], tmp_path: Path) -> None:
    root = make_project({"leads/a.md": "---\ntitle: Anna Only Deal\nowner: anna\nstatus: potential\n---\n"})
    checked = build(root, tmp_path / "site", TODAY_DATE, split=True)
    assert checked.leads == 1
    data = json.loads((tmp_path / "site/owners/ben/data.json").read_text())
    assert (data["leads"], data["totals"]["counts"]["total"]) == ([], 0)
    assert "anna only deal" not in "\n".join(site_text(tmp_path / "site/owners/ben").values())


def test_unknown_owner_is_a_usage_error(make_project: Callable[..., Path], tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    root = make_project({"leads/broken.md": "---\ntitle: Broken\n---\n"})  # invalid lead: still exit 2 first
    result = run_cli("build", str(root), "-o", str(tmp_path / "site"), "--today", TODAY, "--owner", "x")
    assert (result.code, result.out, result.err) == (2, "", "funnel-site: error: unknown owner 'x' (known: anna, ben)\n")
    assert not (tmp_path / "site").exists()


def test_owner_and_split_together_are_a_usage_error(make_project: Callable[..., Path], tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    root = make_project({})
    result = run_cli("build", str(root), "-o", str(tmp_path / "site"), "--today", TODAY, "--owner", "ben", "--split")
    assert result.code == 2
    assert result.err.endswith("funnel-site build: error: argument --split: not allowed with argument --owner\n")
    with pytest.raises(UsageError, match="^--owner and --split cannot be used together$"):
        build(root, tmp_path / "site", TODAY_DATE, owner="ben", split=True)
    assert not (tmp_path / "site").exists()


def test_invalid_leads_fail_a_restricted_build_and_keep_the_old_site(make_project: Callable[..., Path], tmp_path: Path, run_cli: Callable[..., Run]) -> None:
    root = make_project({"leads/a.md": "---\ntitle: A\nowner: anna\nstatus: potential\n---\n"})
    out = tmp_path / "site"
    assert run_cli("build", str(root), "-o", str(out), "--today", TODAY, "--split").code == 0
    before = site_text(out)
    (root / "leads/b.md").write_text("---\ntitle: B\nowner: nobody\nstatus: potential\n---\n")
    result = run_cli("build", str(root), "-o", str(out), "--today", TODAY, "--split")
    assert result.code == 1
    assert result.err.splitlines()[0] == "leads/b.md:3: owner: unknown team member 'nobody' (known: anna, ben)"
    assert site_text(out) == before


def test_restricted_pages_say_whose_leads_they_show(tmp_path, run_cli):
    from conftest import lead, write_project

    root = write_project(tmp_path / "p", {
        "leads/a.md": lead(title="Anna's", owner="anna", stage="offer", value=1, expected_close="2026-12-01", next_step="x"),
        "leads/b.md": lead(title="Ben's", owner="ben", stage="offer", value=2, expected_close="2026-12-01", next_step="x"),
    })
    assert run_cli("build", str(root), "-o", str(tmp_path / "out"), "--split", "--today", "2026-11-22").code == 0
    notice = "Only leads of Ben Ott; team-wide figures are computed over these leads only and team targets are left out."
    for page in ("index.html", "board.html", "leads/b.html"):
        assert notice in (tmp_path / "out" / "owners" / "ben" / page).read_text()
        assert "Only leads of" not in (tmp_path / "out" / page).read_text()
    data = json.loads((tmp_path / "out" / "owners" / "ben" / "data.json").read_text())
    assert data["scope"] == {"owner": "ben", "owner_name": "Ben Ott", "left_out": ["targets"], "notice": notice}
    assert json.loads((tmp_path / "out" / "data.json").read_text())["scope"] is None
    schema = json.loads((tmp_path / "out" / "owners" / "ben" / "lead.schema.json").read_text())
    assert schema["properties"]["owner"]["enum"] == ["ben"]
