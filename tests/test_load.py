"""Loading and validation: the exact problem text for every rule of config.yaml and of a lead file."""

from __future__ import annotations

import codecs
import os
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import BASE_CONFIG, TODAY
from funnel_site import lead as lead_module
from funnel_site.config import parse_config
from funnel_site.load import load_project, parse_lead_bytes, read_lead
from funnel_site.model import Lead
from funnel_site.problems import ConfigError
from funnel_site.strict_yaml import YamlError, parse_yaml

CONFIG = parse_config(*parse_yaml(BASE_CONFIG))[0]
ACTIVE = "title: Acme\nowner: anna\nstage: offer\nvalue: 1000\nexpected_close: 2026-12-01\n"  # lines 2-6
PATH = "leads/acme.md"


def parse(front_matter: str | bytes, notes: str = "Notes.\n") -> tuple[Lead | None, list[str]]:
    raw = front_matter if isinstance(front_matter, bytes) else f"---\n{front_matter}---\n{notes}".encode()
    lead, problems = parse_lead_bytes(PATH, raw, CONFIG)
    return lead, [str(p) for p in problems]


def problems_of(front_matter: str | bytes) -> list[str]:
    return sorted(parse(front_matter)[1], key=lambda line: (int(line.split(":")[1]), line))


def config_problems(text: str) -> list[str]:
    try:
        data, lines = parse_yaml(text)
    except YamlError as error:
        return [f"config.yaml:{error.line}: config: {error.message}"]
    config, problems = parse_config(data, lines)
    assert (config is None) == bool(problems)
    return sorted(str(p) for p in problems)


# ---------------------------------------------------------------- lead front matter, key by key

