"""Atomic output: a killed or failing build leaves either the complete old site or the complete new one."""

from __future__ import annotations

import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import TODAY, write_project
from funnel_site import build as build_module

TRIALS = 30
GOOD = "---\ntitle: Acme\nowner: anna\nstage: offer\nvalue: 1000\nexpected_close: 2026-12-01\nnext_step: Call\n---\nNotes.\n"


def pipeline(root: Path, version: str) -> Path:
    """150 leads with notes, about 200 output files: big enough that writing takes a while."""
    files: dict[str, str | bytes] = {}
    for i in range(150):
        status = ("active", "won", "lost", "potential")[i % 4]
        front = f"title: {version} Projekt {i}\nowner: {('anna', 'ben')[i % 2]}\nstatus: {status}\ncompany: Firma {i % 37}\n"
        if status == "active":
            front += f"stage: {('lead', 'offer', 'negotiation')[i % 3]}\nvalue: {1000 + i * 37}\nexpected_close: 2027-0{1 + i % 9}-15\nnext_step: Call\n"
        elif status == "won":
            front += f"value: {500 + i}\nclosed_on: 2026-0{1 + i % 9}-10\ncreated: 2025-12-01\n"
        elif status == "lost":
            front += "closed_on: 2026-05-05\nreason: Budget\n"
        files[f"leads/team{i % 5}/lead-{i:03}.md"] = f"---\n{front}---\n" + (f"{version} Gesprächsnotiz. " * 40 + "\n\n") * 5
    return write_project(root, files)


def snapshot(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def build_command(root: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "funnel_site", "build", str(root), "-o", str(out), "--today", TODAY]


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def _wait_for_staging(process: subprocess.Popen[bytes], out: Path) -> None:
    deadline = time.monotonic() + 120
    while not leftovers(out) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, bytes], dict[str, bytes], float, float]:
    """The old and new pipelines, their reference builds, and how long a whole build and its write phase take here."""
    base = tmp_path_factory.mktemp("atomic")
    old_root, new_root = pipeline(base / "old", "Alt"), pipeline(base / "new", "Neu")
    subprocess.run(build_command(old_root, base / "old-site"), check=True, capture_output=True)
    started = time.monotonic()
    process = subprocess.Popen(build_command(new_root, base / "new-site"), stdout=subprocess.DEVNULL)
    _wait_for_staging(process, base / "new-site")
    writing = time.monotonic()
    assert process.wait() == 0
    finished = time.monotonic()
    old, new = snapshot(base / "old-site"), snapshot(base / "new-site")
    assert len(new) > 150 and old.keys() == new.keys() and old != new
    return base / "old-site", new_root, old, new, finished - started, finished - writing


