"""Time what a rep sees under `serve`: a lead file saved -> the browser's reload event -> the reloaded page.

    .venv/bin/python bench/serve_reload.py .bench/corpus-10k 7 [SCRATCH]

Copies the pipeline to a new folder in SCRATCH (left there) or a temporary one, starts `funnel-site serve` on a free loopback port, listens to
the live-reload stream (/__livereload) as the page's script does, then N times rewrites the `value:` of one
lead and measures, from the moment the file is written: the reload event arriving, and the reloaded lead
page (fetched as the browser does after the event) showing the new value. Prints JSON with milliseconds.
Everything the watcher adds (its polling of inotify events and the batching of 10 ms) is included.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import TODAY  # noqa: E402

START_TIMEOUT = 600.0  # seconds: the first build of 100k leads takes minutes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    body = connection.getresponse().read()
    connection.close()
    return body


def wait_until_serving(process: subprocess.Popen[str]) -> None:
    assert process.stderr is not None
    deadline = time.monotonic() + START_TIMEOUT
    for line in process.stderr:
        if line.startswith("Serving "):
            return
        if time.monotonic() > deadline:
            break
    raise SystemExit(f"serve did not start (exit code {process.poll()})")


def main() -> None:
    source, runs = Path(sys.argv[1]).resolve(), int(sys.argv[2]) if len(sys.argv) > 2 else 7
    scratch = Path(sys.argv[3]) if len(sys.argv) > 3 else None  # the caller's, left for it to delete (bench/run.py: Discards)
    work = Path(tempfile.mkdtemp(prefix="funnel-site-bench-reload-", dir=scratch))
    root = work / "pipeline"
    shutil.copytree(source, root)
    lead = next(p for p in sorted((root / "leads").rglob("*.md")) if re.search(rb"(?m)^value: \d+$", p.read_bytes()))
    page = "/" + lead.relative_to(root).with_suffix(".html").as_posix()
    original = lead.read_bytes()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "funnel_site", "serve", str(root), "--port", str(port), "--today", TODAY.isoformat()],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )
    events, pages = [], []
    try:
        wait_until_serving(process)
        stream_connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        stream_connection.request("GET", "/__livereload")
        stream = stream_connection.getresponse()
        stream.readline(), stream.readline()  # "retry: 1000", blank
        for run in range(runs):
            value = 654321 + run
            time.sleep(0.3)  # apart from the last save: the watcher would batch them
            started = time.perf_counter()
            lead.write_bytes(re.sub(rb"(?m)^value: \d+$", f"value: {value}".encode(), original, count=1))
            while stream.readline() != b"event: reload\n":
                pass
            events.append((time.perf_counter() - started) * 1000)
            build = stream.readline().removeprefix(b"data: ").strip()
            stream.readline()
            body = get(port, page)
            pages.append((time.perf_counter() - started) * 1000)
            if b"?build=" + build + b'"' not in body:
                raise SystemExit(f"the reloaded page is not from build {build.decode()}")
        stream_connection.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
        if scratch is None:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"reload_event_ms": events, "page_ms": pages}))


if __name__ == "__main__":
    main()
