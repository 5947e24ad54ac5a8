"""Real-browser helpers: the system Chromium via Playwright, a loopback server, axe-core, no network."""

from __future__ import annotations

import functools
import http.server
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

CHROMIUM = os.environ.get("FUNNEL_SITE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on a free 127.0.0.1 port for the duration of the generator."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@dataclass
class Watch:
    """What a page did: console errors, page errors, dialogs, and requests that tried to leave the site."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def clean(self) -> bool:
        return not (self.console_errors or self.page_errors or self.dialogs or self.outside)


def is_inside(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "file" or (parts.scheme in ("http", "https") and parts.hostname == "127.0.0.1") or parts.scheme in ("data", "about")


def watched_page(context: Any) -> tuple[Any, Watch]:
    """A new page whose requests leaving the site are aborted and recorded, and whose errors are kept."""
    page = context.new_page()
    watch = Watch()

    def route(route: Any) -> None:
        if is_inside(route.request.url):
            route.continue_()
        else:
            watch.outside.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    page.on("console", lambda message: watch.console_errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: watch.page_errors.append(str(error)))

    def dialog(d: Any) -> None:
        watch.dialogs.append(f"{d.type}: {d.message}")
        d.dismiss()

    page.on("dialog", dialog)
    return page, watch


def axe_source() -> str:
    """axe-core as bundled by axe-playwright-python (offline)."""
    import axe_playwright_python  # noqa: PLC0415 - only the browser tests need it

    path = Path(axe_playwright_python.__file__).parent / "axe.min.js"
    return path.read_text(encoding="utf-8")


def serious_violations(page: Any, source: str) -> list[str]:
    """axe-core violations with impact serious or critical, as 'rule: target' lines."""
    page.evaluate(source)  # evaluate, not add_script_tag: the page's CSP would block an injected tag
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}, resultTypes: ['violations']})"
    )
    found = []
    for violation in result["violations"]:
        if violation["impact"] in ("serious", "critical"):
            for node in violation["nodes"]:
                found.append(f"{violation['id']} ({violation['impact']}): {node['target']} {node.get('failureSummary', '')}")
    return found