LEAD_RULES = {
    "title missing": ("owner: anna\nstatus: potential\n", ["leads/acme.md:1: title: required field is missing"]),
    "title blank": ("title: '  '\nowner: anna\nstatus: potential\n", ["leads/acme.md:2: title: required field is missing"]),
    "title a list": ("title: [a]\nowner: anna\nstatus: potential\n", ["leads/acme.md:2: title: expected text, got a list"]),
    "owner missing": ("title: Acme\nstatus: potential\n", ["leads/acme.md:1: owner: required field is missing"]),
    "owner unknown": ("title: Acme\nowner: zoe\nstatus: potential\n",
                      ["leads/acme.md:3: owner: unknown team member 'zoe' (known: anna, ben)"]),
    "owner a list": ("title: Acme\nowner: [anna]\nstatus: potential\n",
                     ["leads/acme.md:3: owner: unknown team member a list (known: anna, ben)"]),
    "status unknown, reported once": ("title: Acme\nowner: anna\nstatus: open\n",
                                      ["leads/acme.md:4: status: unknown status 'open' (known: potential, active, won, lost, cancelled)"]),
    "stage unknown": (ACTIVE.replace("stage: offer", "stage: negotation"),
                      ["leads/acme.md:4: stage: unknown stage 'negotation' (known: lead, offer, negotiation)"]),
    "value text": (ACTIVE.replace("1000", "50k"), ["leads/acme.md:5: value: expected a number, got '50k'"]),
    "value German format": (ACTIVE.replace("1000", "1.000,50"), ["leads/acme.md:5: value: expected a number, got '1.000,50'"]),
    "value with underscores": (ACTIVE.replace("1000", "1_000"), ["leads/acme.md:5: value: expected a number, got '1_000'"]),
    "value boolean": (ACTIVE.replace("1000", "true"), ["leads/acme.md:5: value: expected a number, got true"]),
    "value .inf": (ACTIVE.replace("1000", ".inf"), ["leads/acme.md:5: value: expected a number, got '.inf'"]),
    "value negative": (ACTIVE.replace("1000", "-0.01"), ["leads/acme.md:5: value: must not be below 0, got -0.01"]),
    "value too large": (ACTIVE.replace("1000", "1e15"), ["leads/acme.md:5: value: must be less than 1000000000000000, got 1E+15"]),
    "value with 5000 digits": (ACTIVE.replace("1000", "7" * 5000),
                               [f"leads/acme.md:5: value: must be less than 1000000000000000, got {'7' * 57}..."]),
    "currency not ISO": (ACTIVE + "currency: €\n", ["leads/acme.md:7: currency: expected a three-letter ISO code such as EUR, got '€'"]),
    "currency without rate": (ACTIVE + "currency: GBP\n", [
        "leads/acme.md:7: currency: no exchange rate for GBP (base currency is EUR; add GBP under exchange_rates in config.yaml)"]),
    "probability above 100": (ACTIVE + "probability: 100.5\n", ["leads/acme.md:7: probability: must be between 0 and 100, got 100.5"]),
    "probability below 0": (ACTIVE + "probability: -1\n", ["leads/acme.md:7: probability: must be between 0 and 100, got -1"]),
    "probability with %": (ACTIVE + "probability: 50%\n", ["leads/acme.md:7: probability: expected a number, got '50%'"]),
    "expected_close impossible": (ACTIVE.replace("2026-12-01", "2026-02-30"),
                                  ["leads/acme.md:6: expected_close: invalid date '2026-02-30' (day is out of range for month)"]),
    "expected_close German": (ACTIVE.replace("2026-12-01", "01.12.2026"),
                              ["leads/acme.md:6: expected_close: expected a date YYYY-MM-DD, got '01.12.2026'"]),
    "expected_close with time": (ACTIVE.replace("2026-12-01", "2026-12-01T10:00:00Z"),
                                 ["leads/acme.md:6: expected_close: expected a date YYYY-MM-DD, got '2026-12-01T10:00:00Z'"]),
    "expected_close a number": (ACTIVE.replace("2026-12-01", "20261201"),
                                ["leads/acme.md:6: expected_close: expected a date YYYY-MM-DD, got 20261201"]),
    "closed_on invalid": ("title: A\nowner: anna\nstatus: won\nvalue: 5\nclosed_on: 2026-04-31\n",
                          ["leads/acme.md:6: closed_on: invalid date '2026-04-31' (day is out of range for month)"]),
    "created invalid": (ACTIVE + "created: yesterday\n", ["leads/acme.md:7: created: expected a date YYYY-MM-DD, got 'yesterday'"]),
    "last_contact invalid": (ACTIVE + "last_contact: 2026-13-01\n",
                             ["leads/acme.md:7: last_contact: invalid date '2026-13-01' (month must be in 1..12)"]),
    "follow_up invalid": (ACTIVE + "follow_up: 2026-1-5\n", ["leads/acme.md:7: follow_up: expected a date YYYY-MM-DD, got '2026-1-5'"]),
    "reason a list": ("title: A\nowner: anna\nstatus: lost\nclosed_on: 2026-10-01\nreason: [a]\n",
                      ["leads/acme.md:6: reason: expected text, got a list"]),
    "company a mapping": (ACTIVE + "company: {name: Acme}\n", ["leads/acme.md:7: company: expected text, got a mapping"]),
    "next_step a list": (ACTIVE + "next_step: [call]\n", ["leads/acme.md:7: next_step: expected text, got a list"]),
    "contact text": (ACTIVE + "contact: Max Muster\n",
                     ["leads/acme.md:7: contact: expected a mapping such as {name: ..., email: ...}, got 'Max Muster'"]),
    "contact value a list": (ACTIVE + "contact: {name: Max, phone: [1, 2]}\n", ["leads/acme.md:7: contact.phone: expected text, got a list"]),
    "contact list item": (ACTIVE + "contact:\n  - {name: Max}\n  - Erika\n",
                          ["leads/acme.md:9: contact[1]: expected a mapping such as {name: ..., email: ...}, got 'Erika'"]),
    "source unknown": (ACTIVE + "source: fair\n", ["leads/acme.md:7: source: unknown source 'fair' (known: referral, website)"]),
    "tags text": (ACTIVE + "tags: crm, shop\n", ["leads/acme.md:7: tags: expected a list of text values such as [a, b], got 'crm, shop'"]),
    "tags nested": (ACTIVE + "tags: [crm, [shop]]\n", ["leads/acme.md:7: tags[1]: expected text, got a list"]),
    "qualification text": (ACTIVE + "qualification: yes\n",
                           ["leads/acme.md:7: qualification: expected a mapping of criterion to true/false, got 'yes'"]),
    "qualification unknown criterion": (ACTIVE + "qualification: {money: true}\n", [
        "leads/acme.md:7: qualification.money: unknown criterion 'money' (known: budget, authority, need, timeline)"]),
    "qualification yes is not true": (ACTIVE + "qualification:\n  budget: yes\n",
                                      ["leads/acme.md:8: qualification.budget: expected true or false, got 'yes'"]),
    "history text": (ACTIVE + "history: offer\n", ["leads/acme.md:7: history: expected a list of {date, stage} entries, got 'offer'"]),
    "history item text": (ACTIVE + "history: [offer]\n", [
        "leads/acme.md:7: history[0]: expected a mapping such as {date: 2026-01-31, stage: offer}, got 'offer'"]),
    "history unknown key": (ACTIVE + "history:\n  - {date: 2026-01-01, stage: lead, by: anna}\n",
                            ["leads/acme.md:8: history[0].by: unknown key 'by' (known: date, stage)"]),
    "history missing date and stage": (ACTIVE + "history:\n  - {note: x}\n", [
        "leads/acme.md:8: history[0].date: required field is missing",
        "leads/acme.md:8: history[0].note: unknown key 'note' (known: date, stage)",
        "leads/acme.md:8: history[0].stage: required field is missing"]),
    "history unknown stage": (ACTIVE + "history:\n  - {date: 2026-01-01, stage: nego}\n", [
        "leads/acme.md:8: history[0].stage: unknown stage 'nego' (known: lead, offer, negotiation, won, lost, cancelled)"]),
    "history invalid date": (ACTIVE + "history:\n  - {date: 2026-02-29, stage: lead}\n",
                             ["leads/acme.md:8: history[0].date: invalid date '2026-02-29' (day is out of range for month)"]),
    "history out of order": (ACTIVE + "history:\n  - {date: 2026-02-01, stage: lead}\n  - {date: 2026-01-01, stage: offer}\n",
                             ["leads/acme.md:9: history[1].date: history must be oldest first; 2026-01-01 is before 2026-02-01"]),
}


@pytest.mark.parametrize("front_matter, expected", LEAD_RULES.values(), ids=LEAD_RULES.keys())
def test_lead_rule(front_matter: str, expected: list[str]) -> None:
    lead, problems = parse(front_matter)
    assert sorted(problems, key=lambda line: (int(line.split(":")[1]), line)) == expected
    assert lead is None


