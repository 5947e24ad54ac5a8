"""Time a one-lead edit under `serve`: the change is seen -> every affected page is written.

    .venv/bin/python bench/serve_edit.py .bench/corpus-10k 7 [SCRATCH]

Runs the dev server's own session in-process (what `serve` does after watchfiles reports a change),
edits the `value:` of one lead N times, and prints JSON: milliseconds per edit and pages written.
The file is restored afterwards; the site goes into a new folder in SCRATCH (left there) or a temporary one. The watcher's own latency (about 10-50 ms with step=10) comes on top.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import TODAY  # noqa: E402

from funnel_site.devsession import DevSession  # noqa: E402


def main() -> None:
    root, runs = Path(sys.argv[1]).resolve(), int(sys.argv[2]) if len(sys.argv) > 2 else 7
    scratch = Path(sys.argv[3]) if len(sys.argv) > 3 else None  # the caller's, left for it to delete (bench/run.py: Discards)
    out = Path(tempfile.mkdtemp(prefix="funnel-site-bench-serve-", dir=scratch))
    session = DevSession(root, out, TODAY)
    started = time.perf_counter()
    assert session.full_build().ok
    first = time.perf_counter() - started
    lead = next(p for p in sorted((root / "leads").rglob("*.md")) if re.search(rb"(?m)^value: \d+$", p.read_bytes()))
    original = lead.read_bytes()
    timings, written = [], []
    try:
        for run in range(runs):
            lead.write_bytes(re.sub(rb"(?m)^value: \d+$", f"value: {123457 + run}".encode(), original, count=1))
            started = time.perf_counter()
            outcome = session.apply({lead})
            timings.append((time.perf_counter() - started) * 1000)
            session.release()  # as serve does once the browser was told to reload
            assert outcome.ok, outcome.problems
            written.append(outcome.written)
    finally:
        lead.write_bytes(original)
        if scratch is None:
            shutil.rmtree(out, ignore_errors=True)
    print(json.dumps({"first_build_s": first, "edit_ms": timings, "written": written}))


if __name__ == "__main__":
    main()
