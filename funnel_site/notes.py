"""Markdown notes -> safe HTML, and the URL allowlist for links taken from lead files."""

from __future__ import annotations

from typing import Any, Sequence
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
NOTES_TOP_LEVEL = 3  # the lead page uses h1 and h2; the notes' own headings start below them


def safe_url(url: object) -> str | None:
    """``url`` stripped, when its scheme is allowed (or it is relative); otherwise None.

    Control characters and whitespace inside are refused outright: browsers drop tabs and
    newlines before reading the scheme, so ``java\\tscript:`` would still be ``javascript:``.
    """
    if not isinstance(url, str):
        return None
    text = url.strip()
    if not text or any(ord(c) < 0x21 or ord(c) == 0x7F for c in text):
        return None
    try:
        scheme = urlsplit(text).scheme.lower()
    except ValueError:
        return None
    return text if scheme in SAFE_SCHEMES or scheme == "" and ":" not in text.split("/", 1)[0] else None


def is_web_url(text: object) -> bool:
    """True for an absolute http(s) URL that is safe to link."""
    url = safe_url(text)
    return url is not None and urlsplit(url).scheme.lower() in ("http", "https") and bool(urlsplit(url).netloc)


def _validate_link(url: str) -> bool:
    return safe_url(url) is not None


def _make_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.validateLink = _validate_link  # type: ignore[method-assign]
    md.add_render_rule("image", _render_image)
    return md


def _render_image(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """Images from outside the site would leave it (and the CSP blocks them): show them as links."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env) or src
    escape = Markup.escape
    if urlsplit(src).scheme:
        return f'<a href="{escape(src)}">{escape(alt)}</a>'
    return f'<img src="{escape(src)}" alt="{escape(alt)}">'


_PARSER = _make_parser()


def render_notes(text: str) -> Markup:
    """CommonMark + tables, raw HTML shown as text, links only with allowed schemes."""
    tokens = _PARSER.parse(text)
    _shift_headings(tokens)
    _alignment_as_class(tokens)
    return Markup(_PARSER.renderer.render(tokens, _PARSER.options, {}))


def _shift_headings(tokens: list[Token]) -> None:
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    if not levels:
        return
    shift = NOTES_TOP_LEVEL - min(levels)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + shift, 6)}"


def _alignment_as_class(tokens: list[Token]) -> None:
    """Table alignment comes as style="text-align:…"; the CSP forbids inline styles, so use a class."""
    for token in tokens:
        style = token.attrGet("style") if token.type in ("th_open", "td_open") else None
        if isinstance(style, str) and style.startswith("text-align:"):
            token.attrs.pop("style")
            token.attrSet("class", "align-" + style.split(":", 1)[1].strip())