REQUIRED_BY_STATUS = {
    "active (the default)": ("", ["expected_close", "stage", "value"]),
    "active": ("status: active\n", ["expected_close", "stage", "value"]),
    "won": ("status: won\n", ["closed_on", "value"]),
    "lost": ("status: lost\n", ["closed_on"]),
    "cancelled": ("status: cancelled\n", ["closed_on"]),
    "potential": ("status: potential\n", []),
}


@pytest.mark.parametrize("status_line, fields", REQUIRED_BY_STATUS.values(), ids=REQUIRED_BY_STATUS.keys())
def test_required_by_status(status_line: str, fields: list[str]) -> None:
    lead, problems = parse(f"title: Acme\nowner: anna\n{status_line}")
    status = status_line.removeprefix("status: ").strip() or "active"
    assert sorted(problems) == [f"leads/acme.md:1: {field}: required when status is {status}" for field in fields]
    assert (lead is None) == bool(fields)


def test_each_status_is_valid_with_its_required_fields() -> None:
    closed = "closed_on: 2026-10-01\n"
    for extra in ("status: won\nvalue: 1\n" + closed, "status: lost\n" + closed, "status: cancelled\n" + closed,
                  "stage: lead\nvalue: 0\nexpected_close: 2026-12-01\n", "status: potential\n"):
        lead, problems = parse("title: Acme\nowner: anna\n" + extra)
        assert problems == [] and lead is not None


def test_all_problems_of_one_file_are_reported() -> None:
    assert problems_of("owner: zoe\nstatus: won\nvalue: x\nprobability: 200\ncurrency: usd\n") == [
        "leads/acme.md:1: closed_on: required when status is won",
        "leads/acme.md:1: title: required field is missing",
        "leads/acme.md:2: owner: unknown team member 'zoe' (known: anna, ben)",
        "leads/acme.md:4: value: expected a number, got 'x'",
        "leads/acme.md:5: probability: must be between 0 and 100, got 200",
        "leads/acme.md:6: currency: expected a three-letter ISO code such as EUR, got 'usd'",
    ]


# ---------------------------------------------------------------- strict YAML

def test_yaml_12_scalars_keep_norway_zip_codes_and_times_as_text() -> None:
    lead, problems = parse(ACTIVE + "country: NO\nconsent: no\nalarm: on\nzip: 01234\nbig: 1_000\nduration: 1:30\n"
                           "hex: 0x1F\nversion: 1.10\nexp: 1e3\nflag: true\nnothing: ~\nday: 2026-03-05\nstamp: 2026-03-05 10:00\n")
    assert problems == [] and lead is not None
    assert lead.custom == {
        "country": "NO", "consent": "no", "alarm": "on", "zip": "01234", "big": "1_000", "duration": "1:30",
        "hex": "0x1F", "version": Decimal("1.10"), "exp": Decimal("1E+3"), "flag": True, "nothing": None,
        "day": date(2026, 3, 5), "stamp": "2026-03-05 10:00",
    }
    assert isinstance(lead.value, Decimal) and lead.value == 1000 and lead.expected_close == date(2026, 12, 1)


def test_unknown_keys_are_kept_as_custom_fields_and_a_likely_typo_is_a_warning() -> None:
    lead, problems = parse(ACTIVE + "website: https://acme.example\nnext_stpe: call\n")
    assert problems == ["leads/acme.md:8: warning: next_stpe: kept as a custom field; did you mean 'next_step'?"]
    assert lead is not None and lead.custom == {"website": "https://acme.example", "next_stpe": "call"}


def test_a_custom_key_is_compared_with_the_standard_keys_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[str] = []
    monkeypatch.setattr(lead_module, "get_close_matches", lambda key, *args, **kwargs: compared.append(key) or ["company"])
    lead_module._close_standard_key.cache_clear()
    assert [parse(ACTIVE + f"compnay_x: {n}\n")[1] for n in range(3)] == [
        ["leads/acme.md:7: warning: compnay_x: kept as a custom field; did you mean 'company'?"]] * 3
    assert compared == ["compnay_x"]
    lead_module._close_standard_key.cache_clear()


def test_numbers_are_exact_decimals() -> None:
    lead, _ = parse(ACTIVE.replace("1000", "0.1") + "probability: 33.3\n")
    assert lead is not None and (lead.value, lead.probability) == (Decimal("0.1"), Decimal("33.3"))


