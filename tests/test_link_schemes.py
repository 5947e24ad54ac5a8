"""``notes._scheme`` reads a URL's scheme as ``urlsplit`` does, and fails where it fails, without splitting the rest."""

from __future__ import annotations

import random
from urllib.parse import urlsplit

import pytest

from funnel_site.notes import _scheme, is_web_url, safe_url

CASES = [
    "", "a", ":", "a:", "1a:b", "+a:b", "mailto:x@y.de", "MailTo:x", "tel:+49301234", "http://example.com/a?b#c",
    "HTTPS://Example.com", "https:", "https:/x", "http:///x", "http://", "//example.com/x", "/a:b", "a/b:c", "a.b+c-d:e",
    "a_b:c", "javascript:alert(1)", "é:x", "http://é.de/", "http://[::1]/", "http://[::1/", "http://::1]/", "mailto://[",
    "http://a\uff03b/", "x:[", "?a:b", "#a:b", "data:text/html,x", "ftp://x", "ab%3a:c",
]


def _split_scheme(text: str) -> str | type[ValueError]:
    try:
        return urlsplit(text).scheme.lower()
    except ValueError:
        return ValueError


def _own_scheme(text: str) -> str | type[ValueError]:
    try:
        return _scheme(text)
    except ValueError:
        return ValueError


def _old_is_web_url(text: object) -> bool:
    url = safe_url(text)
    return url is not None and urlsplit(url).scheme.lower() in ("http", "https") and bool(urlsplit(url).netloc)


@pytest.mark.parametrize("text", CASES)
def test_the_scheme_is_urlsplits(text: str) -> None:
    assert _own_scheme(text) == _split_scheme(text)
    assert is_web_url(text) == _old_is_web_url(text)


def test_the_scheme_is_urlsplits_for_random_texts() -> None:
    rng = random.Random(8)
    alphabet = "aZ09+-._:/?#[]@%é\uff03"
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert _own_scheme(text) == _split_scheme(text), text
        assert is_web_url(text) == _old_is_web_url(text), text
