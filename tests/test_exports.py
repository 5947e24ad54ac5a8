"""leads.csv and followups.ics: exact bytes, Excel-friendly CSV, RFC 5545 calendar that real parsers accept."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Callable
from urllib.parse import quote

import icalendar
import pytest

from conftest import BASE_CONFIG, lead
from funnel_site.exports import FORMULA_TRIGGERS, _uid_quoted, _uri, escape_text, fold, followups_ics, leads_csv, neutralise_formula
from funnel_site.figures import Figures, LeadFigures, compute
from funnel_site.load import load_project
from funnel_site.model import Config, Lead

TODAY = date(2026, 11, 22)
GERMAN_CONFIG = BASE_CONFIG.replace("title: Testpipeline", "title: Vertrieb Müller & Söhne").replace("locale: en_US", "locale: de_DE")


def page_url(lead: Lead) -> str:
    return f"leads/{lead.id}.html"


def build(make_project: Callable[..., Path], files: dict[str, str], config: str = BASE_CONFIG) -> tuple[Config, Figures]:
    project = load_project(make_project(files, config=config))
    assert project.problems == ()
    return project.config, compute(project, TODAY)


def csv_rows(data: bytes) -> list[dict[str, str]]:
    text = data.decode("utf-8-sig")
    delimiter = ";" if text.startswith("id;") else ","
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


# --- leads.csv ---------------------------------------------------------------------------------------------

SMALL = {
    "leads/acme.md": lead(
        title="Shop relaunch", company="Acme GmbH", owner="anna", stage="offer", value="1000.005",
        expected_close="2026-12-10", created="2026-11-01", last_contact="2026-11-15", follow_up="2026-11-20",
        next_step="'Call, then mail'", source="referral", tags="[shop, b2b]",
        qualification="{budget: true, authority: true, need: true, timeline: true}",
        contact="{name: Jörg Weiß, email: joerg@acme.example, phone: '+49 40 123'}",
    ),
    # 10.05 USD at 0.9 = 9.045 EUR: half-up gives 9.05 (half-even would give 9.04); weighted 25 % = 2.26125
    "leads/sub/beta.md": lead(
        title="Beta", owner="ben", status="lost", value="10.05", currency="USD", probability=25,
        closed_on="2026-11-02", reason="price",
    ),
}


def test_csv_exact_bytes_english_locale(make_project) -> None:
    config, figures = build(make_project, SMALL)
    expected = (
        "\ufeffid,file,title,company,status,stage,stage_name,owner,owner_name,value,original_value,currency,"
        "probability_percent,weighted,expected_close,closed_on,reason,created,last_contact,follow_up,"
        "follow_up_overdue,stale,next_step,source,tags,qualified,contact_name,contact_email,contact_phone\r\n"
        "acme,leads/acme.md,Shop relaunch,Acme GmbH,active,offer,Offer,anna,Anna Berg,1000.01,1000.01,EUR,"
        "50,500.00,2026-12-10,,,2026-11-01,2026-11-15,2026-11-20,true,false,\"Call, then mail\",referral,"
        "shop; b2b,true,Jörg Weiß,joerg@acme.example,'+49 40 123\r\n"
        "sub/beta,leads/sub/beta.md,Beta,,lost,,,ben,Ben Ott,9.05,10.05,USD,"
        "0,0.00,,2026-11-02,price,,,,false,false,,,,false,,,\r\n"
    )
    assert leads_csv(config, figures) == expected.encode("utf-8")


def test_csv_german_locale_uses_semicolons_and_decimal_commas(make_project) -> None:
    config, figures = build(make_project, SMALL, GERMAN_CONFIG)
    data = leads_csv(config, figures)
    lines = data.split(b"\r\n")
    assert lines[0].startswith(b"\xef\xbb\xbfid;file;title;company;status;")
    assert lines[1].decode("utf-8") == (
        "acme;leads/acme.md;Shop relaunch;Acme GmbH;active;offer;Offer;anna;Anna Berg;1000,01;1000,01;EUR;"
        "50;500,00;2026-12-10;;;2026-11-01;2026-11-15;2026-11-20;true;false;Call, then mail;referral;"
        "\"shop; b2b\";true;Jörg Weiß;joerg@acme.example;'+49 40 123"
    )
    assert lines[2].decode("utf-8") == (
        "sub/beta;leads/sub/beta.md;Beta;;lost;;;ben;Ben Ott;9,05;10,05;USD;0;0,00;;2026-11-02;price;;;;false;false;;;;false;;;"
    )
    assert lines[3] == b""  # every record, the last one too, ends in CRLF
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_csv_fractional_probability_keeps_locale_decimal_mark(make_project) -> None:
    files = {"leads/x.md": lead(title="X", owner="anna", stage="lead", value=1000, probability="12.5", expected_close="2026-12-01")}
    config, figures = build(make_project, files, GERMAN_CONFIG)
    row = csv_rows(leads_csv(config, figures))[0]
    assert (row["probability_percent"], row["weighted"]) == ("12,5", "125,00")


def test_csv_umlauts_and_line_breaks_round_trip(make_project) -> None:
    files = {
        "leads/grünkorb.md": lead(
            title="Gemüse-Abo für Grünkorb", company="Grünkorb Bäckerei & Söhne", owner="ben", status="potential",
            next_step='"Angebot prüfen;\\nRückruf bei Frau Öztürk"', tags="[süß, straße]",
        ),
    }
    config, figures = build(make_project, files, GERMAN_CONFIG)
    data = leads_csv(config, figures)
    assert data.startswith(b"\xef\xbb\xbf")
    row = csv_rows(data)[0]
    assert row["id"] == "grünkorb"
    assert row["title"] == "Gemüse-Abo für Grünkorb"
    assert row["company"] == "Grünkorb Bäckerei & Söhne"
    assert row["next_step"] == "Angebot prüfen;\nRückruf bei Frau Öztürk"
    assert row["tags"] == "süß; straße"
    assert (row["status"], row["stage"], row["value"], row["weighted"]) == ("potential", "", "", "")


def test_csv_neutralises_formulas_in_every_text_field(make_project) -> None:
    files = {
        "leads/evil.md": lead(
            title="'=HYPERLINK(\"http://evil.example\",\"x\")'", company="'+cmd|'' /C calc''!A0'", owner="anna",
            status="potential", next_step="'-2+3'", tags="['@SUM(A1)', ok]", reason="'=1+1'",
            contact='{name: "\\tTAB", email: "\\r=CR", phone: "@home"}',
        ),
    }
    config, figures = build(make_project, files)
    row = csv_rows(leads_csv(config, figures))[0]
    assert row["title"] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert row["company"] == "'+cmd|' /C calc'!A0"
    assert row["next_step"] == "'-2+3"
    assert row["tags"] == "'@SUM(A1); ok"
    assert row["reason"] == "'=1+1"
    assert (row["contact_name"], row["contact_email"], row["contact_phone"]) == ("'\tTAB", "'\r=CR", "'@home")


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_neutralise_formula_every_trigger(trigger: str) -> None:
    assert neutralise_formula(trigger + "1") == "'" + trigger + "1"
    assert neutralise_formula("a" + trigger) == "a" + trigger
    assert neutralise_formula("") == ""


def test_neutralise_formula_looks_at_the_first_character_only() -> None:
    for text in ["", "'", "a", "ä=", "😀+", " =1", "==", "\n=", "1-2", "@@", "\r\n", "\x00"]:
        assert neutralise_formula(text) == ("'" + text if text.startswith(FORMULA_TRIGGERS) else text)


def test_csv_is_deterministic(make_project) -> None:
    config, figures = build(make_project, SMALL)
    again = load_project(make_project(SMALL))
    assert leads_csv(config, figures) == leads_csv(again.config, compute(again, TODAY))


def test_csv_rows_are_written_as_the_csv_module_writes_them(make_project) -> None:
    """The rows are written without ``csv.writer`` (it takes twice as long): reading each row back and writing its
    cells with the writer gives the very same text, quotes, separators and line breaks in any text included."""
    pieces = ["a", "ä", " ", ";", ",", '"', "\n", "\r", "\r\n", "\t", "'", "=", "-", "@", "\0", "€", "\u2028", "\\"]
    rnd = random.Random(8)
    for config_text in (BASE_CONFIG, GERMAN_CONFIG):
        config, figures = build(make_project, SMALL, config_text)
        acme = figures.leads[0]
        for _ in range(300):
            texts = ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 5))) for _ in range(7)]
            contact = {"name": texts[4], "email": texts[5], "phone": texts[6]}
            changed = replace(acme, lead=replace(
                acme.lead, title=texts[0], company=texts[1], next_step=texts[2], tags=(texts[3], texts[0]), contacts=(contact,),
            ))
            data = leads_csv(config, replace(figures, leads=(changed,))).decode("utf-8-sig")
            delimiter = ";" if data.startswith("id;") else ","
            out = io.StringIO()
            writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
            writer.writerows(csv.reader(io.StringIO(data, newline=""), delimiter=delimiter))
            assert out.getvalue() == data
            row = csv_rows(data.encode("utf-8"))[0]
            assert (row["title"], row["contact_phone"]) == (neutralise_formula(texts[0]), neutralise_formula(texts[6]))


def test_csv_cells_shared_by_rows_are_the_cells_of_a_row_alone(make_project) -> None:
    """Cells many rows share (texts, amounts, days) are written once a file: every row is the row written alone, zeros
    keep their sign, equal amounts with other exponents give one cell."""
    amounts = [Decimal(0), Decimal("-0"), Decimal("0.00"), Decimal("-0.0"), Decimal("2.5"), Decimal("2.50"), Decimal("1E+20"), None]
    for config_text in (BASE_CONFIG, GERMAN_CONFIG):
        config, figures = build(make_project, SMALL, config_text)
        acme = figures.leads[0]
        leads = [replace(
            acme, value=amount, weighted=amounts[-1 - n], probability=amounts[(n + 2) % 7],
            lead=replace(acme.lead, id=f"a{n}", value=amount, company=("=Acme, Inc.", None, "Acme \"x\"")[n % 3],
                         stage=("offer", None)[n % 2], created=(None, date(2026, 1, 2))[n % 2], reason=("", "-1")[n % 2]),
        ) for n, amount in enumerate(amounts)]
        rows = leads_csv(config, replace(figures, leads=tuple(leads + leads))).decode("utf-8-sig").split("\r\n")[1:-1]
        alone = [leads_csv(config, replace(figures, leads=(f,))).decode("utf-8-sig").split("\r\n")[1] for f in leads]
        assert rows == alone + alone
        values = [row["value"] for row in csv_rows(leads_csv(config, replace(figures, leads=tuple(leads[:4]))))]
        assert values == (["0.00", "-0.00", "0.00", "-0.00"] if config_text == BASE_CONFIG else ["0,00", "-0,00", "0,00", "-0,00"])


# --- followups.ics -----------------------------------------------------------------------------------------

CALENDAR = {
    "leads/acme.md": lead(
        title="Shop relaunch", company="Acme GmbH", owner="anna", stage="offer", value=1000,
        expected_close="2026-12-10", follow_up="2026-11-25", next_step="'Call, then mail'",
    ),
    "leads/idea.md": lead(title="Idea", owner="ben", status="potential", follow_up="2026-11-25"),
    "leads/kunden/zeta.md": lead(
        title="Upsell", company="Zeta", owner="anna", status="won", value=5, closed_on="2026-10-01", follow_up="2026-11-24",
    ),
    "leads/lost.md": lead(title="Lost", owner="ben", status="lost", closed_on="2026-10-01", follow_up="2026-11-23"),
    "leads/cancelled.md": lead(title="Gone", owner="ben", status="cancelled", closed_on="2026-10-01", follow_up="2026-11-23"),
    "leads/no-follow-up.md": lead(title="Quiet", owner="ben", status="potential"),
}


def test_ics_exact_bytes(make_project) -> None:
    config, figures = build(make_project, CALENDAR)
    expected = (
        "BEGIN:VCALENDAR\r\n"
        "VERSION:2.0\r\n"
        "PRODID:-//funnel-site//follow-ups//EN\r\n"
        "CALSCALE:GREGORIAN\r\n"
        "METHOD:PUBLISH\r\n"
        "X-WR-CALNAME:Testpipeline\r\n"
        "BEGIN:VEVENT\r\n"
        "UID:followup-kunden%2Fzeta@funnel-site\r\n"
        "DTSTAMP:20261122T000000Z\r\n"
        "DTSTART;VALUE=DATE:20261124\r\n"
        "DTEND;VALUE=DATE:20261125\r\n"
        "SUMMARY:Upsell – Zeta\r\n"
        "DESCRIPTION:Owner: Anna Berg\r\n"
        "CATEGORIES:Anna Berg\r\n"
        "URL:leads/kunden/zeta.html\r\n"
        "TRANSP:TRANSPARENT\r\n"
        "END:VEVENT\r\n"
        "BEGIN:VEVENT\r\n"
        "UID:followup-acme@funnel-site\r\n"
        "DTSTAMP:20261122T000000Z\r\n"
        "DTSTART;VALUE=DATE:20261125\r\n"
        "DTEND;VALUE=DATE:20261126\r\n"
        "SUMMARY:Shop relaunch – Acme GmbH\r\n"
        "DESCRIPTION:Next step: Call\\, then mail\\nOwner: Anna Berg\r\n"
        "CATEGORIES:Anna Berg\r\n"
        "URL:leads/acme.html\r\n"
        "TRANSP:TRANSPARENT\r\n"
        "END:VEVENT\r\n"
        "BEGIN:VEVENT\r\n"
        "UID:followup-idea@funnel-site\r\n"
        "DTSTAMP:20261122T000000Z\r\n"
        "DTSTART;VALUE=DATE:20261125\r\n"
        "DTEND;VALUE=DATE:20261126\r\n"
        "SUMMARY:Idea\r\n"
        "DESCRIPTION:Owner: Ben Ott\r\n"
        "CATEGORIES:Ben Ott\r\n"
        "URL:leads/idea.html\r\n"
        "TRANSP:TRANSPARENT\r\n"
        "END:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    assert followups_ics(config, figures, page_url) == expected.encode("utf-8")


def test_ics_lines_shared_by_events_are_the_lines_of_an_event_alone(make_project) -> None:
    config, figures = build(make_project, CALENDAR, GERMAN_CONFIG)
    acme = figures.leads[0]
    steps = ["Call, then mail", None, "", "Anruf; dann Mail über den Verteiler " * 3]
    leads = [replace(acme, lead=replace(acme.lead, id=f"e{n:02}", next_step=steps[n % 4], owner=("anna", "ben", "nobody")[n % 3]))
             for n in range(12)]

    def events(found: list[LeadFigures]) -> list[bytes]:
        ics = followups_ics(config, replace(figures, leads=tuple(found)), page_url)
        return [b"BEGIN:VEVENT" + event for event in ics.split(b"END:VCALENDAR")[0].split(b"BEGIN:VEVENT")[1:]]

    assert events(leads) == [event for f in leads for event in events([f])]


def test_uids_and_urls_are_quoted_as_urllib_quotes_them() -> None:
    pieces = ["a", "Z", "0", "-", ".", "_", "~", "/", " ", "%", "ü", "😀", "[", "]", "?", "#", "'", "\\", "\"", ":", "+", "\n"]
    rnd = random.Random(5)
    for _ in range(2000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 6)))
        assert _uid_quoted(text) == quote(text, safe="-._~")
        assert _uri(text) == quote(text, safe="/:?#[]@!$&'()*+,;=%~-._")


def test_ics_parses_with_icalendar(make_project) -> None:
    config, figures = build(make_project, CALENDAR, GERMAN_CONFIG)
    calendar = icalendar.Calendar.from_ical(followups_ics(config, figures, page_url))
    assert str(calendar["X-WR-CALNAME"]) == "Vertrieb Müller & Söhne"
    assert str(calendar["METHOD"]) == "PUBLISH"
    events = calendar.walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [
        "followup-kunden%2Fzeta@funnel-site", "followup-acme@funnel-site", "followup-idea@funnel-site",
    ]
    acme = events[1]
    assert acme.decoded("DTSTART") == date(2026, 11, 25)  # a date, not a datetime: an all-day event
    assert acme.decoded("DTEND") == date(2026, 11, 26)
    assert str(acme["SUMMARY"]) == "Shop relaunch – Acme GmbH"
    assert str(acme["DESCRIPTION"]) == "Nächster Schritt: Call, then mail\nVerantwortlich: Anna Berg"
    assert str(acme["URL"]) == "leads/acme.html"
    assert str(acme["TRANSP"]) == "TRANSPARENT"
    assert acme["CATEGORIES"].cats == ["Anna Berg"]


def test_ics_escapes_text_and_keeps_it_through_a_parser(make_project) -> None:
    files = {
        "leads/odd.md": lead(
            title='"Back\\\\slash; semi, comma"', company="'A, B; C'", owner="anna", status="potential",
            follow_up="2026-12-01", next_step='"line one\\nline two\\r\\nline three"',
        ),
    }
    config, figures = build(make_project, files)
    ics = followups_ics(config, figures, page_url)
    assert b"SUMMARY:Back\\\\slash\\; semi\\, comma \xe2\x80\x93 A\\, B\\; C\r\n" in ics
    assert b"DESCRIPTION:Next step: line one\\nline two\\nline three\\nOwner: Anna Berg\r\n" in ics
    event = icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Back\\slash; semi, comma – A, B; C"
    assert str(event["DESCRIPTION"]) == "Next step: line one\nline two\nline three\nOwner: Anna Berg"


def test_escape_text_drops_control_characters() -> None:
    assert escape_text("a\x07b\tc\x7fd\re") == "ab\tcd\\ne"


def test_fold_never_splits_a_multibyte_character() -> None:
    line = "SUMMARY:" + "ä" * 33 + "€" * 40  # 8 + 66 octets, then 3-octet characters straddle every boundary
    folded = fold(line).encode("utf-8")
    physical = folded.split(b"\r\n")
    assert [len(p) for p in physical] == [74, 73, 49]
    for part in physical:
        part.decode("utf-8")  # raises if a character was cut in half
    assert all(p.startswith(b" ") for p in physical[1:])
    assert folded.replace(b"\r\n ", b"").decode("utf-8") == line
    assert fold("X" * 75) == "X" * 75
    assert fold("X" * 76) == "X" * 75 + "\r\n X"


def _fold_by_character(line: str) -> str:
    """RFC 5545 folding spelled out character by character: what ``fold`` (which cuts the octets) must equal."""
    parts, current, size, limit = [], "", 0, 75
    for ch in line:
        octets = len(ch.encode("utf-8"))
        if size + octets > limit:
            parts.append(current)
            current, size, limit = "", 0, 74
        current += ch
        size += octets
    return "\r\n ".join([*parts, current])


def test_fold_and_escape_text_equal_their_character_by_character_definitions() -> None:
    alphabet = ["a", "Z", " ", ",", ";", "\\", "ä", "ß", "–", "€", "中", "😀", "\x07", "\t", "\r", "\n", "\x7f", "\x1f", "\u2028"]
    rng = random.Random(8)
    for _ in range(3000):
        line = "".join(rng.choice(alphabet[: rng.randint(1, len(alphabet))]) for _ in range(rng.randint(0, 260)))
        assert fold(line) == _fold_by_character(line), line
        text = line.replace("\r\n", "\n").replace("\r", "\n")
        kept = "".join(ch for ch in text if ch in "\n\t" or not (ord(ch) < 0x20 or ord(ch) == 0x7F))
        assert escape_text(line) == kept.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n"), line


def test_ics_long_lines_fold_at_75_octets_and_unfold_exactly(make_project) -> None:
    title = "Überarbeitung der Größenübersicht für Bäckereifilialen in Köln–Düsseldorf 😀 " * 3
    files = {"leads/lang.md": lead(title=f"'{title.strip()}'", company="Müller", owner="anna", status="potential",
                                   follow_up="2026-12-01")}
    config, figures = build(make_project, files)
    ics = followups_ics(config, figures, page_url)
    physical = ics.split(b"\r\n")
    assert b"\r\n " in ics
    assert max(len(p) for p in physical) <= 75
    for part in physical:
        part.decode("utf-8")
    event = icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == f"{title.strip()} – Müller"


def test_ics_uid_is_stable_when_the_follow_up_moves(make_project) -> None:
    config, figures = build(make_project, CALENDAR)
    first = followups_ics(config, figures, page_url)
    assert first == followups_ics(config, compute(load_project(make_project(CALENDAR)), TODAY), page_url)
    moved = dict(CALENDAR, **{"leads/acme.md": CALENDAR["leads/acme.md"].replace("2026-11-25", "2027-01-04")})
    config, figures = build(make_project, moved)
    second = followups_ics(config, figures, page_url)
    uids = [[str(e["UID"]) for e in icalendar.Calendar.from_ical(ics).walk("VEVENT")] for ics in (first, second)]
    assert sorted(uids[0]) == sorted(uids[1])
    assert uids[1][-1] == "followup-acme@funnel-site"  # now the latest date, so it sorts last
    acme = icalendar.Calendar.from_ical(second).walk("VEVENT")[-1]
    assert acme.decoded("DTSTART") == date(2027, 1, 4)


def test_ics_dtstamp_follows_the_build_today_and_urls_are_uris(make_project) -> None:
    files = {"leads/grün kohl.md": lead(title="Kohl", owner="anna", status="potential", follow_up="2026-12-01")}
    project = load_project(make_project(files))
    ics = followups_ics(project.config, compute(project, date(2027, 2, 3)), page_url)
    assert b"DTSTAMP:20270203T000000Z\r\n" in ics
    assert b"UID:followup-gr%C3%BCn%20kohl@funnel-site\r\n" in ics
    assert b"URL:leads/gr%C3%BCn%20kohl.html\r\n" in ics


def test_ics_without_follow_ups_is_an_empty_calendar(make_project) -> None:
    config, figures = build(make_project, {"leads/quiet.md": lead(title="Quiet", owner="ben", status="potential")})
    ics = followups_ics(config, figures, page_url)
    assert ics == (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//funnel-site//follow-ups//EN\r\nCALSCALE:GREGORIAN\r\n"
        b"METHOD:PUBLISH\r\nX-WR-CALNAME:Testpipeline\r\nEND:VCALENDAR\r\n"
    )
    assert icalendar.Calendar.from_ical(ics).walk("VEVENT") == []

