"""Markdown notes -> safe HTML, and the URL allowlist for links taken from lead files."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Sequence
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

try:  # the optional extra funnel-site[fast]: the Rust port of markdown-it, 16x faster, same HTML
    import markdown_it_pyrs
except ImportError:  # pragma: no cover - exercised where the extra is not installed
    markdown_it_pyrs = None

SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
NOTES_TOP_LEVEL = 3  # the lead page uses h1 and h2; the notes' own headings start below them
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")  # urlsplit's: a letter, then scheme_chars, up to the first colon


def safe_url(url: object) -> str | None:
    """``url`` stripped, when its scheme is allowed (or it is relative); otherwise None.

    Control characters and whitespace inside are refused outright: browsers drop tabs and
    newlines before reading the scheme, so ``java\\tscript:`` would still be ``javascript:``.
    """
    if not isinstance(url, str):
        return None
    text = url.strip()
    if not text or _CONTROL_OR_SPACE.search(text):
        return None
    try:
        scheme = _scheme(text)
    except ValueError:
        return None
    return text if scheme in SAFE_SCHEMES or scheme == "" and ":" not in text.split("/", 1)[0] else None


def _scheme(text: str) -> str:
    """``urlsplit(text).scheme.lower()`` for a text without whitespace or control characters, without splitting the
    rest (a lead page checks a dozen values). urlsplit raises ValueError only over a bracketed or non-ASCII host,
    so such a text is still split."""
    if not text.isascii() or "[" in text or "]" in text:
        return urlsplit(text).scheme.lower()
    match = _SCHEME.match(text)
    return match[1].lower() if match else ""


def is_web_url(text: object) -> bool:
    """True for an absolute http(s) URL that is safe to link."""
    url = safe_url(text)
    return url is not None and _scheme(url) in ("http", "https") and bool(urlsplit(url).netloc)


MAIL_KEYS = ("email", "e-mail", "mail")
PHONE_KEYS = ("phone", "mobile", "tel", "telefon", "mobil", "handy")


def contact_url(key: object, value: object) -> str | None:
    """The link of one contact entry: ``mailto:`` under an e-mail key, ``tel:`` (spaces, slashes and
    brackets dropped) under a phone key, when the allowlist accepts it; otherwise None."""
    kind = str(key).lower()
    if kind in MAIL_KEYS:
        return safe_url(f"mailto:{value}")
    if kind in PHONE_KEYS:
        return safe_url("tel:" + str(value).replace(" ", "").replace("/", "").replace("(", "").replace(")", ""))
    return None


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
NOTES_MEMO = 1 << 14  # rendered notes kept per process: serve and split builds render the same bodies again


@lru_cache(maxsize=NOTES_MEMO)
def render_notes(text: str) -> Markup:
    """CommonMark + tables, raw HTML shown as text, links only with allowed schemes."""
    fast = render_fast(text) if _FAST is not None else None
    return Markup(fast if fast is not None else render_reference(text))


def render_reference(text: str) -> str:
    """The reference rendering with markdown-it-py and the rules above."""
    tokens = _PARSER.parse(text)
    _shift_headings(tokens)
    _alignment_as_class(tokens)
    return _PARSER.renderer.render(tokens, _PARSER.options, {})


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


# The fast path: markdown-it-pyrs renders CommonMark without raw HTML, then the rules above are applied to
# its HTML. That is safe to do with patterns because raw HTML is off: every tag in the output was generated,
# and text or attribute values cannot contain a quote or an angle bracket unescaped.
_FAST_RULES = (
    "blockquote", "code", "fence", "heading", "hr", "lheading", "list", "paragraph", "reference",
    "autolink", "backticks", "emphasis", "entity", "escape", "image", "link", "newline", "table",
)
_URL_ATTRIBUTE = re.compile(r' (?:href|src)="([^"]*)"')
_HEADING_LEVEL = re.compile(r"<h([1-6])>")
_IMAGE = re.compile(r'<img src="([^"]*)" alt="([^"]*)"(?: title="[^"]*")? />')


def _make_fast_parser() -> Any:
    if markdown_it_pyrs is None:
        return None
    md = markdown_it_pyrs.MarkdownIt("zero")
    for rule in _FAST_RULES:
        md.enable(rule)
    return md


_FAST = _make_fast_parser()


def render_fast(text: str) -> str | None:
    """The same HTML as ``render_reference``, or None where this path cannot promise that.

    markdown-it-pyrs has no link validator to plug in; a link or image our allowlist refuses must stay
    Markdown text, which only the reference parser does, so such a body is handed back to it, as is
    one with a non-ASCII URL (the two normalise those differently).
    """
    try:
        html = _FAST.render(text)
    except Exception:  # a panic in the extension must not lose the notes: the reference renders them
        return None
    urls = _URL_ATTRIBUTE.findall(html)
    if any("%" in url for url in urls) or not all(_validate_link(_unescape(url)) for url in urls):
        return None  # percent-escapes: markdown-it-py writes a non-ASCII host in punycode, pyrs escapes it
    images = html.count("<img ")
    if images:
        html, replaced = _IMAGE.subn(_image_html, html)
        if replaced != images:  # an image in a shape this pattern does not know
            return None
    return _shift_heading_tags(html).replace(' style="text-align:', ' class="align-')


def _shift_heading_tags(html: str) -> str:
    """``_shift_headings`` on the HTML: ``<hN>`` and ``</hN>`` only ever appear as the generated tags.

    Level by level, moving away from the levels already done, so that no tag is shifted twice.
    """
    present = sorted(set(map(int, _HEADING_LEVEL.findall(html))))  # one pass: notes are mostly not ASCII, slow to search
    if not present or present[0] == NOTES_TOP_LEVEL:
        return html
    shift = NOTES_TOP_LEVEL - present[0]
    for level in reversed(present) if shift > 0 else present:
        new = min(level + shift, 6)
        if new != level:
            html = html.replace(f"<h{level}>", f"<h{new}>").replace(f"</h{level}>", f"</h{new}>")
    return html


def _unescape(value: str) -> str:
    """Undo markdown-it's escapeHtml (exactly these four entities)."""
    return value.replace("&quot;", '"').replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&")


def _image_html(match: re.Match[str]) -> str:
    """``_render_image`` applied to an image markdown-it-pyrs rendered (its title is dropped there too)."""
    src, alt = _unescape(match[1]), _unescape(match[2])
    alt = alt or src
    escape = Markup.escape
    if urlsplit(src).scheme:
        return f'<a href="{escape(src)}">{escape(alt)}</a>'
    return f'<img src="{escape(src)}" alt="{escape(alt)}">'