def _kill_at_random(command: list[str], out: Path, rng: random.Random, duration: float, write_phase: float | None) -> None:
    """SIGKILL at a random moment of the whole build, or (``write_phase``) once it has started writing."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if write_phase is not None:
            _wait_for_staging(process, out)
            time.sleep(rng.uniform(0, write_phase * 1.5))
        else:
            time.sleep(rng.uniform(0, duration * 1.5))
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()


def _trial(number: int, sites, base: Path) -> str:
    old_site, new_root, old, new, duration, writing = sites
    rng = random.Random(20261122 + number)
    out = base / f"trial-{number}" / "site"
    shutil.copytree(old_site, out)
    _kill_at_random(build_command(new_root, out), out, rng, duration, writing if number % 2 else None)
    now = snapshot(out)
    assert now in (old, new), f"trial {number}: the output is neither the old nor the new site"
    outcome = "new" if now == new else "old"
    if leftovers(out):  # an undisturbed build removes the staging directory the killed one left behind
        subprocess.run(build_command(new_root, out), check=True, capture_output=True)
        assert snapshot(out) == new and leftovers(out) == []
        outcome += " with leftovers"
    return outcome


def test_sigkill_at_random_moments_leaves_old_or_new_site(sites, tmp_path: Path) -> None:
    """Trials run five at a time, each with its own output directory, to keep the suite quick."""
    with ThreadPoolExecutor(max_workers=5) as pool:
        outcomes = list(pool.map(lambda number: _trial(number, sites, tmp_path), range(TRIALS)))
    assert len(outcomes) == TRIALS
    assert any(outcome.startswith("old") for outcome in outcomes)  # the kills really hit builds in progress


def test_a_leftover_staging_directory_is_removed_by_the_next_build(tmp_path: Path, run_cli) -> None:
    root = write_project(tmp_path / "p", {"leads/acme.md": GOOD})
    out = tmp_path / "site"
    for name in (".site.tmp-k1ll3d", ".site.old-k1ll3d"):
        (tmp_path / name / "leads").mkdir(parents=True)
        (tmp_path / name / "leads" / "half.html").write_text("<p>half")
    (tmp_path / ".other.tmp-keep").mkdir()
    assert run_cli("build", str(root), "-o", str(out), "--today", TODAY).code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.tmp-keep", "p", "site"]


def _until_waiting(process: subprocess.Popen[str]) -> str:
    """The first line the build prints on stderr: it waits for the lock before anything else (60 s at most)."""
    import selectors

    assert process.stderr is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        assert selector.select(timeout=60), "the build printed nothing"
    return process.stderr.readline()


def test_a_build_waits_for_another_build_into_the_same_folder(tmp_path: Path) -> None:
    """While another build holds the output's folder, a build says so and waits; then it builds as usual."""
    import fcntl

    root = write_project(tmp_path / "p", {"leads/acme.md": GOOD})
    out = tmp_path / "sites" / "site"
    out.parent.mkdir()
    held = os.open(out.parent, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(held, fcntl.LOCK_EX)
    process = subprocess.Popen(build_command(root, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _until_waiting(process) == f"funnel-site: waiting for another build into {out.parent} to finish\n"
        time.sleep(0.2)
        assert process.poll() is None and not out.exists()
    finally:
        os.close(held)
    stdout, stderr = process.communicate(timeout=120)
    assert (process.returncode, stderr) == (0, "")
    assert stdout == f"built 1 lead into {out} (0 errors, 0 warnings)\n"


def test_invalid_leads_make_no_output_folder(tmp_path: Path, run_cli) -> None:
    """The lock is taken on the nearest folder that exists: a build that fails its checks creates nothing."""
    root = write_project(tmp_path / "p", {"leads/acme.md": GOOD.replace("stage: offer", "stage: negotation")})
    result = run_cli("build", str(root), "-o", str(tmp_path / "out" / "deeper" / "site"), "--today", TODAY)
    assert result.code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]


def test_a_folder_that_cannot_be_locked_is_built_into_unlocked(tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Some network file systems refuse locks (ENOLCK): the build goes on, as where there is no fcntl."""
    import fcntl

    def refusing(descriptor: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", refusing)
    root = write_project(tmp_path / "p", {"leads/acme.md": GOOD})
    result = run_cli("build", str(root), "-o", str(tmp_path / "site"), "--today", TODAY)
    assert (result.code, result.err) == (0, "")


def test_a_build_started_while_another_writes_into_the_same_output_waits_for_it(
    tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two builds into one output at once (a CI job and a rep, two hooks): the later one used to remove the earlier
    one's staging directory as a killed build's leftover, and the earlier one failed with "No such file or directory".
    Now the later one waits, then replaces the site whole: the same files as a build of its own alone."""
    root = write_project(tmp_path / "p", {"leads/acme.md": GOOD, "leads/beta.md": GOOD.replace("Acme", "Beta")})
    out = tmp_path / "site"
    assert run_cli("build", str(root), "-o", str(out), "--today", "2026-11-21").code == 0
    later_command = [*build_command(root, out)[:-1], "2026-11-23"]
    put = build_module._Staging.put
    started: list[subprocess.Popen[str]] = []

    def put_while_another_build_starts(writer: build_module._Staging, relative: str, data: bytes) -> None:
        put(writer, relative, data)
        if relative == "leads/acme.html" and not started:
            started.append(subprocess.Popen(later_command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
            assert _until_waiting(started[0]).startswith("funnel-site: waiting for another build into ")

    monkeypatch.setattr(build_module._Staging, "put", put_while_another_build_starts)
    first = run_cli("build", str(root), "-o", str(out), "--today", TODAY)
    assert (first.code, first.err) == (0, "")
    stdout, stderr = started[0].communicate(timeout=120)
    assert (started[0].returncode, stderr, stdout) == (0, "", f"built 2 leads into {out} (0 errors, 0 warnings)\n")
    monkeypatch.undo()
    alone = tmp_path / "alone"
    assert run_cli("build", str(root), "-o", str(alone), "--today", "2026-11-23", "--no-cache").code == 0
    assert snapshot(out) == snapshot(alone)
    assert leftovers(out) == []


def _built(tmp_path: Path, run_cli) -> tuple[Path, Path, dict[str, bytes]]:
    root = write_project(tmp_path / "p", {"leads/acme.md": GOOD})
    out = tmp_path / "site"
    assert run_cli("build", str(root), "-o", str(out), "--today", TODAY).code == 0
    (root / "leads" / "acme.md").write_text(GOOD.replace("Acme", "Acme Neu"))
    return root, out, snapshot(out)


def test_full_disk_ends_with_a_clear_error_and_the_old_site_intact(tmp_path: Path, run_cli, monkeypatch) -> None:
    root, out, before = _built(tmp_path, run_cli)
    real_create = build_module._create
    written = []

    def write_until_full(path: str, data: bytes, *rest: bool) -> object:
        if len(written) >= 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
        written.append(path)
        return real_create(path, data, *rest)

    monkeypatch.setattr(build_module, "_create", write_until_full)
    result = run_cli("build", str(root), "-o", str(out), "--today", TODAY)
    assert (result.code, result.out) == (2, "")
    assert result.err == f"funnel-site: error: cannot write {out}: No space left on device; the previous site was left unchanged\n"
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_read_only_output_parent_ends_with_a_clear_error(tmp_path: Path, run_cli, monkeypatch) -> None:
    """Tests run as root, where chmod does not stop writes: the file system's refusal is simulated."""
    root, out, before = _built(tmp_path, run_cli)

    def read_only(*args: object, **kwargs: object) -> str:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path))

    monkeypatch.setattr("funnel_site.build.tempfile.mkdtemp", read_only)
    result = run_cli("build", str(root), "-o", str(out), "--today", TODAY)
    assert result.code == 2
    assert result.err == f"funnel-site: error: cannot write {out}: Read-only file system; the previous site was left unchanged\n"
    assert snapshot(out) == before


def test_output_below_a_file_is_a_clear_error(tmp_path: Path, run_cli) -> None:
    root = write_project(tmp_path / "p", {"leads/acme.md": GOOD})
    (tmp_path / "report.pdf").write_bytes(b"%PDF")
    out = tmp_path / "report.pdf" / "site"
    result = run_cli("build", str(root), "-o", str(out), "--today", TODAY)
    assert result.code == 2
    assert result.err == f"funnel-site: error: cannot write {out}: Not a directory; the previous site was left unchanged\n"
    assert (tmp_path / "report.pdf").read_bytes() == b"%PDF"


def test_without_renameat2_the_two_rename_swap_works(tmp_path: Path, run_cli, monkeypatch) -> None:
    root, out, before = _built(tmp_path, run_cli)
    monkeypatch.setattr("funnel_site.build._exchange", lambda a, b: False)
    assert run_cli("build", str(root), "-o", str(out), "--today", TODAY).code == 0
    after = snapshot(out)
    assert after != before and b"Acme Neu" in after["data.json"]
    assert leftovers(out) == []


def test_a_failing_swap_keeps_the_old_site_and_removes_the_staging_directory(tmp_path: Path, run_cli, monkeypatch) -> None:
    root, out, before = _built(tmp_path, run_cli)
    real_rename = os.rename

    def failing_rename(source: object, target: object) -> None:
        if Path(str(source)) == out:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_rename(source, target)

    monkeypatch.setattr("funnel_site.build._exchange", lambda a, b: False)
    monkeypatch.setattr("funnel_site.build.os.rename", failing_rename)
    result = run_cli("build", str(root), "-o", str(out), "--today", TODAY)
    assert result.code == 2
    assert result.err == f"funnel-site: error: cannot write {out}: Input/output error; the previous site was left unchanged\n"
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_leftovers_of_an_output_with_glob_characters_are_removed(make_project, run_cli, tmp_path: Path) -> None:
    from conftest import TODAY as today, lead as make_lead

    root = make_project({"leads/a.md": make_lead(title="A", owner="anna", stage="offer", value=1, expected_close="2026-12-01", next_step="x")})
    out, neighbour = tmp_path / "site[1]", tmp_path / ".site1.tmp-busy"
    (tmp_path / ".site[1].tmp-left").mkdir()
    neighbour.mkdir()  # another output's staging directory: not ours to remove
    assert run_cli("build", str(root), "-o", str(out), "--today", today).code == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [".site1.tmp-busy"]


def test_a_failing_second_rename_puts_the_old_site_back(tmp_path: Path, run_cli, monkeypatch) -> None:
    root, out, before = _built(tmp_path, run_cli)
    real_rename = os.rename

    def failing_rename(source: object, target: object) -> None:
        if Path(str(target)) == out and ".tmp-" in str(source):  # the new site cannot move into place
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_rename(source, target)

    monkeypatch.setattr("funnel_site.build._exchange", lambda a, b: False)
    monkeypatch.setattr("funnel_site.build.os.rename", failing_rename)
    result = run_cli("build", str(root), "-o", str(out), "--today", TODAY)
    assert result.code == 2
    assert result.err == f"funnel-site: error: cannot write {out}: Input/output error; the previous site was left unchanged\n"
    assert snapshot(out) == before
    assert leftovers(out) == []
