"""Where a build's time goes, stage by stage, in one process (ms per 1,000 leads).

    .venv/bin/python bench/stages.py .bench/corpus-10k --runs 3 [--profile]

Stages mirror load -> figures -> checks -> render -> write with the product's own functions:
read (bytes), decode + split (incl. YAML), YAML alone (parse_yaml on the same front matter),
validate (parse_lead), load_project (the whole loader as the CLI runs it), compute, warnings,
render_site (in memory) and write_site (fresh output folder). ``--profile`` prints the top
functions of one whole build under cProfile.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import TODAY  # noqa: E402

from funnel_site.build import render_checked, check_project, write_site  # noqa: E402
from funnel_site.checks import pipeline_warnings  # noqa: E402
from funnel_site.figures import compute  # noqa: E402
from funnel_site.frontmatter import decode, split_lead  # noqa: E402
from funnel_site.lead import parse_lead  # noqa: E402
from funnel_site.load import find_lead_files, lead_id, load_config, load_project  # noqa: E402
from funnel_site.strict_yaml import parse_yaml  # noqa: E402


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def stages(root: Path) -> dict[str, tuple[float, Any]]:
    root = root.resolve()
    config = load_config(root)
    paths, _ = find_lead_files(root)
    result: dict[str, tuple[float, Any]] = {}
    result["find files"] = timed(lambda: find_lead_files(root))
    result["read"] = timed(lambda: [(root / p).read_bytes() for p in paths])
    raw = result["read"][1]
    result["decode"] = timed(lambda: [decode(p, r)[0] for p, r in zip(paths, raw)])
    texts = result["decode"][1]
    result["split + YAML"] = timed(lambda: [split_lead(p, t)[0] for p, t in zip(paths, texts)])
    sources = result["split + YAML"][1]
    yaml_texts = [t.split("\n---", 1)[0][4:] + "\n" for t in texts]
    result["  of which YAML (parse_yaml)"] = timed(lambda: [parse_yaml(y, 1) for y in yaml_texts])
    result["validate (parse_lead)"] = timed(lambda: [
        parse_lead(p, lead_id(p), s.data, s.lines, s.body, s.body_line, config) for p, s in zip(paths, sources)])
    result["load_project (whole loader)"] = timed(lambda: load_project(root))
    project = result["load_project (whole loader)"][1]
    result["compute figures"] = timed(lambda: compute(project, TODAY))
    figures = result["compute figures"][1]
    result["warnings"] = timed(lambda: pipeline_warnings(figures))
    checked = check_project(project, TODAY)
    result["render_site (in memory)"] = timed(lambda: render_checked(checked))
    files = result["render_site (in memory)"][1]
    with tempfile.TemporaryDirectory(dir=root.parent) as scratch:
        result[f"write_site ({len(files)} files)"] = timed(lambda: write_site(files, Path(scratch) / "site"))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile one whole load + build")
    args = parser.parse_args()
    count = len(find_lead_files(args.root.resolve())[0])
    samples: dict[str, list[float]] = {}
    for _ in range(args.runs):
        for name, (seconds, _) in stages(args.root).items():
            samples.setdefault(name, []).append(seconds * 1000 / (count / 1000))
    print(f"{count} leads, ms per 1,000 leads, median (min–max) of {args.runs} runs")
    print("| stage | ms / 1k leads |\n|---|---|")
    for name, values in samples.items():
        print(f"| {name} | {statistics.median(values):.0f} ({min(values):.0f}–{max(values):.0f}) |")
    if args.profile:
        profiler = cProfile.Profile()
        out = Path(tempfile.mkdtemp(dir=args.root.resolve().parent)) / "site"
        profiler.runcall(lambda: write_site(render_checked(check_project(load_project(args.root), TODAY)), out))
        shutil.rmtree(out.parent, ignore_errors=True)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
