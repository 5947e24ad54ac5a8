"""The fast notes path (markdown-it-pyrs, then our rules applied to its HTML with str methods) against the reference
(markdown-it-py with the rules on its tokens): the same bytes, or None where it cannot promise them."""

from __future__ import annotations

from itertools import combinations, product

import pytest

from funnel_site import notes

pytestmark = pytest.mark.skipif(notes._FAST is None, reason="markdown-it-pyrs (funnel-site[fast]) is not installed")

LEVEL_SETS = [levels for size in range(1, 7) for levels in combinations(range(1, 7), size)]


def _heading(level: int, setext: bool) -> str:
    title = f"H{level} `<h{level}>` h{level}&gt; h{level}>"  # tag-like text in a code span, as an entity and plain
    if setext and level <= 2:
        return f"{title}\n{'=-'[level - 1] * 3}"
    return f"{'#' * level} {title}"


@pytest.mark.parametrize("levels", LEVEL_SETS, ids=lambda levels: "h" + "".join(map(str, levels)))
def test_headings_of_every_set_of_levels_shift_the_same_on_both_paths(levels: tuple[int, ...]) -> None:
    for order, setext in product((levels, levels[::-1]), (False, True)):
        text = "\n\n".join(f"{_heading(level, setext)}\n\ntext {level}" for level in order) + "\n"
        assert notes.render_fast(text) == notes.render_reference(text), text


def test_the_highest_heading_becomes_h3_and_the_others_follow_it_up_to_h6() -> None:
    assert notes.render_fast("# a\n\n#### b\n\n###### c\n") == "<h3>a</h3>\n<h6>b</h6>\n<h6>c</h6>\n"
    assert notes.render_fast("##### a\n\n###### b\n") == "<h3>a</h3>\n<h4>b</h4>\n"
    assert notes.render_fast("### `h3>` h4>\n\n#### b\n") == "<h3><code>h3&gt;</code> h4&gt;</h3>\n<h4>b</h4>\n"


ALIGNMENTS = {"": "---", "left": ":--", "center": ":-:", "right": "--:"}


@pytest.mark.parametrize("first, second", list(product(ALIGNMENTS, repeat=2)))
def test_table_alignment_becomes_a_class_on_both_paths(first: str, second: str) -> None:
    text = f"| a | b |\n|{ALIGNMENTS[first]}|{ALIGNMENTS[second]}|\n| 1 | `style=\"text-align:{first or 'x'}\"` |\n"
    fast = notes.render_fast(text)
    assert fast == notes.render_reference(text)
    assert fast is not None and "style=" not in fast.replace('<code>style=&quot;', "")


TAG_LIKE_TEXT = [
    'Text with h2> and </h2> and <h2> in it, href="x" src="y" style="text-align:left"\n',
    '`<h2>` `</h3>` ` href="javascript:x"` ` src="a.png"` ` style="text-align:right"` `<img src="a" alt="b" />`\n',
    '```\n<h1>x</h1>\n<a href="javascript:alert(1)">y</a>\n<img src="p.png" alt="q" />\n<td style="text-align:left">\n```\n',
    '[t](https://example.com "title h2> href=&quot;javascript:x&quot;")\n',
    '![alt src="x" h2>](p.png "t src=\'y\'") ![b href="y"](https://example.com/b.png)\n',
    '# h2> `h3>`\n\n[a](https://example.com/ "h2>")\n',
    '```h2> href="x"\ncode\n```\n\n## after a fence whose info string looks like a tag\n',
]


IMAGES_AND_LINKS = [
    "![local](img/logo.png)\n",
    "![](pic.png)\n",  # no alt: the src stands in
    '![t](pic.png "Title")\n',
    '![ext](https://example.com/a.png "T")\n',  # remote: shown as a link
    "[![inner](i.png)](https://example.com) [![outer](https://example.com/o.png)](rel.html)\n",
    "![a \"b\" *c*](ab.png) ![x](https://example.com/?a=1)\n",
    "![one](1.png) text ![two](https://example.com/2.png) ![three](3.png)\n",
    "[a](https://example.com/a) [b](https://example.com/a) [c](mailto:x@example.com) [d](tel:+49301234)\n",
    "see ![img](javascript:alert(1)) and [bad](vbscript:x)\n",  # refused by markdown-it-pyrs itself: text on both paths
]


@pytest.mark.parametrize("text", TAG_LIKE_TEXT + IMAGES_AND_LINKS)
def test_tag_like_text_images_and_allowed_links_render_the_same_on_the_fast_path(text: str) -> None:
    """Tag-like text stays escaped text; images and allowed links come out as the reference writes them."""
    fast = notes.render_fast(text)
    assert fast is not None
    assert fast == notes.render_reference(text)


HANDED_TO_THE_REFERENCE = [
    "[f](ftp://example.com)\n",
    "![img](custom:thing)\n",  # a refused image source
    "[ok](https://example.com) and [bad](ftp://x.example)\n",  # one refused link among allowed ones
    "[p](https://example.com/%7Euser)\n",  # percent-escapes
    "[uml](https://bücher.example/ä)\n",  # non-ASCII: escaped by pyrs
    "<https://bücher.example/>\n",
    # an image's alt text where markdown-it-pyrs leaves out what markdown-it-py keeps
    "![a &amp; b](p.png)\n",
    "![&copy; &#35;](https://example.com/p.png)\n",
    "![a \\* b](p.png)\n",
    "![<https://example.com>](p.png)\n",
    "![hard  \nbreak](p.png)\n",
    "![hard\\\nbreak](p.png)\n",
    "![plain](p.png) and elsewhere &amp;\n",  # the test looks at the whole body
    # what the two read differently besides links and images
    "[ref]: ftp://x\n",  # a definition with a refused link: text for markdown-it-py, taken by pyrs
    "[a]: <ftp://x>\n",
    "> [ref]: ftp://x\n",
    "[x]\n\n[x]: https://example.com\n",  # an allowed one too: every body with a definition
    "line \u2028\n",  # stripped at a line's end by markdown-it-py
    "a\u2029b\n",
    ">\n",  # an empty blockquote
    "a\n> \t\n",
]


@pytest.mark.parametrize("text", HANDED_TO_THE_REFERENCE)
def test_links_the_fast_path_cannot_promise_go_to_the_reference(text: str) -> None:
    assert notes.render_fast(text) is None
    assert str(notes.render_notes(text)) == notes.render_reference(text)


def test_an_empty_body_renders_empty_on_both_paths() -> None:
    assert notes.render_fast("") == notes.render_reference("") == ""


def test_a_link_is_checked_once_however_often_the_notes_link_it() -> None:
    notes._same_link_both_ways.cache_clear()
    for n in range(3):
        assert notes.render_fast(f"[{n}](https://example.com/once) [bad](ftp://x.example)\n") is None
    assert notes._same_link_both_ways.cache_info()[:2] == (4, 2)  # (hits, misses): two distinct URLs, three bodies
