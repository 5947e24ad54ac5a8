"""``funnel-site serve`` as a rep uses it: a real subprocess on a free loopback port."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from conftest import TODAY, lead, write_project

BOUND = 20.0  # seconds; a generous bound for a loaded CI machine, not a speed assertion


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def acme(value: int, stage: str = "offer") -> str:
    return lead(title="Acme", owner="anna", stage=stage, value=value, expected_close="2026-12-01", next_step="Call")


class Server:
    def __init__(self, root: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "funnel_site", "serve", str(root), "--port", str(self.port), "--today", TODAY, *extra],
            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for_line(self, text: str) -> str:
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline:
            found = [line for line in self.lines if text in line]
            if found:
                return found[0]
            if self.process.poll() is not None:
                time.sleep(0.2)
                raise AssertionError(f"serve exited with {self.process.returncode}: {self.lines}")
            time.sleep(0.05)
        raise AssertionError(f"no line with {text!r} in {self.lines}")

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.putrequest("GET", path, skip_host=False)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body

    def wait_until(self, path: str, predicate) -> bytes:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline:
            status, _, body = self.get(path)
            if status == 200 and predicate(body):
                return body
            time.sleep(0.05)
        raise AssertionError(f"{path} never matched; last: {body[:300]!r}; log: {self.lines}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=BOUND)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    root = write_project(tmp_path / "pipeline", {"leads/acme.md": acme(1000)})
    running = Server(root)
    running.root = root  # type: ignore[attr-defined]
    running.wait_for_line("Serving ")
    yield running
    running.stop()


def pipeline_value(body: bytes) -> object:
    return json.loads(body)["totals"]["pipeline_value"]


def test_edit_is_served_and_reload_event_sent(server: Server) -> None:
    assert pipeline_value(server.wait_until("/data.json", lambda b: True)) == 1000
    events = http.client.HTTPConnection("127.0.0.1", server.port, timeout=BOUND)
    events.request("GET", "/__livereload")
    stream = events.getresponse()
    assert stream.getheader("Content-Type") == "text/event-stream"
    assert stream.readline() == b"retry: 1000\n"
    (server.root / "leads" / "acme.md").write_text(acme(2500))  # type: ignore[attr-defined]
    server.wait_until("/data.json", lambda b: pipeline_value(b) == 2500)
    assert [stream.readline() for _ in range(3)] == [b"\n", b"event: reload\n", b"data: 2\n"]
    events.close()


def test_pages_carry_the_reload_script_and_no_cache(server: Server) -> None:
    status, headers, body = server.get("/index.html")
    assert status == 200 and headers["cache-control"] == "no-store"
    assert b'<script src="/__livereload.js?build=1" defer></script>' in body
    assert server.get("/")[2] == body
    status, headers, script = server.get("/__livereload.js")
    assert status == 200 and b"EventSource(build === null ? '/__livereload' : '/__livereload?since='" in script


def test_a_rebuild_before_the_stream_connects_is_announced_at_once(server: Server) -> None:
    assert b"/__livereload.js?build=1" in server.get("/leads/acme.html")[2]
    (server.root / "leads" / "acme.md").write_text(acme(2500))  # type: ignore[attr-defined]
    server.wait_until("/index.html", lambda b: b"/__livereload.js?build=2" in b)
    stale = http.client.HTTPConnection("127.0.0.1", server.port, timeout=BOUND)
    stale.request("GET", "/__livereload?since=1")  # the tab loaded build 1, its script runs only now
    stream = stale.getresponse()
    assert [stream.readline() for _ in range(5)] == [b"retry: 1000\n", b"\n", b"event: reload\n", b"data: 2\n", b"\n"]
    stale.close()
    current = http.client.HTTPConnection("127.0.0.1", server.port, timeout=BOUND)
    current.request("GET", "/__livereload?since=2")  # up to date: nothing until the next rebuild
    stream = current.getresponse()
    assert [stream.readline() for _ in range(2)] == [b"retry: 1000\n", b"\n"]
    (server.root / "leads" / "acme.md").write_text(acme(3000))  # type: ignore[attr-defined]
    assert [stream.readline() for _ in range(2)] == [b"event: reload\n", b"data: 3\n"]
    current.close()


def test_the_problems_page_names_its_build_too(server: Server) -> None:
    (server.root / "leads" / "acme.md").write_text(acme(1000, stage="negotation"))  # type: ignore[attr-defined]
    body = server.wait_until("/", lambda b: b"The pipeline has 1 problem" in b)
    assert b'<script src="/__livereload.js?build=2" defer></script>' in body


def test_broken_edit_shows_problems_then_dashboard_returns(server: Server) -> None:
    path = server.root / "leads" / "acme.md"  # type: ignore[attr-defined]
    path.write_text(acme(1000, stage="negotation"))
    body = server.wait_until("/", lambda b: b"The pipeline has 1 problem" in b)
    assert b"leads/acme.md:4: stage: unknown stage &#x27;negotation&#x27; (known: lead, offer, negotiation)" in body
    server.wait_for_line("leads/acme.md:4: stage: unknown stage 'negotation'")
    path.write_text(acme(1000))
    dashboard = server.wait_until("/", lambda b: b"The pipeline has" not in b)
    assert b"Testpipeline" in dashboard


def test_new_and_deleted_leads(server: Server) -> None:
    leads = server.root / "leads"  # type: ignore[attr-defined]
    (leads / "sub").mkdir()
    (leads / "sub" / "beta.md").write_text(acme(500).replace("Acme", "Beta"))
    server.wait_until("/data.json", lambda b: pipeline_value(b) == 1500)
    (leads / "acme.md").unlink()
    server.wait_until("/data.json", lambda b: pipeline_value(b) == 500)
    assert server.get("/leads/acme.html")[0] == 404


@pytest.mark.parametrize("path", ["/../config.yaml", "/../../etc/passwd", "//etc/passwd", "/%2e%2e/config.yaml", "/leads/..%2f..%2fconfig.yaml"])
def test_traversal_is_refused(server: Server, path: str) -> None:
    status, _, body = server.get(path)
    assert status in (403, 404)
    assert b"title: Testpipeline" not in body and b"root:" not in body


def test_the_site_is_served_from_memory_nothing_is_written(tmp_path: Path) -> None:
    root = write_project(tmp_path / "pipeline", {"leads/acme.md": acme(1000)})
    pipeline = sorted(root.rglob("*"))
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    running = Server(root, env={"TMPDIR": str(temporary)})
    try:
        running.wait_for_line("Serving ")
        (root / "leads" / "acme.md").write_text(acme(2500))
        running.wait_until("/data.json", lambda b: pipeline_value(b) == 2500)
        running.wait_for_line("ms: 7 changed")
        assert [line.split(" ms: ")[1] for line in running.lines if line.startswith("rebuilt in ")] == [
            "15 changed, 0 removed", "7 changed, 0 removed"]
        assert list(temporary.iterdir()) == [] and sorted(root.rglob("*")) == pipeline
    finally:
        assert running.stop() == 0


def test_ctrl_c_exits_cleanly(server: Server) -> None:
    assert server.stop() == 0
    server.wait_for_line("stopped")
    assert not any("Traceback" in line for line in server.lines)


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"leads/acme.md": acme(1)})
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "funnel_site", "serve", str(root), "--port", str(port), "--today", TODAY],
            capture_output=True, text=True, timeout=BOUND,
        )
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"funnel-site: error: port {port} is already in use on 127.0.0.1; choose another with --port"


def test_broken_template_is_a_problem_not_a_crash(server: Server) -> None:
    templates = server.root / "templates"  # type: ignore[attr-defined]
    templates.mkdir()
    (templates / "index.html").write_text('{% extends "builtin/index.html" %}\n{% block content %}{{ oops( }}{% endblock %}\n')
    body = server.wait_until("/", lambda b: b"The pipeline has 1 problem" in b)
    assert b"templates/index.html:2: template: unexpected" in body
    (templates / "index.html").unlink()
    server.wait_until("/", lambda b: b"The pipeline has" not in b)
    assert server.process.poll() is None


def test_symlink_out_of_the_pipeline_does_not_stop_watching(server: Server, tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text(acme(1).replace("Acme", "Outside"))
    (server.root / "leads" / "evil.md").symlink_to(outside)  # type: ignore[attr-defined]
    body = server.wait_until("/", lambda b: b"The pipeline has 1 problem" in b)
    assert b"leads/evil.md:1: file: symlink points outside the pipeline directory" in body
    (server.root / "leads" / "evil.md").unlink()  # type: ignore[attr-defined]
    (server.root / "leads" / "acme.md").write_text(acme(4242))  # type: ignore[attr-defined]
    server.wait_until("/data.json", lambda b: pipeline_value(b) == 4242)
    assert not any("Traceback" in line for line in server.lines)
