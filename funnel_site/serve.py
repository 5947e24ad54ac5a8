"""``funnel-site serve``: build, serve on loopback, rebuild on every change, reload the browser."""

from __future__ import annotations

import errno
import gc
import html
import http.server
import queue
import shutil
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs, urlsplit

from funnel_site.devsession import RELOAD_SCRIPT, DevSession, Outcome
from funnel_site.problems import Problem, UsageError
from funnel_site.theme import builtin_templates

EVENTS = "/__livereload"
# A page names the build it was served from; the stream announces at once a rebuild that came before it connected.
RELOAD_JS = (
    b"const build = new URL(document.currentScript.src).searchParams.get('build');\n"
    b"new EventSource(build === null ? '/__livereload' : '/__livereload?since=' + encodeURIComponent(build))"
    b".addEventListener('reload', () => location.reload());\n"
)
PING_SECONDS = 15.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Reloads:
    """A counter the watcher bumps after each rebuild; event streams wait on it."""

    def __init__(self) -> None:
        self.generation = 0
        self.condition = threading.Condition()
        self.problems: list[Problem] = []

    def publish(self, outcome: Outcome) -> None:
        with self.condition:
            self.problems = outcome.problems
            self.generation += 1
            self.condition.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        with self.condition:
            self.condition.wait_for(lambda: self.generation != seen, timeout)
            return self.generation


def problems_page(problems: list[Problem]) -> bytes:
    """What the browser shows while the pipeline does not validate; it reloads itself when fixed."""
    items = "\n".join(f"<li><code>{html.escape(str(p))}</code></li>" for p in problems)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'; script-src 'self'; style-src 'self'\">\n"
        "<title>Problems – funnel-site</title>\n<link rel=\"stylesheet\" href=\"/assets/style.css\">\n"
        f"<script src=\"{RELOAD_SCRIPT}\" defer></script>\n</head>\n<body class=\"problems-page\">\n<main>\n"
        f"<h1>The pipeline has {len(problems)} {'problem' if len(problems) == 1 else 'problems'}</h1>\n"
        "<p>Fix the files below and save; this page returns to the dashboard by itself.</p>\n"
        f"<ul class=\"problems\">\n{items}\n</ul>\n</main>\n</body>\n</html>\n"
    ).encode()


def stamped(page: bytes, build: int) -> bytes:
    """The page with its reload script asking about builds after ``build``."""
    return page.replace(_SCRIPT_SRC, _SCRIPT_SRC[:-1] + f'?build={build}"'.encode(), 1)


_SCRIPT_SRC = f'<script src="{RELOAD_SCRIPT}"'.encode()


def make_handler(out: Path, reloads: Reloads, stop: threading.Event) -> type[http.server.SimpleHTTPRequestHandler]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(out), **kwargs)

        def end_headers(self) -> None:
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = self.path.split("?", 1)[0].split("#", 1)[0]
            if ".." in path.split("/") or "\\" in path or not path.startswith("/") or path.startswith("//"):
                self.send_error(403, "Path outside the site")
            elif path == EVENTS:
                self._events()
            elif path == RELOAD_SCRIPT:
                self._send(RELOAD_JS, "text/javascript; charset=utf-8")
            elif path.endswith("/") or path.endswith(".html"):
                self._page(path)
            elif path == "/assets/style.css" and not (out / "assets" / "style.css").is_file():
                self._send((builtin_templates() / "assets" / "style.css").read_bytes(), "text/css")
            else:
                super().do_GET()

        def _page(self, path: str) -> None:
            """A page with the number of the build it shows in its reload script's address.

            The number is read before the file: files are written before their build is announced, so the
            page is at least that build (a page already newer only reloads once more).
            """
            build, problems = reloads.generation, reloads.problems
            if problems:
                self._send(stamped(problems_page(problems), build), "text/html; charset=utf-8")
                return
            file = Path(self.translate_path(path))
            if file.is_dir():
                file = file / "index.html"
            try:
                body = file.read_bytes()
            except OSError:
                super().do_GET()  # its 404 or redirect
                return
            self._send(stamped(body, build), "text/html; charset=utf-8")

        def _send(self, body: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _events(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            seen = reloads.generation
            since = parse_qs(urlsplit(self.path).query).get("since", [str(seen)])[0]
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
        say(f"rebuilt in {seconds * 1000:.0f} ms: {outcome.written} written, {outcome.removed} removed")
    else:
        say("\n".join(str(p) for p in outcome.problems) + f"\nthe browser shows these {len(outcome.problems)} problems until they are fixed")


def serve(root: Path, host: str, port: int, today: date) -> int:
    """Serve until Ctrl-C. Returns the exit code."""
    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    root = root.resolve()
    out = Path(tempfile.mkdtemp(prefix="funnel-site-serve-"))
    session, reloads, stop = DevSession(root, out, today), Reloads(), threading.Event()
    changes: queue.Queue[set[Path]] = queue.Queue()
    # Watch before the first build, so an edit saved while it runs is not missed.
    threading.Thread(target=_watch_into, args=(root, stop, changes, say), daemon=True).start()
    try:
        rebuild(session, reloads, say, session.full_build)
        server = _listen(host, port, out, reloads, stop)
        say(f"Serving {root} at http://{'[' + host + ']' if ':' in host else host}:{server.server_address[1]}/ (Ctrl-C to stop)")
        if host not in LOOPBACK:
            say(f"warning: serving on {host}, not loopback: anyone who can reach this machine can read the pipeline")
        try:
            while True:
                batch = changes.get()
                while not changes.empty():
                    batch |= changes.get_nowait()
                rebuild(session, reloads, say, lambda: session.apply(batch))
        finally:
            server.shutdown()
            server.server_close()
    except KeyboardInterrupt:
        say("stopped")
    finally:
        stop.set()
        shutil.rmtree(out, ignore_errors=True)
    return 0


def rebuild(session: DevSession, reloads: Reloads, say: Callable[[str], None], step: Callable[[], Outcome]) -> None:
    started = time.perf_counter()
    outcome = step()
    reloads.publish(outcome)
    report(outcome, time.perf_counter() - started, say)
    session.release()
    gc.collect(1)  # the rebuild's garbage, while the browser reloads rather than during the next rebuild


def _watch_into(root: Path, stop: threading.Event, changes: queue.Queue[set[Path]], say: Callable[[str], None]) -> None:
    for batch in watch_changes(root, stop, say):
        changes.put(batch)


def _listen(host: str, port: int, out: Path, reloads: Reloads, stop: threading.Event) -> http.server.ThreadingHTTPServer:
    try:
        server = http.server.ThreadingHTTPServer((host, port), make_handler(out, reloads, stop))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} is already in use on {host}; choose another with --port") from None
        raise UsageError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
