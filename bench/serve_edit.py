"""Time a one-lead edit under `serve`: the change is seen -> every affected file rendered and published.

    .venv/bin/python bench/serve_edit.py .bench/corpus-10k 7 [SCRATCH]

Runs the dev server's own session in-process (what `serve` does after watchfiles reports a change),
edits the `value:` of one lead N times, and prints JSON: milliseconds per edit and, as "written", the files
whose bytes changed. The file is restored afterwards. The site stays in memory, as under `serve`: SCRATCH
(bench/run.py passes one) is accepted and left untouched. The watcher's own latency (about 10-50 ms with
step=10) and sending the files come on top.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import TODAY  # noqa: E402

from funnel_site.devsession import DevSession  # noqa: E402


def main() -> None:
    root, runs = Path(sys.argv[1]).resolve(), int(sys.argv[2]) if len(sys.argv) > 2 else 7
    session = DevSession(root, TODAY)
    started = time.perf_counter()
    assert session.full_build().ok
    first = time.perf_counter() - started
    lead = next(p for p in sorted((root / "leads").rglob("*.md")) if re.search(rb"(?m)^value: \d+$", p.read_bytes()))
    original = lead.read_bytes()
    timings, changed = [], []
    try:
        for run in range(runs):
            lead.write_bytes(re.sub(rb"(?m)^value: \d+$", f"value: {123457 + run}".encode(), original, count=1))
            started = time.perf_counter()
            outcome = session.apply({lead})
            timings.append((time.perf_counter() - started) * 1000)
            assert outcome.ok, outcome.problems
            changed.append(outcome.changed)
    finally:
        lead.write_bytes(original)
    print(json.dumps({"first_build_s": first, "edit_ms": timings, "written": changed}))


if __name__ == "__main__":
    main()
