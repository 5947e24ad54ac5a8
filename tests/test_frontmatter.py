"""frontmatter.decode against the "utf-8-sig" codec it stands in for, and split_lead's size cap in bytes."""

from __future__ import annotations

import codecs
import random

from funnel_site.frontmatter import decode, split_lead
from funnel_site.problems import Problem


def _by_codec(path: str, raw: bytes) -> tuple[str | None, Problem | None]:
    """decode with ``raw.decode("utf-8-sig")``, whose error position counts from the end of a BOM."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\0" in raw:
        return decode(path, raw)  # decided before decoding
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        at = error.start + (3 if raw.startswith(codecs.BOM_UTF8) else 0)
        line = raw[:at].count(b"\n") + 1
        message = f"not valid UTF-8 (byte 0x{raw[at]:02x}); save the file as UTF-8"
        return None, Problem(path, line, "file", message, rule="encoding")


def test_decode_reads_bytes_as_the_utf_8_sig_codec_does() -> None:
    rng = random.Random(5)
    pieces = [b"a", b"\n", b"---\n", "ä".encode(), "€".encode(), b"\xff", b"\xc3", b"\xe2\x82", b"\xef\xbb\xbf", b"\xef\xbb", b"x: 1\n"]
    samples = [b"", codecs.BOM_UTF8, b"\xef\xbb", codecs.BOM_UTF8 + b"\xff\n", codecs.BOM_UTF8 + b"a\nb\xff"]
    samples += [b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    samples += [codecs.BOM_UTF8 + sample for sample in samples[5:1000]]
    assert [decode("leads/a.md", raw) for raw in samples] == [_by_codec("leads/a.md", raw) for raw in samples]
    assert decode("leads/a.md", codecs.BOM_UTF8 + "x: ä\n".encode()) == ("x: ä\n", None)


def test_a_bad_byte_after_a_bom_is_reported_at_its_own_line() -> None:
    raw = codecs.BOM_UTF8 + b"---\ntitle: x\n\xfc\n---\n"
    assert decode("leads/a.md", raw) == (None, Problem("leads/a.md", 3, "file", "not valid UTF-8 (byte 0xfc); save the file as UTF-8", rule="encoding"))


def test_the_size_cap_counts_the_bytes_of_utf_8_not_the_characters() -> None:
    def problem(front_matter: str) -> Problem | None:
        return split_lead("leads/a.md", f"---\n{front_matter}---\nnotes\n")[1]

    too_large = Problem("leads/a.md", 2, "front matter", "is larger than 64 KiB; keep long text in the notes below the closing '---'",
                        rule="front-matter")
    assert problem("t: " + "😀" * 16_380 + "\n") is None  # 16,384 characters, 65,524 bytes
    assert problem("t: " + "😀" * 16_383 + "\n") is None  # 65,536 bytes: the cap itself
    assert problem("t: " + "😀" * 16_384 + "\n") == too_large  # 16,388 characters, 65,540 bytes
    assert problem("t: " + "€" * 21_844 + "\n") is None  # 21,848 characters, 65,536 bytes
    assert problem("t: " + "€" * 21_845 + "\n") == too_large
