"""``serve``'s parts in-process: what its HTTP handler answers from the site in memory (on a free loopback port),
and when its loop collects garbage."""

from __future__ import annotations

import gc
import http.client
import http.server
import queue
import threading
import time
from datetime import date
from pathlib import Path
from typing import Iterator, Mapping
from urllib.parse import quote

import pytest

from conftest import lead, write_project
from funnel_site.devsession import DevSession
from funnel_site.problems import Problem
from funnel_site import serve
from funnel_site.serve import Reloads, make_handler, next_batch, served_page
from funnel_site.theme import builtin_templates

HEAD = b"<!DOCTYPE html>\n<html>\n<head>\n<meta http-equiv=\"Content-Security-Policy\" content=\"%sdefault-src 'none'; script-src 'self'\">\n"
PAGE = HEAD % b"" + b"<title>%s</title>\n</head>\n<body>%s</body>\n</html>\n"
# as the dev server sends it: its script may connect to the server, and it names the page's build
SERVED = HEAD % b"connect-src 'self'; " + b"<title>%s</title>\n<script src=\"/__livereload.js?build=%d\" defer></script>\n</head>\n<body>%s</body>\n</html>\n"
SITE = {
    "index.html": PAGE % (b"Home", b"home"),
    "reports/index.html": PAGE % (b"Reports", b"reports"),
    "leads/a.html": PAGE % (b"A", b"lead a"),
    "data.json": b'{"leads": []}\n',
    "leads.csv": b"\xef\xbb\xbftitle\r\nA\r\n",
    "followups.ics": b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
    "leads-data.js": b"window.funnelLeads = {};\n",
    "assets/style.css": b"body { margin: 0 }\n",
    "assets/logo.svg": b'<svg xmlns="http://www.w3.org/2000/svg"/>\n',
    "assets/photo.png": b"\x89PNG\r\n",
}


class Answers:
    def __init__(self, port: int, reloads: Reloads) -> None:
        self.port, self.reloads = port, reloads

    def request(self, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.putrequest(method, path)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
        connection.close()
        headers = {k.lower(): v for k, v in response.getheaders() if k.lower() not in ("date", "server")}
        return response.status, headers, body


@pytest.fixture
def answers() -> Iterator[Answers]:
    reloads, stop = Reloads(), threading.Event()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(reloads, stop))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Answers(server.server_address[1], reloads)
    stop.set()
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("path", "content_type"), [
    ("/data.json", "application/json"),
    ("/leads.csv", "text/csv; charset=utf-8"),
    ("/followups.ics", "text/calendar; charset=utf-8"),
    ("/leads-data.js", "text/javascript; charset=utf-8"),
    ("/assets/style.css", "text/css; charset=utf-8"),
    ("/assets/logo.svg", "image/svg+xml"),
    ("/assets/photo.png", "image/png"),
])
def test_files_are_sent_as_built_with_their_content_type(answers: Answers, path: str, content_type: str) -> None:
    answers.reloads.publish(SITE, [])
    assert answers.request(path) == (200, {
        "content-type": content_type, "content-length": str(len(SITE[path[1:]])), "cache-control": "no-store"}, SITE[path[1:]])


def test_pages_get_the_reload_script_of_their_build(answers: Answers) -> None:
    answers.reloads.publish(SITE, [])
    answers.reloads.publish(SITE, [])
    page = SERVED % (b"A", 2, b"lead a")
    assert answers.request("/leads/a.html?sort=value#top") == (200, {
        "content-type": "text/html; charset=utf-8", "content-length": str(len(page)), "cache-control": "no-store"}, page)
    assert answers.request("/")[2] == SERVED % (b"Home", 2, b"home")


def test_head_answers_as_get_without_the_body(answers: Answers) -> None:
    answers.reloads.publish(SITE, [])
    for path in ("/", "/leads/a.html", "/data.json", "/reports", "/nowhere.html", "/__livereload.js"):
        status, headers, _ = answers.request(path)
        assert answers.request(path, "HEAD") == (status, headers, b""), path


def test_a_folder_with_an_index_is_redirected_to_its_slash_as_a_static_server_does(answers: Answers) -> None:
    answers.reloads.publish(SITE, [])
    assert answers.request("/reports") == (301, {"location": "/reports/", "content-length": "0", "cache-control": "no-store"}, b"")
    assert answers.request("/reports?x=1")[1]["location"] == "/reports/?x=1"
    assert answers.request("/reports/")[2] == SERVED % (b"Reports", 1, b"reports")


@pytest.mark.parametrize("path", ["/leads/", "/leads", "/assets/", "/nowhere.html", "/data.json/", "/index.html/x"])
def test_folders_are_never_listed_and_unknown_paths_not_found(answers: Answers, path: str) -> None:
    answers.reloads.publish(SITE, [])
    status, headers, body = answers.request(path)
    assert (status, headers["content-type"]) == (404, "text/html;charset=utf-8")
    assert b"<p>Message: Not in the site.</p>" in body


