"""``funnel-site serve``: build, serve on loopback from memory, rebuild on every change, reload the browser."""

from __future__ import annotations

import errno
import gc
import html
import http.server
import mimetypes
import posixpath
import queue
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import parse_qs, unquote

from funnel_site.devsession import DevSession, Outcome
from funnel_site.problems import Problem, UsageError, WorkerDied
from funnel_site.theme import builtin_templates

EVENTS = "/__livereload"
RELOAD_SCRIPT = "/__livereload.js"
# A page names the build it was served from; the stream announces at once a rebuild that came before it connected.
RELOAD_JS = (
    b"const build = new URL(document.currentScript.src).searchParams.get('build');\n"
    b"new EventSource(build === null ? '/__livereload' : '/__livereload?since=' + encodeURIComponent(build))"
    b".addEventListener('reload', () => location.reload());\n"
)
PING_SECONDS = 15.0
COLLECT_AFTER_SECONDS = 1.0  # of quiet after a rebuild: by then the browser's reload was answered
LOOPBACK = ("127.0.0.1", "localhost", "::1")
HTML = "text/html; charset=utf-8"
# The kinds of file a site has (its text is UTF-8); anything else (a pipeline's own assets) as ``mimetypes`` says.
CONTENT_TYPES = {
    ".html": HTML,
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".csv": "text/csv; charset=utf-8",
    ".ics": "text/calendar; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class Published:
    """What the server answers from: one build's number, the last good site's files and the problems that block
    the site (none when this build succeeded). Replaced whole, never changed: a request that reads it once
    sends one build's files, never a mix of two."""

    build: int
    files: Mapping[str, bytes]
    problems: tuple[Problem, ...]


class Reloads:
    """The site being served, replaced after each rebuild; event streams wait for the next one."""

    def __init__(self) -> None:
        self.current = Published(0, MappingProxyType({}), ())
        self.condition = threading.Condition()

    def publish(self, files: Mapping[str, bytes], problems: list[Problem]) -> None:
        with self.condition:
            self.current = Published(self.current.build + 1, files, tuple(problems))
            self.condition.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        with self.condition:
            self.condition.wait_for(lambda: self.current.build != seen, timeout)
            return self.current.build


def problems_page(problems: tuple[Problem, ...]) -> bytes:
    """What the browser shows while the pipeline does not validate; it reloads itself when fixed."""
    items = "\n".join(f"<li><code>{html.escape(str(p))}</code></li>" for p in problems)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'; script-src 'self'; style-src 'self'\">\n"
        "<title>Problems – funnel-site</title>\n<link rel=\"stylesheet\" href=\"/assets/style.css\">\n</head>\n"
        "<body class=\"problems-page\">\n<main>\n"
        f"<h1>The pipeline has {len(problems)} {'problem' if len(problems) == 1 else 'problems'}</h1>\n"
        "<p>Fix the files below and save; this page returns to the dashboard by itself.</p>\n"
        f"<ul class=\"problems\">\n{items}\n</ul>\n</main>\n</body>\n</html>\n"
    ).encode()


def served_page(page: bytes, build: int) -> bytes:
    """The page as the dev server sends it (the site in memory is a normal build's bytes): loading the live-reload
    script, which asks about builds after ``build``, and with a policy that lets the script connect (a built page
    allows no connection at all, ``default-src 'none'``; the first ``connect-src`` of a policy is the one that counts)."""
    page = page.replace(_POLICY, _POLICY + b"connect-src 'self'; ", 1)
    return page.replace(b"</head>", f'<script src="{RELOAD_SCRIPT}?build={build}" defer></script>\n</head>'.encode(), 1)


_POLICY = b'<meta http-equiv="Content-Security-Policy" content="'


def content_type(name: str) -> str:
    suffix = posixpath.splitext(name)[1].lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def locate(files: Mapping[str, bytes], path: str) -> tuple[int, str]:
    """Where a request's path (decoded, inside the site) leads: ``(200, the file's name in the site)``, ``(301,
    the path with a slash)`` for a folder with an index.html, or ``(404, "")``. A folder is never listed."""
    name = path[1:] + "index.html" if path.endswith("/") else path[1:]
    if name in files:
        return 200, name
    if f"{name}/index.html" in files:
        return 301, path + "/"
    return 404, ""


def inside_site(path: str) -> bool:
    return path.startswith("/") and not path.startswith("//") and "\\" not in path and ".." not in path.split("/")


