"""Hostile text in every front-matter field, in config values and in notes stays inert in the built HTML.

Static checks on every page of the build; the real-browser "no dialog fires" test lives with the
dashboard's browser tests.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from conftest import TODAY, write_project

SCRIPT = "<script>alert('xss')</script>"
ATTR = "\"><img src=x onerror=alert('xss')>"
SINGLE = "' onmouseover='alert(1)' x='"
UNQUOTED = "x autofocus onfocus=alert(1)"
SVG = "</title><svg onload=alert(1)>"
JS_URL = "javascript:alert(1)"
ALL = " ".join([SCRIPT, ATTR, SINGLE, UNQUOTED, SVG])


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


CONFIG = "\n".join([
    f"title: {quoted(ALL)}",
    "currency: EUR",
    "locale: de_DE",
    "stages:",
    f"  - {{id: lead, name: {quoted(SCRIPT)}, probability: 10}}",
    f"  - {{id: offer, name: {quoted(ATTR)}, probability: 50}}",
    f"  - {{id: deal, name: {quoted(SVG)}, probability: 80}}",
    "team:",
    f"  - {{id: anna, name: {quoted(SCRIPT + ' Anna')}, email: {quoted(JS_URL)}, role: manager}}",
    f"  - {{id: ben, name: {quoted(ATTR)}, email: {quoted(ATTR + '@x.example')}}}",
    f"sources: [{quoted(SCRIPT)}, {quoted(UNQUOTED)}]",
    f"qualification: [{quoted(SVG)}, budget]",
    "exchange_rates: {USD: 0.9}",
    "targets: {2026-Q4: 1000}",
    f"repo_url: {quoted('https://git.example/' + ATTR.replace(' ', ''))}",
    f"edit_url: {quoted('https://git.example/edit/' + SCRIPT.replace(' ', ''))}",
    "",
])

NOTES = f"""\
# {SCRIPT}

{SCRIPT}
<img src=x onerror=alert(1)>
<a href="javascript:alert(1)">raw html link</a>

[click]({JS_URL}) [data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
[vb](vbscript:msgbox(1)) [case](JaVaScRiPt:alert(1)) [entity](javascript&#58;alert(1))
![img](javascript:alert(1)) <javascript:alert(1)> [ref][r]

[r]: javascript:alert(1) "{ATTR.replace('"', '')}"

`{SCRIPT}` and **{ATTR}** {{{{7*7}}}}
"""


def lead(fields: str) -> str:
    return f"---\n{fields}---\n{NOTES}"


def hostile_fields(status: str) -> str:
    common = (
        f"title: {quoted(ALL)}\n"
        f"company: {quoted(ATTR)}\n"
        f"contact:\n  - {{name: {quoted(SCRIPT)}, email: {quoted(JS_URL)}, phone: {quoted(ATTR)}, role: {quoted(SVG)}}}\n"
        f"next_step: {quoted(SINGLE)}\n"
        f"source: {quoted(SCRIPT)}\n"
        f"tags: [{quoted(SCRIPT)}, {quoted(UNQUOTED)}]\n"
        f"qualification: {{{quoted(SVG)}: true, budget: false}}\n"
        f"website: {quoted(JS_URL)}\n"
        f"{quoted(SCRIPT)}: {quoted(ATTR)}\n"
        f"custom_list: [{quoted(SVG)}, {{k: {quoted(SCRIPT)}}}]\n"
        f"created: 2026-09-01\nlast_contact: 2026-10-01\nfollow_up: 2026-11-01\n"
    )
    owner = "anna" if status != "won" else "ben"
    specific = {
        "active": "stage: offer\nvalue: 1000\nexpected_close: 2026-12-01\nhistory:\n  - {date: 2026-09-01, stage: lead}\n",
        "won": "value: 500\ncurrency: USD\nclosed_on: 2026-10-15\n",
        "lost": f"closed_on: 2026-10-20\nreason: {quoted(SCRIPT + ATTR)}\n",
        "cancelled": f"closed_on: 2026-10-21\nreason: {quoted(SVG)}\n",
        "potential": "",
    }[status]
    return f"owner: {owner}\nstatus: {status}\n{common}{specific}"


class Page(HTMLParser):
    """Every start tag with its attributes, and the text of inline scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("xss")
    files: dict[str, str | bytes] = {f"leads/{status}.md": lead(hostile_fields(status))
                                     for status in ("active", "won", "lost", "cancelled", "potential")}
    files["leads/\"><img src=x onerror=alert(1)>.md"] = lead(hostile_fields("active"))
    root = write_project(base / "pipeline", files, config=CONFIG)
    from funnel_site.cli import main

    assert main(["build", str(root), "-o", str(base / "site"), "--today", TODAY]) == 0
    pages = {p.relative_to(base / "site").as_posix(): p.read_text() for p in sorted((base / "site").rglob("*.html"))}
    assert len(pages) >= 5
    return pages


def test_payloads_are_rendered_as_text(site: dict[str, str]) -> None:
    """The hostile values did reach the pages (escaped): otherwise the other tests would prove nothing."""
    everything = "\n".join(site.values())
    assert "&lt;script&gt;alert(" in everything
    assert "&lt;svg onload=alert(1)&gt;" in everything
    assert any("onerror" in page and "&lt;img" in page for name, page in site.items() if name.startswith("leads/"))


def test_no_inline_scripts_and_only_own_script_files(site: dict[str, str]) -> None:
    for name, html in site.items():
        page = Page()
        page.feed(html)
        assert page.inline_scripts == [], name
        for tag, attrs in page.tags:
            if tag == "script":
                source = attrs.get("src") or ""
                assert re.fullmatch(r"(\.\./)*assets/[\w.-]+\.js", source), (name, attrs)


def test_no_event_handler_attributes(site: dict[str, str]) -> None:
    for name, html in site.items():
        page = Page()
        page.feed(html)
        handlers = [(tag, key) for tag, attrs in page.tags for key in attrs if key.lower().startswith("on")]
        assert handlers == [], name


def test_no_dangerous_urls_in_links_or_sources(site: dict[str, str]) -> None:
    for name, html in site.items():
        page = Page()
        page.feed(html)
        for tag, attrs in page.tags:
            for key in ("href", "src", "action", "formaction", "xlink:href", "data", "poster"):
                value = re.sub(r"[\x00-\x20]", "", (attrs.get(key) or "")).lower()
                assert not value.startswith(("javascript:", "vbscript:", "data:text")), (name, tag, attrs)


def test_no_tags_made_from_data(site: dict[str, str]) -> None:
    for name, html in site.items():
        page = Page()
        page.feed(html)
        made = [(tag, attrs) for tag, attrs in page.tags
                if tag in ("iframe", "object", "embed", "base", "frame")
                or (tag == "form" and "action" in attrs)
                or (tag == "meta" and attrs.get("http-equiv") not in (None, "Content-Security-Policy"))
                or (tag == "img" and attrs.get("src") == "x")]
        assert made == [], name


def test_every_page_has_the_content_security_policy(site: dict[str, str]) -> None:
    for name, html in site.items():
        assert re.search(r'<meta http-equiv="Content-Security-Policy" content="[^"]*script-src \'self\'', html), name