@pytest.mark.parametrize("path", ["/../config.yaml", "/%2e%2e/config.yaml", "/leads/..%2f..%2fconfig.yaml", "/%2f/etc/passwd", "/a%5cb.html"])
def test_paths_outside_the_site_are_refused(answers: Answers, path: str) -> None:
    answers.reloads.publish(SITE, [])
    status, _, body = answers.request(path)
    assert status == 403 and b"<p>Message: Path outside the site.</p>" in body


def test_a_path_starting_with_two_slashes_is_one_of_the_site(answers: Answers) -> None:
    answers.reloads.publish(SITE, [])
    assert answers.request("//etc/passwd")[0] == 404  # http.server itself makes it /etc/passwd
    assert answers.request("//data.json")[2] == SITE["data.json"]


def test_a_lead_file_named_with_umlauts_and_spaces_is_served_by_its_link(answers: Answers, tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {
        "leads/Müller Bau.md": lead(title="Hallenbau", owner="anna", stage="offer", value=5, expected_close="2026-12-01", next_step="Call")})
    dev = DevSession(root, date(2026, 11, 22))
    assert dev.full_build().ok
    answers.reloads.publish(dev.rendered, [])
    link = quote("leads/Müller Bau.html")
    assert link == "leads/M%C3%BCller%20Bau.html" and f'href="{link}"'.encode() in dev.rendered["leads.html"]
    page = served_page(dev.rendered["leads/Müller Bau.html"], 1)
    assert b"<h1>Hallenbau</h1>" in page and b'<script src="/__livereload.js?build=1" defer></script>' in page
    assert answers.request("/" + link) == (200, {
        "content-type": "text/html; charset=utf-8", "content-length": str(len(page)), "cache-control": "no-store"}, page)


class RebuiltMeanwhile(dict[str, bytes]):
    """A site whose first lookup lets a rebuild publish another one: as if the watcher finished while a request runs."""

    def __init__(self, files: Mapping[str, bytes], reloads: Reloads, next_site: Mapping[str, bytes]) -> None:
        super().__init__(files)
        self.reloads, self.next_site = reloads, next_site

    def __contains__(self, name: object) -> bool:
        if self.reloads.current.files is self:
            self.reloads.publish(self.next_site, [])
        return super().__contains__(name)


def test_a_request_sends_the_site_it_started_with_when_a_rebuild_publishes_meanwhile(answers: Answers) -> None:
    changed = {**SITE, "leads/a.html": PAGE % (b"A", b"lead a, changed")}
    answers.reloads.publish(RebuiltMeanwhile(SITE, answers.reloads, changed), [])
    assert answers.request("/leads/a.html")[2] == SERVED % (b"A", 1, b"lead a")  # build 1's page, and its number
    assert answers.reloads.current.build == 2
    assert answers.request("/leads/a.html")[2] == SERVED % (b"A", 2, b"lead a, changed")


def test_while_invalid_pages_show_the_problems_and_other_files_the_last_good_site(answers: Answers) -> None:
    answers.reloads.publish(SITE, [])
    answers.reloads.publish(SITE, [Problem("leads/a.md", 4, "stage", "unknown stage 'x'")])
    for path in ("/", "/leads/a.html", "/nowhere.html"):
        status, _, body = answers.request(path)
        assert status == 200 and b"<h1>The pipeline has 1 problem</h1>" in body
        assert b'<script src="/__livereload.js?build=2" defer></script>\n</head>' in body
    assert answers.request("/data.json")[2] == SITE["data.json"]


def test_the_built_in_style_sheet_before_any_build_succeeded(answers: Answers) -> None:
    answers.reloads.publish({}, [Problem("config.yaml", 1, "config", "broken")])
    status, headers, body = answers.request("/assets/style.css")
    assert (status, headers["content-type"], body) == (200, "text/css; charset=utf-8", (builtin_templates() / "assets" / "style.css").read_bytes())


def test_garbage_is_collected_once_quiet_not_while_the_browser_reloads(monkeypatch: pytest.MonkeyPatch) -> None:
    collected: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: collected.append(generation) or 0)
    monkeypatch.setattr(serve, "COLLECT_AFTER_SECONDS", 0.05)
    changes: queue.Queue[set[Path]] = queue.Queue()
    changes.put({Path("a.md")})
    changes.put({Path("b.md")})
    assert next_batch(changes) == {Path("a.md"), Path("b.md")} and collected == []  # changes waiting: rebuild at once
    threading.Timer(0.5, changes.put, [{Path("c.md")}]).start()
    started = time.monotonic()
    assert next_batch(changes) == {Path("c.md")} and collected == [1]  # quiet: collected once, then waited
    assert time.monotonic() - started >= 0.45
