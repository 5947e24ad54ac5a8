"""Markdown notes -> safe HTML, and the URL allowlist for links taken from lead files."""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Sequence
from urllib.parse import urlsplit

from markupsafe import Markup

if TYPE_CHECKING:  # the reference parser is imported when first needed (_reference_parser)
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

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


@cache
def _reference_parser() -> MarkdownIt:
    """markdown-it-py, made when a body first needs it: with markdown-it-pyrs most builds never do, and importing it
    costs every build's serial start 20-40 ms (import of notes.py: 52 -> 11 ms, busy machine)."""
    from markdown_it import MarkdownIt

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


NOTES_MEMO = 1 << 14  # rendered notes kept per process: serve and split builds render the same bodies again


@lru_cache(maxsize=NOTES_MEMO)
def render_notes(text: str) -> Markup:
    """CommonMark + tables, raw HTML shown as text, links only with allowed schemes."""
    fast = render_fast(text) if _FAST is not None else None
    return Markup(fast if fast is not None else render_reference(text))


def render_reference(text: str) -> str:
    """The reference rendering with markdown-it-py and the rules above."""
    parser = _reference_parser()
    tokens = parser.parse(text)
    _shift_headings(tokens)
    _alignment_as_class(tokens)
    return parser.renderer.render(tokens, parser.options, {})


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
_HEADING_LEVEL = re.compile(r"<h([1-6])>")
_IMAGE = re.compile(r'<img src="([^"]*)" alt="([^"]*)"(?: title="[^"]*")? />')
# what markdown-it-pyrs leaves out of an image's alt text, where markdown-it-py keeps it: entities, backslash
# escapes, autolinks and hard line breaks; a body with images and any of their marks goes to the reference
_ALT_TEXT_PYRS_DROPS = re.compile(r"[&\\<]|  [\r\n]")
_LINK_MEMO = 1 << 12  # distinct URLs checked per process: a project's notes link the same few pages again and again


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
    one with a non-ASCII URL (the two normalise those differently) or an image whose alt text pyrs shortens.
    So is one the two read differently in other ways: a reference definition (``[x]: url``: pyrs takes one with a
    refused link as a definition, markdown-it-py keeps it as text), U+2028 or U+2029 (markdown-it-py strips them
    at a line's end) and an empty blockquote (pyrs writes a newline inside it).

    The HTML is searched with str methods where they can do it: the notes are mostly not ASCII, and over such
    text a regular expression is several times slower than ``str.split`` or ``in`` (10k corpus: our share of a
    body 75k -> 43k instructions, besides the Rust's 275k).
    """
    if "]:" in text or "\u2028" in text or "\u2029" in text:
        return None
    try:
        html = _FAST.render(text)
    except Exception:  # a panic in the extension must not lose the notes: the reference renders them
        return None
    if "<blockquote>\n</blockquote>" in html:
        return None
    links, images = _attribute_values(html, "href"), _attribute_values(html, "src")  # every image has a src
    if not all(map(_same_link_both_ways, links + images)):
        return None
    if images:
        if _ALT_TEXT_PYRS_DROPS.search(text):
            return None
        count = html.count("<img ")
        html, replaced = _IMAGE.subn(_image_html, html)
        if replaced != count:  # an image in a shape this pattern does not know
            return None
    return _shift_heading_tags(html).replace(' style="text-align:', ' class="align-')


def _attribute_values(html: str, name: str) -> list[str]:
    """The values of every ``name="…"`` attribute in generated HTML (a value holds no quote unescaped)."""
    marker = f' {name}="'
    return [value.partition('"')[0] for value in html.split(marker)[1:]] if marker in html else []


@lru_cache(maxsize=_LINK_MEMO)
def _same_link_both_ways(url: str) -> bool:
    """True when markdown-it-py would write this href or src (as escaped by pyrs) the same: a link the allowlist
    accepts, without percent-escapes (markdown-it-py writes a non-ASCII host in punycode, pyrs escapes it)."""
    return "%" not in url and _validate_link(_unescape(url))


def _shift_heading_tags(html: str) -> str:
    """``_shift_headings`` on the HTML. ``>`` is escaped everywhere but in the generated tags, so ``hN>`` only
    ever ends the tags ``<hN>`` and ``</hN>``: one replace shifts both."""
    levels = set(_HEADING_LEVEL.findall(html))
    for level, old, new in _HEADING_SHIFTS[min(levels)] if levels else ():
        if level in levels:
            html = html.replace(old, new)
    return html


def _heading_shifts(top: int) -> tuple[tuple[str, str, str], ...]:
    """What ``_shift_heading_tags`` replaces in notes whose highest heading is ``h<top>``: (level, ``hN>``, ``hM>``)
    for each level that moves, moving away from the levels already done, so that no tag is shifted twice."""
    shift = NOTES_TOP_LEVEL - top
    order = range(6, top - 1, -1) if shift > 0 else range(top, 7)
    return tuple((str(level), f"h{level}>", f"h{min(level + shift, 6)}>") for level in order if min(level + shift, 6) != level)


_HEADING_SHIFTS = {str(top): _heading_shifts(top) for top in range(1, 7)}  # by the digit of the highest level


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
