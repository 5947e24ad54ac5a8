"""The persistent lead cache and the parallel parse: same projects, same problems, never stale."""

from __future__ import annotations

import gc
import multiprocessing
import pickle
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from conftest import TODAY, lead
from funnel_site import build as build_module
from funnel_site import cache as cache_module
from funnel_site import load as load_module
from funnel_site import parallel as parallel_module
from funnel_site.cache import CACHE_DIR_NAME, PACK_NAME, LeadCache, collector_paused
from funnel_site.load import load_config, load_project
from funnel_site.parallel import _claimed

GOOD = lead(title="Acme", owner="anna", stage="offer", value=1000, expected_close="2026-12-01", next_step="Call")
WARNED = lead(title="Beta", owner="ben", stage="lead", value=500, expected_close="2026-12-01", sourc="x")
BAD = lead(title="Gamma", owner="nobody", stage="negotation", value=-5, expected_close="2026-12-01")
BROKEN_YAML = "---\ntitle: Delta\nowner: anna\nowner: ben\n---\n"


def files(count: int = 3) -> dict[str, str]:
    """Valid, warned and invalid leads (several problems each), spread over sub-folders."""
    found: dict[str, str] = {}
    for number in range(count):
        found[f"leads/a{number:03d}.md"] = GOOD.replace("Acme", f"Acme {number}")
        found[f"leads/sub/b{number:03d}.md"] = WARNED
        found[f"leads/c{number:03d}.md"] = BAD
        found[f"leads/z/d{number:03d}.md"] = BROKEN_YAML
    return found


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths actually parsed (not taken from the cache) during a load."""
    seen: list[str] = []
    original = load_module.parse_lead_bytes

    def counting(path: str, raw: bytes, config):  # type: ignore[no-untyped-def]
        seen.append(path)
        return original(path, raw, config)

    monkeypatch.setattr(load_module, "parse_lead_bytes", counting)
    return seen


def test_cached_load_equals_uncached_and_parses_nothing(make_project, parses: list[str], tmp_path: Path) -> None:
    root = make_project(files())
    uncached = load_project(root)
    assert len(parses) == 12 and len(uncached.leads) == 6
    assert any(p.is_error for p in uncached.problems) and any(not p.is_error for p in uncached.problems)
    first = load_project(root, cache_dir=tmp_path / "cache")
    parses.clear()
    second = load_project(root, cache_dir=tmp_path / "cache")
    assert parses == []
    assert first == second == uncached
    assert [str(p) for p in second.problems] == [str(p) for p in uncached.problems]


def test_changed_file_is_parsed_again(make_project, parses: list[str], tmp_path: Path) -> None:
    root = make_project(files(1))
    load_project(root, cache_dir=tmp_path / "cache")
    (root / "leads" / "a000.md").write_text(GOOD.replace("value: 1000", "value: 2500"))
    (root / "leads" / "c000.md").write_text(GOOD)  # the invalid lead is fixed
    parses.clear()
    project = load_project(root, cache_dir=tmp_path / "cache")
    assert sorted(parses) == ["leads/a000.md", "leads/c000.md"]
    assert project == load_project(root)
    assert {lead.id: str(lead.value) for lead in project.leads}["a000"] == "2500"
    assert not any(p.path == "leads/c000.md" for p in project.problems)


def test_config_change_revalidates_every_lead(make_project, parses: list[str], tmp_path: Path) -> None:
    root = make_project(files(1))
    load_project(root, cache_dir=tmp_path / "cache")
    config = (root / "config.yaml").read_text().replace("{id: ben, name: Ben Ott, email: ben@example.com}", "{id: bea, name: Bea Ott}")
    (root / "config.yaml").write_text(config)
    parses.clear()
    project = load_project(root, cache_dir=tmp_path / "cache")
    assert len(parses) == 4
    assert "leads/sub/b000.md:3: owner: unknown team member 'ben' (known: anna, bea)" in [str(p) for p in project.problems]


def test_removed_files_leave_the_cache(make_project, tmp_path: Path) -> None:
    root = make_project(files(2))
    load_project(root, cache_dir=tmp_path / "cache")
    (root / "leads" / "a001.md").unlink()
    load_project(root, cache_dir=tmp_path / "cache")
    assert len(LeadCache(tmp_path / "cache", load_config(root.resolve())).stored) == 7


def test_corrupt_pack_is_ignored(make_project, parses: list[str], tmp_path: Path) -> None:
    root = make_project(files(1))
    load_project(root, cache_dir=tmp_path / "cache")
    pack = tmp_path / "cache" / PACK_NAME
    pack.write_bytes(pack.read_bytes()[:-40])  # truncated by a full disk, say
    parses.clear()
    assert load_project(root, cache_dir=tmp_path / "cache") == load_project(root)
    assert len(parses) == 4 + 4
    parses.clear()
    load_project(root, cache_dir=tmp_path / "cache")
    assert parses == []  # and it was rewritten whole


def test_a_corrupt_chunk_is_ignored_alone(make_project, parses: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("funnel_site.parallel.CHUNK", 3)
    root = make_project(files(2))  # 8 files: chunks of 3, 3 and 2
    load_project(root, cache_dir=tmp_path / "cache")
    cache = LeadCache(tmp_path / "cache", load_config(root.resolve()))
    assert [len(keys) for keys, _ in cache.chunks] == [3, 3, 2]
    (keys, blob), *others = cache.chunks
    (tmp_path / "cache" / PACK_NAME).write_bytes(cache.header + pickle.dumps([(keys, blob[:25] + b"\xff garbage"), *others]))
    parses.clear()
    assert load_project(root, cache_dir=tmp_path / "cache") == load_project(root, cache_dir=None)
    assert len(parses) == 3 + 8


def test_an_entry_that_is_not_one_is_ignored_alone(make_project, parses: list[str], tmp_path: Path) -> None:
    root = make_project(files(1))
    load_project(root, cache_dir=tmp_path / "cache")
    cache = LeadCache(tmp_path / "cache", load_config(root.resolve()))
    [(keys, blob)] = cache.chunks
    entries = pickle.loads(blob)
    entries[1] = ("not a lead", [])
    (tmp_path / "cache" / PACK_NAME).write_bytes(cache.header + pickle.dumps([(keys, pickle.dumps(entries))]))
    parses.clear()
    assert load_project(root, cache_dir=tmp_path / "cache") == load_project(root, cache_dir=None)
    assert len(parses) == 1 + 4


def test_pack_of_another_version_is_ignored(make_project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    root = make_project(files(1))
    monkeypatch.setattr(cache_module, "code_fingerprint", lambda: "funnel-site 0.0.1")
    load_project(root, cache_dir=tmp_path / "cache")
    old = LeadCache(tmp_path / "cache", load_config(root.resolve()))
    poisoned = []
    for keys, blob in old.chunks:  # entries that would be wrong if the other version's pack were used
        entries = [(lead_ and replace(lead_, title="stale"), problems[:0]) for lead_, problems in pickle.loads(blob)]
        poisoned.append((keys, pickle.dumps(entries)))
    (tmp_path / "cache" / PACK_NAME).write_bytes(old.header + pickle.dumps(poisoned))
    monkeypatch.undo()
    project = load_project(root, cache_dir=tmp_path / "cache")
    assert project == load_project(root)
    assert "stale" not in {lead.title for lead in project.leads}


def test_chunks_used_whole_are_kept_as_they_are_the_rest_pickled_afresh_together(
    make_project, parses: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("funnel_site.parallel.CHUNK", 3)
    monkeypatch.setattr(cache_module, "SMALL_CHUNK", 3)
    root = make_project(files(3))  # 12 files: 4 chunks of 3
    load_project(root, cache_dir=tmp_path / "cache")
    config = load_config(root.resolve())
    before = LeadCache(tmp_path / "cache", config).chunks
    (root / "leads" / "a001.md").write_text(GOOD.replace("value: 1000", "value: 2500"))  # the first chunk's second file
    (root / "leads" / "sub" / "b002.md").unlink()  # the third chunk's last file
    parses.clear()
    project = load_project(root, cache_dir=tmp_path / "cache")
    assert parses == ["leads/a001.md"] and project == load_project(root)
    after = LeadCache(tmp_path / "cache", config).chunks
    assert after[:2] == [before[1], before[3]]  # the same bytes
    new, merged = after[2:]
    assert merged[0] == before[0][0][::2] + before[2][0][:2] and len(pickle.loads(merged[1])) == 4
    assert len(new[0]) == 1 and pickle.loads(new[1])[0][0].value == 2500
    pack = (tmp_path / "cache" / PACK_NAME).stat()
    parses.clear()
    assert load_project(root, cache_dir=tmp_path / "cache") == project and parses == []
    assert (tmp_path / "cache" / PACK_NAME).stat().st_mtime_ns == pack.st_mtime_ns  # nothing changed: not written


def test_small_chunks_are_merged_once_the_pack_changes(make_project, parses: list[str], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(files(1))
    load_project(root, cache_dir=tmp_path / "cache")
    config = load_config(root.resolve())
    for number in range(3):  # an edit per run: a chunk of one file each
        (root / "leads" / "a000.md").write_text(GOOD.replace("value: 1000", f"value: {number + 1}"))
        load_project(root, cache_dir=tmp_path / "cache")
        assert [len(keys) for keys, _ in LeadCache(tmp_path / "cache", config).chunks] == [1, 3]  # the new one, the others merged


def test_an_edit_in_every_chunk_leaves_chunks_no_larger_than_the_parses(make_project, parses: list[str], tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("funnel_site.parallel.CHUNK", 3)
    monkeypatch.setattr(cache_module, "CHUNK", 3)
    root = make_project(files(3))  # 12 files: 4 chunks of 3
    load_project(root, cache_dir=tmp_path / "cache")
    for name in ("a000", "c001", "sub/b002", "z/d000"):  # one file of each chunk, as a branch switch does
        (root / "leads" / f"{name}.md").write_text(GOOD.replace("value: 1000", "value: 2500"))
    load_project(root, cache_dir=tmp_path / "cache")
    (root / "leads" / "a001.md").write_text(GOOD.replace("value: 1000", "value: 3500"))  # then a single edit
    parses.clear()
    project = load_project(root, cache_dir=tmp_path / "cache")
    assert parses == ["leads/a001.md"] and project == load_project(root)
    sizes = [len(keys) for keys, _ in LeadCache(tmp_path / "cache", load_config(root.resolve())).chunks]
    assert sum(sizes) == 12 and max(sizes) == 3  # not one chunk of everything, re-pickled on every later edit


def test_parallel_load_equals_serial_including_problem_order(make_project, tmp_path: Path) -> None:
    root = make_project(files(40))  # 160 files
    serial = load_project(root, jobs=1)
    parallel = load_project(root, jobs=2)
    assert parallel == serial
    assert [str(p) for p in parallel.problems] == [str(p) for p in serial.problems]
    cached = load_project(root, cache_dir=tmp_path / "cache", jobs=2)
    again = load_project(root, cache_dir=tmp_path / "cache", jobs=2)
    assert cached == again == serial


def test_parallel_shares_and_their_pickles_keep_file_order(make_project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("funnel_site.parallel.CHUNK", 7)
    root = make_project(files(10))
    assert load_project(root, jobs=4) == load_project(root, jobs=1)  # three workers' shares and this process's


def test_chunks_are_claimed_from_both_ends_once_each_until_the_ends_meet() -> None:
    unclaimed = multiprocessing.get_context("fork").Array("q", [0, 5])
    front, back = _claimed(unclaimed, from_end=False), _claimed(unclaimed, from_end=True)
    assert [next(front), next(back), next(back), next(front), next(back)] == [0, 4, 3, 1, 2]
    assert list(front) == list(back) == []
    assert list(unclaimed) == [2, 2]


def test_parallel_parse_with_the_cache_keeps_file_order_and_pickles(make_project, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("funnel_site.parallel.CHUNK", 3)
    root = make_project(files(10))
    serial = load_project(root, jobs=1)
    assert load_project(root, cache_dir=tmp_path / "cache", jobs=3) == serial  # chunks claimed by both sides
    monkeypatch.setattr(load_module, "parse_lead_bytes", lambda *_: pytest.fail("every lead is cached"))
    assert load_project(root, cache_dir=tmp_path / "cache", jobs=3) == serial


def test_a_build_hashes_each_lead_file_once_for_both_caches(make_project, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    hashed: list[str] = []
    for module in (load_module, parallel_module):  # read before the parse (a warm build), or by the parse (a cold one)
        monkeypatch.setattr(module, "entry_key", lambda path, raw: hashed.append(path) or cache_module.entry_key(path, raw))
    root = make_project({"leads/a.md": GOOD, "leads/sub/b.md": WARNED})
    for _ in range(2):  # cold, then warm with one file changed
        build_module.build(root, tmp_path / "site", date.fromisoformat(TODAY), cache_dir=tmp_path / "cache")
        assert sorted(hashed) == ["leads/a.md", "leads/sub/b.md"]  # not again for the site cache's manifest
        hashed.clear()
        (root / "leads/a.md").write_text(GOOD.replace("Acme", "Acme 2"), encoding="utf-8")


def test_cli_default_cache_flags_and_environment(make_project, run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cache_module.CACHE_DIR_ENV, raising=False)
    root = make_project({"leads/acme.md": GOOD})
    assert run_cli("check", str(root), "--today", TODAY, "--no-cache").code == 0
    assert not (root / CACHE_DIR_NAME).exists()
    assert run_cli("check", str(root), "--today", TODAY).code == 0
    assert (root / CACHE_DIR_NAME / PACK_NAME).is_file()
    assert (root / CACHE_DIR_NAME / ".gitignore").read_text().splitlines()[-1] == "*"
    assert run_cli("build", str(root), "-o", str(tmp_path / "site"), "--today", TODAY, "--cache-dir", str(tmp_path / "c1")).code == 0
    assert (tmp_path / "c1" / PACK_NAME).is_file()
    monkeypatch.setenv(cache_module.CACHE_DIR_ENV, str(tmp_path / "c2"))
    assert run_cli("check", str(root), "--today", TODAY).code == 0
    assert (tmp_path / "c2" / PACK_NAME).is_file()
    result = run_cli("check", str(root), "--today", TODAY, "--no-cache", "--cache-dir", str(tmp_path))
    assert result.code == 2
    assert "argument --cache-dir: not allowed with argument --no-cache" in result.err


def test_unwritable_cache_does_not_fail_the_build(make_project, run_cli, tmp_path: Path) -> None:
    root = make_project({"leads/acme.md": GOOD})
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run_cli("build", str(root), "-o", str(tmp_path / "site"), "--today", TODAY, "--cache-dir", str(blocker / "cache"))
    assert result.code == 0, result.err
    assert result.out == f"built 1 lead into {tmp_path / 'site'} (0 errors, 0 warnings)\n"


def test_invalid_leads_fail_the_same_way_from_the_cache(make_project, run_cli, tmp_path: Path) -> None:
    root = make_project(files(1))
    first = run_cli("check", str(root), "--today", TODAY, "--cache-dir", str(tmp_path / "c"))
    second = run_cli("check", str(root), "--today", TODAY, "--cache-dir", str(tmp_path / "c"))
    uncached = run_cli("check", str(root), "--today", TODAY, "--no-cache")
    assert first.code == second.code == uncached.code == 1
    assert first.err == second.err == uncached.err
    assert "leads/c000.md:3: owner: unknown team member 'nobody' (known: anna, ben)" in second.err.splitlines()


def test_cold_and_cached_builds_write_identical_sites(make_project, run_cli, tmp_path: Path) -> None:
    root = make_project({f"leads/l{n}.md": GOOD.replace("Acme", f"Acme {n}") for n in range(5)})
    sites = []
    for name, flags in (("cold", ["--no-cache"]), ("first", []), ("cached", []), ("parallel", ["--jobs", "2"])):
        out = tmp_path / name
        assert run_cli("build", str(root), "-o", str(out), "--today", TODAY, *flags).code == 0
        sites.append({p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()})
    assert sites[0] == sites[1] == sites[2] == sites[3]


def test_what_is_made_while_the_collector_is_paused_goes_to_the_oldest_generation() -> None:
    """Left in the youngest, the first collection after a load would scan every lead's objects."""
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        made = [[index] for index in range(1000)]
    assert gc.isenabled()
    assert not any(obj is made for obj in gc.get_objects(generation=0))
    assert any(obj is made for obj in gc.get_objects(generation=2))
    assert gc.get_freeze_count() == 0