def make_handler(reloads: Reloads, stop: threading.Event) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def end_headers(self) -> None:
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._answer(head=False)

        def do_HEAD(self) -> None:  # noqa: N802
            self._answer(head=True)

        def _answer(self, head: bool) -> None:
            address, _, query = self.path.partition("#")[0].partition("?")
            path = unquote(address)
            if not inside_site(path):
                self.send_error(403, "Path outside the site")
            elif path == EVENTS:
                self._events(query, head)
            elif path == RELOAD_SCRIPT:
                self._send(RELOAD_JS, CONTENT_TYPES[".js"], head)
            else:
                self._file(reloads.current, path, address, query, head)

        def _file(self, site: Published, path: str, address: str, query: str, head: bool) -> None:
            """A file of ``site``, the one snapshot this request reads; a page with the number of its build in
            its reload script's address."""
            if site.problems and path.endswith(("/", ".html")):
                self._send(served_page(problems_page(site.problems), site.build), HTML, head)
                return
            status, name = locate(site.files, path)
            if status == 200:
                body = site.files[name]
                self._send(served_page(body, site.build) if name.endswith(".html") else body, content_type(name), head)
            elif status == 301:  # as a static server does, so that the folder's relative links work
                self.send_response(301)
                self.send_header("Location", address + "/" + (f"?{query}" if query else ""))
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path == "/assets/style.css":  # the problems page's, before any build succeeded
                self._send((builtin_templates() / "assets" / "style.css").read_bytes(), CONTENT_TYPES[".css"], head)
            else:
                self.send_error(404, "Not in the site")

        def _send(self, body: bytes, media_type: str, head: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _events(self, query: str, head: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            if head:
                return
            seen = reloads.current.build
            since = parse_qs(query).get("since", [str(seen)])[0]
            try:
                self.wfile.write(b"retry: 1000\n\n")
                if since != str(seen):  # rebuilt between the page and this stream
                    self.wfile.write(f"event: reload\ndata: {seen}\n\n".encode())
                self.wfile.flush()
                while not stop.is_set():
                    now = reloads.wait(seen, PING_SECONDS)
                    message = f"event: reload\ndata: {now}\n\n" if now != seen else ": ping\n\n"
                    seen = now
                    self.wfile.write(message.encode())
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the tab was closed

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # a request log would drown the rebuild messages

    return Handler


def watch_changes(root: Path, stop: threading.Event, say: Callable[[str], None]) -> Iterator[set[Path]]:
    """Batches of changed paths under config.yaml, leads/ and templates/; falls back to polling."""
    import watchfiles

    def relevant(change: watchfiles.Change, path: str) -> bool:
        # Not resolved: a symlink under leads/ is reported under its own name (and must not kill the watcher).
        relative = Path(path).relative_to(root).as_posix() if Path(path).is_relative_to(root) else ""
        return watchfiles.DefaultFilter()(change, path) and (
            relative == "config.yaml" or relative.startswith(("leads/", "templates/")) or relative in ("leads", "templates")
        )

    options: dict[str, Any] = {"watch_filter": relevant, "stop_event": stop, "debounce": 1600, "step": 10, "yield_on_timeout": False}
    try:
        for changes in watchfiles.watch(root, **options):
            yield {Path(path) for _, path in changes}
    except OSError as error:
        if "watch limit" not in str(error):
            raise
        say("The OS file watch limit is reached; watching by polling instead (slower). To raise the limit:\n"
            "  sudo sysctl fs.inotify.max_user_watches=524288")
        for changes in watchfiles.watch(root, force_polling=True, poll_delay_ms=300, **options):
            yield {Path(path) for _, path in changes}


def report(outcome: Outcome, seconds: float, say: Callable[[str], None]) -> None:
    if outcome.ok:
        say(f"rebuilt in {seconds * 1000:.0f} ms: {outcome.changed} changed, {outcome.removed} removed")
    else:
        say("\n".join(str(p) for p in outcome.problems) + f"\nthe browser shows these {len(outcome.problems)} problems until they are fixed")


def serve(root: Path, host: str, port: int, today: date) -> int:
    """Serve until Ctrl-C. Returns the exit code."""
    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    root = root.resolve()
    session, reloads, stop = DevSession(root, today), Reloads(), threading.Event()
    changes: queue.Queue[set[Path]] = queue.Queue()
    # Watch before the first build, so an edit saved while it runs is not missed.
    threading.Thread(target=_watch_into, args=(root, stop, changes, say), daemon=True).start()
    try:
        rebuild(session, reloads, say, session.full_build, first=True)
        server = _listen(host, port, reloads, stop)
        say(f"Serving {root} at http://{'[' + host + ']' if ':' in host else host}:{server.server_address[1]}/ (Ctrl-C to stop)")
        if host not in LOOPBACK:
            say(f"warning: serving on {host}, not loopback: anyone who can reach this machine can read the pipeline")
        try:
            while True:
                batch = next_batch(changes)
                rebuild(session, reloads, say, lambda: session.apply(batch))
        finally:
            server.shutdown()
            server.server_close()
    except KeyboardInterrupt:
        say("stopped")
    finally:
        stop.set()
    return 0


def rebuild(session: DevSession, reloads: Reloads, say: Callable[[str], None], step: Callable[[], Outcome], first: bool = False) -> None:
    """One build step and what it tells the terminal and the browsers.

    A parse worker killed during a later full build (the out-of-memory killer, a crash in a C extension) is reported,
    and the server goes on serving the last site; the next saved file builds everything again. Without a first site
    there is nothing to serve: ``serve`` ends (exit code 2), as ``build`` does.
    """
    started = time.perf_counter()
    try:
        outcome = step()
    except WorkerDied as error:
        if first:
            raise
        session.project = None  # whatever the step had read is unknown: the next change reads everything
        say(f"error: {error}; still serving the last site; save a file to build again")
        return
    reloads.publish(session.rendered, outcome.problems)
    report(outcome, time.perf_counter() - started, say)


def next_batch(changes: queue.Queue[set[Path]]) -> set[Path]:
    """The next batch of changed paths with all that came meanwhile. Once nothing came for ``COLLECT_AFTER_SECONDS``
    after a rebuild, its garbage is collected first: not during the next rebuild, and not right after the reload
    event, when the browser asks for the page (a collection holds the interpreter lock, ~20 ms at 10k leads)."""
    try:
        batch = changes.get(timeout=COLLECT_AFTER_SECONDS)
    except queue.Empty:
        gc.collect(1)
        batch = changes.get()
    while not changes.empty():
        batch |= changes.get_nowait()
    return batch


def _watch_into(root: Path, stop: threading.Event, changes: queue.Queue[set[Path]], say: Callable[[str], None]) -> None:
    for batch in watch_changes(root, stop, say):
        changes.put(batch)


def _listen(host: str, port: int, reloads: Reloads, stop: threading.Event) -> http.server.ThreadingHTTPServer:
    try:
        server = http.server.ThreadingHTTPServer((host, port), make_handler(reloads, stop))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} is already in use on {host}; choose another with --port") from None
        raise UsageError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