@pytest.mark.parametrize("front_matter, expected", [
    (ACTIVE + "value: 2000\n", "leads/acme.md:7: front matter: duplicate key 'value' (first on line 5)"),
    (ACTIVE + "contact:\n  name: Max\n  name: Erika\n", "leads/acme.md:9: front matter: duplicate key 'name' (first on line 8)"),
    (ACTIVE + "company: &c Acme\n", "leads/acme.md:7: front matter: anchors and aliases (&, *) are not allowed; write the value out"),
    (ACTIVE + "a: [x]\nb: *a\n", "leads/acme.md:8: front matter: anchors and aliases (&, *) are not allowed; write the value out"),
    (ACTIVE + "company: !!str 1\n", "leads/acme.md:7: front matter: YAML tags such as '!!str' are not allowed"),
    (ACTIVE + "x: !!python/name:os.system\n", "leads/acme.md:7: front matter: YAML tags such as '!!python/name:os.system' are not allowed"),
    (ACTIVE + "2026: planned\n", "leads/acme.md:7: front matter: keys must be text, got 2026"),
    (ACTIVE + "? [a, b]\n: c\n", "leads/acme.md:7: front matter: keys must be text, got ['a', 'b']"),
    # the front matter mapping itself is level 1
    (ACTIVE + "x: " + "[" * 19 + "]" * 19 + "\n", None),
    (ACTIVE + "x: " + "[" * 20 + "]" * 20 + "\n", "leads/acme.md:7: front matter: nested deeper than 20 levels"),
    (ACTIVE + "".join("  " * i + f"k{i}:\n" for i in range(21)) + "  " * 21 + "k: v\n",
     "leads/acme.md:27: front matter: nested deeper than 20 levels"),
    (ACTIVE + "contact:\n\tname: Max\n", "leads/acme.md:8: front matter: tab character in front matter; indent with spaces"),
    (ACTIVE + "company: Acme\t\n", "leads/acme.md:7: front matter: tab character in front matter; indent with spaces"),
    (ACTIVE + "company: Ac\x1bme\n", "leads/acme.md:7: front matter: control character U+001B is not allowed"),
    (ACTIVE + "tags: [crm, shop\n", "leads/acme.md:8: front matter: did not find expected ',' or ']' "
                                    "(while parsing a flow sequence that starts on line 7)"),
    (ACTIVE.replace("title: Acme", "title: Acme: Relaunch"), "leads/acme.md:2: front matter: mapping values are not allowed "
                                                               "in this context; put a value containing ': ' in quotes, and check the indentation"),
    (ACTIVE + "company: 'Acme\n", "leads/acme.md:8: front matter: found unexpected end of stream (while scanning a quoted scalar "
                                  "that starts on line 7)"),
])
def test_yaml_strictness(front_matter: str, expected: str | None) -> None:
    lead, problems = parse(front_matter)
    assert problems == ([expected] if expected else [])
    assert (lead is None) == bool(expected)


def test_front_matter_size_cap_is_64_kib() -> None:
    padding = "note: '" + "x" * (64 * 1024 - len(ACTIVE) - 10) + "'\n"
    assert len((ACTIVE + padding).encode()) <= 64 * 1024
    assert parse(ACTIVE + padding)[1] == []
    assert parse(ACTIVE + padding + "y: 1234567\n")[1] == [
        "leads/acme.md:2: front matter: is larger than 64 KiB; keep long text in the notes below the closing '---'"]


def test_long_notes_are_fine_but_a_file_over_2_mib_is_refused(make_project) -> None:
    note = "Gesprächsnotiz. " * 1000 + "\n"
    head = f"---\n{ACTIVE}next_step: Call\n---\n"
    root = make_project({"leads/ok.md": head + note * 120, "leads/huge.md": head + note * 140})
    assert len((root / "leads/ok.md").read_bytes()) < 2 * 1024 * 1024 < len((root / "leads/huge.md").read_bytes())
    project = load_project(root)
    assert [str(p) for p in project.problems] == [
        "leads/huge.md:1: file: is larger than 2 MiB; keep attachments and long documents out of leads/"]
    assert [lead.id for lead in project.leads] == ["ok"]