def test_frozen_objects_stay_frozen_after_the_collector_was_paused() -> None:
    """A build's workers share the frozen objects, and serve freezes what it keeps: a pause must not let them go."""
    kept = [[index] for index in range(100)]
    gc.freeze()
    try:
        with collector_paused():
            made = [[index] for index in range(100)]
        # The count itself may drop: a frozen object of pytest's that dies during the block leaves the frozen set.
        assert gc.get_freeze_count() > 0
        assert not any(obj is made for obj in gc.get_objects(generation=2))  # not promoted: that would unfreeze ``kept``
        assert not any(obj is kept or obj is kept[0] for obj in gc.get_objects())
    finally:
        gc.unfreeze()


def test_the_collector_stays_paused_until_the_leads_are_read(make_project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """What the loader makes after the parse (the cache's chunks, the lists of read problems) would start a full
    collection over every lead's objects once the collector runs again (100k leads: 0.7 s)."""
    save = LeadCache.save
    paused = []

    def saving(self: LeadCache) -> None:
        paused.append(not gc.isenabled())
        save(self)

    monkeypatch.setattr(LeadCache, "save", saving)
    load_project(make_project({"leads/acme.md": lead(), "leads/beta.md": lead(title="Beta")}), tmp_path / "cache", jobs=2)
    assert paused == [True] and gc.isenabled()