@pytest.mark.skipif(not hasattr(os, "RWF_NOWAIT"), reason="asks the page cache through Linux's RWF_NOWAIT")
def test_lead_files_not_in_the_page_cache_are_announced_to_the_kernel_at_once(make_project, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project({f"leads/{name}.md": f"---\n{ACTIVE}---\n" for name in ("c", "a", "sub/b")})
    announced: list[tuple[str, int]] = []
    monkeypatch.setattr(os, "posix_fadvise", lambda fd, offset, length, advice: announced.append((os.readlink(f"/proc/self/fd/{fd}"), advice)))
    warm = load_project(root)
    assert announced == []  # just written, so cached: nothing to announce
    with monkeypatch.context() as cold:
        cold.setattr(os, "preadv", lambda *args: (_ for _ in ()).throw(BlockingIOError()))
        assert load_project(root) == warm
    assert announced == [(str(root / f"leads/{name}.md"), os.POSIX_FADV_WILLNEED) for name in ("a", "c", "sub/b")]


def test_a_lead_file_is_read_whole_when_it_grew_after_its_size_was_taken(make_project, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project({"leads/acme.md": f"---\n{ACTIVE}---\n" + "Notiz.\n" * 20000})
    with monkeypatch.context() as stale:
        stale.setattr(os, "fstat", lambda fd: SimpleNamespace(st_size=10))
        lead, problems = read_lead(root, "leads/acme.md", CONFIG)
    assert problems == [] and lead is not None and lead.body == "Notiz.\n" * 20000


# ---------------------------------------------------------------- encodings, line endings, fences

def test_utf8_with_bom_and_crlf_is_read_like_plain_utf8() -> None:
    plain = f"---\n{ACTIVE}company: Müller\n---\nErste Zeile.\nZweite Zeile.\n".encode()
    lead_plain, problems = parse(plain)
    lead_bom, problems_bom = parse(codecs.BOM_UTF8 + plain.replace(b"\n", b"\r\n"))
    assert problems == problems_bom == []
    assert lead_plain is not None and lead_bom is not None
    assert (lead_bom.company, lead_bom.body, lead_bom.body_line, lead_bom.lines) == (
        "Müller", "Erste Zeile.\nZweite Zeile.\n", 9, lead_plain.lines)
    assert lead_bom == lead_plain


def test_crlf_line_numbers_stay_right() -> None:
    raw = f"---\r\n{ACTIVE}stage: lead\r\n---\r\n".replace("\n", "\r\n").replace("\r\r", "\r").encode()
    assert parse(raw)[1] == ["leads/acme.md:7: front matter: duplicate key 'stage' (first on line 4)"]


@pytest.mark.parametrize("raw, expected", [
    (f"---\n{ACTIVE}company: Müller\n---\n".encode("latin-1"),
     "leads/acme.md:7: file: not valid UTF-8 (byte 0xfc); save the file as UTF-8"),
    (f"---\n{ACTIVE}---\nNotiz: Größe\n".encode("cp1252"), "leads/acme.md:8: file: not valid UTF-8 (byte 0xf6); save the file as UTF-8"),
    (codecs.BOM_UTF16_LE + f"---\n{ACTIVE}---\n".encode("utf-16-le"), "leads/acme.md:1: file: is UTF-16 encoded; save it as UTF-8"),
    (codecs.BOM_UTF16_BE + f"---\n{ACTIVE}---\n".encode("utf-16-be"), "leads/acme.md:1: file: is UTF-16 encoded; save it as UTF-8"),
    (f"---\n{ACTIVE}---\n".encode("utf-16-le"),
     "leads/acme.md:1: file: contains a NUL byte (a UTF-16 or binary file?); save the file as UTF-8 text"),
    (f"---\n{ACTIVE}---\nok\x00\n".encode(),
     "leads/acme.md:8: file: contains a NUL byte (a UTF-16 or binary file?); save the file as UTF-8 text"),
])
def test_other_encodings_are_refused_with_a_line(raw: bytes, expected: str) -> None:
    assert parse(raw) == (None, [expected])


@pytest.mark.parametrize("raw, expected", [
    (b"", "leads/acme.md:1: front matter: file is empty; a lead starts with '---', its front matter and another '---'"),
    (b" \n\r\n\n", "leads/acme.md:1: front matter: file is empty; a lead starts with '---', its front matter and another '---'"),
    (ACTIVE.encode(), "leads/acme.md:1: front matter: the file must start with a '---' line; "
                      "a lead starts with '---', its front matter and another '---'"),
    (b"\n---\n" + ACTIVE.encode() + b"---\n", "leads/acme.md:1: front matter: the file must start with a '---' line; "
                                               "a lead starts with '---', its front matter and another '---'"),
    (b"---\n" + ACTIVE.encode() + b"Notes.\n", "leads/acme.md:1: front matter: no closing '---' line after the front matter"),
    (b"---\n" + ACTIVE.encode() + b"----\n", "leads/acme.md:1: front matter: no closing '---' line after the front matter"),
    (b"---\n---\nNotes.\n", "leads/acme.md:1: front matter: is empty; a lead needs at least title and owner"),
    (b"---\n# only a comment\n---\n", "leads/acme.md:1: front matter: is empty; a lead needs at least title and owner"),
    (b"---\n- title: Acme\n- owner: anna\n---\n", "leads/acme.md:2: front matter: must be 'key: value' lines (a mapping), got a list"),
    (b"---\nAcme Relaunch\n---\n", "leads/acme.md:2: front matter: must be 'key: value' lines (a mapping), got a single value"),
])
def test_fences_and_shape(raw: bytes, expected: str) -> None:
    assert parse(raw) == (None, [expected])


def test_fences_may_have_trailing_spaces_and_yaml_document_end() -> None:
    lead, problems = parse(b"--- \n" + ACTIVE.encode() + b"...\r\nNotes.\n--- not a fence\n")
    assert problems == [] and lead is not None
    assert lead.body == "Notes.\n--- not a fence\n"


def test_fences_end_where_str_rstrip_ends_them_and_carriage_returns_are_dropped() -> None:
    crlf = ACTIVE.encode().replace(b"\n", b"\r\r\n")
    lead, problems = parse(b"---\r\r\n" + crlf + "...\u3000\x0c\r\nErste\r\r\n\r\nZweite\r".encode())
    assert problems == [] and lead is not None
    assert (lead.body, lead.body_line, lead.lines["expected_close"]) == ("Erste\n\nZweite", 8, 6)
    lead, problems = parse(b"---\n" + ACTIVE.encode() + b"---")  # the closing fence is the file's last line
    assert problems == [] and lead is not None and (lead.body, lead.body_line) == ("", 8)
    assert parse(b"---")[1] == ["leads/acme.md:1: front matter: no closing '---' line after the front matter"]


# ---------------------------------------------------------------- config.yaml, key by key

STAGES = "stages:\n  - {id: lead, name: Lead, probability: 10}\n"
TEAM = "team:\n  - {id: anna, name: Anna}\n"
MINIMAL = "title: T\ncurrency: EUR\n" + STAGES + TEAM  # lines 1-6

CONFIG_RULES = {
    "not a mapping": ("- title\n", ["config.yaml:1: config: expected a mapping of settings, got a list"]),
    "a scalar": ("pipeline\n", ["config.yaml:1: config: expected a mapping of settings, got 'pipeline'"]),
    "empty": ("", ["config.yaml:1: config: expected a mapping of settings, got nothing"]),
    "unknown key": (MINIMAL + "stale_after: 3\n", [
        "config.yaml:7: stale_after: unknown setting 'stale_after' (known: title, currency, locale, stages, team, sources, "
        "stale_after_days, targets, exchange_rates, qualification, repo_url, edit_url)"]),
    "title missing": (MINIMAL[9:], ["config.yaml:1: title: required field is missing"]),
    "title a mapping": (MINIMAL.replace("title: T", "title: {de: T}"), ["config.yaml:1: title: expected text, got a mapping"]),
    "currency missing": (MINIMAL.replace("currency: EUR\n", ""), ["config.yaml:1: currency: required field is missing"]),
    "currency lower case": (MINIMAL.replace("EUR", "eur"), ["config.yaml:2: currency: expected a three-letter ISO code such as EUR, got 'eur'"]),
    "currency symbol": (MINIMAL.replace("EUR", "€"), ["config.yaml:2: currency: expected a three-letter ISO code such as EUR, got '€'"]),
    "locale": (MINIMAL + "locale: Deutsch\n", ["config.yaml:7: locale: expected a locale such as de_DE or en_US, got 'Deutsch'"]),
    "stale_after_days zero": (MINIMAL + "stale_after_days: 0\n",
                              ["config.yaml:7: stale_after_days: expected a whole number of days (1 or more), got 0"]),
    "stale_after_days decimal": (MINIMAL + "stale_after_days: 1.5\n",
                                 ["config.yaml:7: stale_after_days: expected a whole number of days (1 or more), got 1.5"]),
    "stages missing": (MINIMAL.replace(STAGES, ""), ["config.yaml:1: stages: required field is missing"]),
    "stages empty": (MINIMAL.replace(STAGES, "stages: []\n"), ["config.yaml:3: stages: needs at least one entry"]),
    "stages a mapping": (MINIMAL.replace(STAGES, "stages: {lead: 10}\n"), ["config.yaml:3: stages: expected a list, got a mapping"]),
    "stage not a mapping": (MINIMAL.replace(STAGES, "stages: [lead]\n"), ["config.yaml:3: stages[0]: expected a mapping, got 'lead'"]),
    "stage unknown key": (MINIMAL.replace("probability: 10}", "probability: 10, colour: red}"),
                          ["config.yaml:4: stages[0].colour: unknown key 'colour' (known: id, name, probability, stale_after_days)"]),
    "stage id missing": (MINIMAL.replace("id: lead, ", ""), ["config.yaml:4: stages[0].id: required field is missing"]),
    "stage id invalid": (MINIMAL.replace("id: lead", "id: Erstkontakt Phase"), [
        "config.yaml:4: stages[0].id: 'Erstkontakt Phase' is not a valid id (lowercase letters, digits, '-' and '_')"]),
    "stage id reserved": (MINIMAL.replace("id: lead", "id: lost"), [
        "config.yaml:4: stages[0].id: 'lost' is reserved for closed leads; use status: lost instead of a stage"]),
    "stage ids duplicate": (MINIMAL.replace(STAGES, STAGES + "  - {id: lead, name: Offer, probability: 50}\n"),
                            ["config.yaml:5: stages[1].id: duplicate id 'lead'"]),
    "stage probability missing": (MINIMAL.replace(", probability: 10", ""), ["config.yaml:4: stages[0].probability: required field is missing"]),
    "stage probability over 100": (MINIMAL.replace("probability: 10", "probability: 110"),
                                   ["config.yaml:4: stages[0].probability: must be between 0 and 100, got 110"]),
    "stage probability as fraction text": (MINIMAL.replace("probability: 10", "probability: 10%"),
                                           ["config.yaml:4: stages[0].probability: expected a number, got '10%'"]),
    "stage stale_after_days": (MINIMAL.replace("probability: 10}", "probability: 10, stale_after_days: never}"), [
        "config.yaml:4: stages[0].stale_after_days: expected a whole number of days (1 or more), got 'never'"]),
    "team missing": (MINIMAL.replace(TEAM, ""), ["config.yaml:1: team: required field is missing"]),
    "team ids duplicate": (MINIMAL + "  - {id: anna, name: Anna Zwei}\n", ["config.yaml:7: team[1].id: duplicate id 'anna'"]),
    "team name missing": (MINIMAL.replace(", name: Anna", ""), ["config.yaml:6: team[0].name: required field is missing"]),
    "team role": (MINIMAL.replace("name: Anna}", "name: Anna, role: boss}"),
                  ["config.yaml:6: team[0].role: unknown role 'boss' (known: manager, member)"]),
    "team unknown key": (MINIMAL.replace("name: Anna}", "name: Anna, phone: 1}"),
                         ["config.yaml:6: team[0].phone: unknown key 'phone' (known: id, name, email, role)"]),
    "team email a list": (MINIMAL.replace("name: Anna}", "name: Anna, email: [a]}"), ["config.yaml:6: team[0].email: expected text, got a list"]),
    "sources text": (MINIMAL + "sources: website\n", ["config.yaml:7: sources: expected a list of text values such as [a, b], got 'website'"]),
    "qualification nested": (MINIMAL + "qualification: [budget, [need]]\n", ["config.yaml:7: qualification[1]: expected text, got a list"]),
    "targets a list": (MINIMAL + "targets: [1000]\n", ["config.yaml:7: targets: expected a mapping of period to amount, got a list"]),
    "target periods": (MINIMAL + "targets:\n  2027-13: 5\n  Q1-2027: 5\n  2027-Q5: 5\n", [
        "config.yaml:10: targets.2027-Q5: '2027-Q5' is not a period; use YYYY-MM or YYYY-Qn (e.g. 2027-Q1)",
        "config.yaml:8: targets.2027-13: '2027-13' is not a period; use YYYY-MM or YYYY-Qn (e.g. 2027-Q1)",
        "config.yaml:9: targets.Q1-2027: 'Q1-2027' is not a period; use YYYY-MM or YYYY-Qn (e.g. 2027-Q1)"]),
    "target amount": (MINIMAL + "targets:\n  2027-Q1: lots\n  2027-02: -5\n", [
        "config.yaml:8: targets.2027-Q1: expected a number, got 'lots'",
        "config.yaml:9: targets.2027-02: must not be below 0, got -5"]),
    "exchange_rates a list": (MINIMAL + "exchange_rates: [USD]\n",
                              ["config.yaml:7: exchange_rates: expected a mapping such as {USD: 0.92}, got a list"]),
    "exchange rates": (MINIMAL + "exchange_rates:\n  usd: 1\n  EUR: 1\n  USD: 0\n  CHF: ninety\n  GBP: 1e20\n", [
        "config.yaml:10: exchange_rates.USD: must be above 0, got 0",
        "config.yaml:11: exchange_rates.CHF: expected a number, got 'ninety'",
        "config.yaml:12: exchange_rates.GBP: must be less than 1000000000000000, got 1E+20",
        "config.yaml:8: exchange_rates.usd: 'usd' is not a three-letter ISO currency code",
        "config.yaml:9: exchange_rates.EUR: EUR is the base currency; it needs no exchange rate"]),
    "repo_url": (MINIMAL + "repo_url: javascript:alert(1)\n",
                 ["config.yaml:7: repo_url: expected an http:// or https:// address, got 'javascript:alert(1)'"]),
    "edit_url": (MINIMAL + "edit_url: ftp://files.example/\n",
                 ["config.yaml:7: edit_url: expected an http:// or https:// address, got 'ftp://files.example/'"]),
    "duplicate key": (MINIMAL + "currency: USD\n", ["config.yaml:7: config: duplicate key 'currency' (first on line 2)"]),
    "alias": (MINIMAL + "team2: *x\n", ["config.yaml:7: config: anchors and aliases (&, *) are not allowed; write the value out"]),
    "syntax": (MINIMAL + "sources: [a\n", ["config.yaml:8: config: did not find expected ',' or ']' "
                                          "(while parsing a flow sequence that starts on line 7)"]),
    "two documents": (MINIMAL + "---\ntitle: U\n", ["config.yaml:7: config: a second YAML document starts here; remove this '---' line"]),
}


@pytest.mark.parametrize("text, expected", CONFIG_RULES.values(), ids=CONFIG_RULES.keys())
def test_config_rule(text: str, expected: list[str]) -> None:
    assert config_problems(text) == expected


def test_a_minimal_config_is_valid_with_defaults() -> None:
    assert config_problems(MINIMAL) == []
    config = parse_config(*parse_yaml(MINIMAL))[0]
    assert config is not None
    assert (config.locale, config.stale_after_days, config.qualification, config.sources) == (
        "en_US", 30, ("budget", "authority", "need", "timeline"), None)


@pytest.mark.parametrize("raw, expected", [
    ("title: Süd\n".encode("latin-1"), "config.yaml:1: file: not valid UTF-8 (byte 0xfc); save the file as UTF-8"),
    (codecs.BOM_UTF16_LE + "title: T\n".encode("utf-16-le"), "config.yaml:1: file: is UTF-16 encoded; save it as UTF-8"),
    (MINIMAL.replace("  - {id: anna", "\t- {id: anna").encode(), "config.yaml:6: config: tab character; indent with spaces"),
    (b"title: " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "config.yaml:1: config: nested deeper than 20 levels"),
    (b"title: '" + b"x" * (1024 * 1024) + b"'\n", "config.yaml:1: file: is larger than 1 MiB"),
])
def test_unreadable_config_is_a_config_error(tmp_path: Path, raw: bytes, expected: str) -> None:
    (tmp_path / "config.yaml").write_bytes(raw)
    with pytest.raises(ConfigError) as error:
        load_project(tmp_path)
    assert [str(p) for p in error.value.problems] == [expected]


def test_config_with_bom_and_crlf_works(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_bytes(codecs.BOM_UTF8 + MINIMAL.replace("T\n", "Vertrieb Süd\n").replace("\n", "\r\n").encode())
    assert load_project(tmp_path).config.title == "Vertrieb Süd"


# ---------------------------------------------------------------- whole runs: sorting, exit codes

def test_problems_of_all_files_sorted_by_file_and_line_in_one_run(make_project, run_cli) -> None:
    root = make_project({
        "leads/zeta.md": f"---\n{ACTIVE.replace('anna', 'zoe')}---\n",
        "leads/b/a.md": f"---\n{ACTIVE.replace('1000', '50k')}value: 3\n---\n",
        "leads/alpha.md": f"---\n{ACTIVE.replace('offer', 'nego').replace('2026-12-01', '2026-02-30')}---\n",
        "leads/ok.md": f"---\n{ACTIVE}next_step: Call\n---\n",
        "leads/c.md": "no front matter\n",
    })
    result = run_cli("check", str(root), "--today", TODAY)
    assert (result.code, result.out) == (1, "")
    assert result.err.splitlines() == [
        "leads/alpha.md:4: stage: unknown stage 'nego' (known: lead, offer, negotiation)",
        "leads/alpha.md:6: expected_close: invalid date '2026-02-30' (day is out of range for month)",
        "leads/b/a.md:7: front matter: duplicate key 'value' (first on line 5)",
        "leads/c.md:1: front matter: the file must start with a '---' line; a lead starts with '---', its front matter and another '---'",
        "leads/zeta.md:3: owner: unknown team member 'zoe' (known: anna, ben)",
        "checked lead files: 5 errors, 0 warnings",
    ]


def test_exit_codes(make_project, run_cli, tmp_path: Path) -> None:
    good = f"---\n{ACTIVE}next_step: Call\n---\n"
    root = make_project({"leads/acme.md": good})
    assert run_cli("check", str(root), "--today", TODAY).code == 0
    assert run_cli("build", str(root), "-o", str(tmp_path / "site"), "--today", TODAY).code == 0
    (root / "leads" / "bad.md").write_text("---\ntitle: [\n---\n")
    assert run_cli("check", str(root), "--today", TODAY).code == 1
    assert run_cli("build", str(root), "-o", str(tmp_path / "site"), "--today", TODAY).code == 1
    (root / "config.yaml").write_text("title: T\n")
    assert run_cli("check", str(root), "--today", TODAY).code == 2
    assert run_cli("build", str(root), "-o", str(tmp_path / "site"), "--today", TODAY).code == 2
    assert run_cli("check", str(root), "--today", "2026-02-30").code == 2
    assert run_cli("frobnicate").code == 2


def test_a_warning_does_not_drop_the_lead(make_project, run_cli) -> None:
    root = make_project({"leads/acme.md": f"---\n{ACTIVE}next_step: Call\ncompnay: Acme\n---\n"})
    result = run_cli("check", str(root), "--today", TODAY)
    assert (result.code, result.out) == (0, "checked 1 lead: 0 errors, 1 warning\n")
    assert result.err == "leads/acme.md:8: warning: compnay: kept as a custom field; did you mean 'company'?\n"


def test_file_names_with_spaces_and_umlauts_work(make_project) -> None:
    good = f"---\n{ACTIVE}next_step: Call\n---\n"
    root = make_project({"leads/Müller & Söhne.md": good, "leads/Süd Ost/Größe 2027.md": good})
    project = load_project(root)
    assert project.problems == ()
    assert sorted(lead.id for lead in project.leads) == ["Müller & Söhne", "Süd Ost/Größe 2027"]


def test_names_differing_only_in_case_or_unicode_form_collide(make_project) -> None:
    good = f"---\n{ACTIVE}next_step: Call\n---\n"
    root = make_project({"leads/Acme.md": good, "leads/acme.md": good, "leads/Mu\u0308ller.md": good, "leads/M\u00fcller.md": good})
    assert [str(p) for p in load_project(root).problems] == [
        "leads/M\u00fcller.md:1: file: differs from leads/Mu\u0308ller.md only in how its accents are encoded (NFC/NFD); "
        "their pages would collide",
        "leads/acme.md:1: file: differs from leads/Acme.md only in upper/lower case; their pages would collide",
    ]


def test_symlinks_out_of_the_pipeline_are_refused(make_project, tmp_path: Path) -> None:
    outside = tmp_path / "secret.md"
    outside.write_text(f"---\n{ACTIVE}---\n")
    root = make_project({"leads/inside.md": f"---\n{ACTIVE}next_step: Call\n---\n"})
    (root / "leads" / "secret.md").symlink_to(outside)
    (root / "leads" / "alias.md").symlink_to(root / "leads" / "inside.md")
    (root / "leads" / "folder").symlink_to(tmp_path)
    (root / "leads" / "loop.md").symlink_to("loop.md")
    project = load_project(root)
    assert [str(p) for p in project.problems] == [
        "leads/folder:1: file: symlinked folders are not followed; move the files into leads/",
        "leads/loop.md:1: file: symlink is broken or loops; a lead must be a plain file inside the pipeline directory",
        "leads/secret.md:1: file: symlink points outside the pipeline directory",
    ]
    assert sorted(lead.id for lead in project.leads) == ["alias", "inside"]


@pytest.mark.parametrize("comment", ["", "# a comment takes the event loop\n"])
def test_a_parsed_lead_shares_its_names_with_every_other_lead_of_the_process(comment: str) -> None:
    """The parser gives every lead one copy per process of each key, key path and owner (a new string per lead would
    add up to hundreds of MB at 100k leads); unpickled leads share them through their chunk's pickle (test_memory.py)."""
    front_matter = ACTIVE + comment + "contact:\n  name: Ann\nqualification:\n  budget: true\nhistory:\n  - date: 2026-01-02\n    stage: offer\n"
    first, second = (parse(front_matter.replace("Acme", title))[0] for title in ("Acme", "Beta"))
    assert first is not None and second is not None
    keys = [*first.lines, *first.contacts[0], *first.qualification]
    assert keys == ["title", "owner", "stage", "value", "expected_close", "contact", "contact.name", "qualification",
                    "qualification.budget", "history", "history[0]", "history[0].date", "history[0].stage", "name", "budget"]
    assert all(key is other for key, other in zip(keys, [*second.lines, *second.contacts[0], *second.qualification]))
    assert first.owner is second.owner is sys.intern("anna")
