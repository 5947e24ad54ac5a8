"""Spreadsheet and calendar exports: ``leads.csv`` and ``followups.ics``. Pure: model + figures -> bytes."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Callable, Iterator

from babel import Locale, UnknownLocaleError

from funnel_site.figures import Figures, LeadFigures
from funnel_site.model import Config, Lead
from funnel_site.quoting import quoter
from funnel_site.shared_texts import SharedTexts

if TYPE_CHECKING:
    from funnel_site.fragments import Fragments

CENT = Decimal("0.01")
UTF8_BOM = "\ufeff"
# OWASP "CSV Injection" (and ASVS 1.2.10 for NUL): a cell starting with one of these is run as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
CSV_COLUMNS = (
    "id", "file", "title", "company", "status", "stage", "stage_name", "owner", "owner_name",
    "value", "original_value", "currency", "probability_percent", "weighted",
    "expected_close", "closed_on", "reason", "created", "last_contact", "follow_up", "follow_up_overdue", "stale",
    "next_step", "source", "tags", "qualified", "contact_name", "contact_email", "contact_phone",
)
CALENDAR_STATUSES = ("active", "potential", "won")
BATCH = 1000  # rows or events per piece of a streamed export
ICS_LINE_OCTETS = 75
PRODID = "-//funnel-site//follow-ups//EN"
UID_DOMAIN = "funnel-site"
LABELS = {
    "en": {"next_step": "Next step", "owner": "Owner"},
    "de": {"next_step": "Nächster Schritt", "owner": "Verantwortlich"},
}


# --- leads.csv ---------------------------------------------------------------------------------------------


def leads_csv(config: Config, figures: Figures, fragments: Fragments | None = None) -> bytes:
    """One row per lead for Excel: UTF-8 with BOM, CRLF, separator and decimal mark of the pipeline's locale.

    ``fragments`` (serve) keep the rows of unchanged leads.
    """
    return b"".join(leads_csv_pieces(config, figures, fragments))


def leads_csv_pieces(config: Config, figures: Figures, fragments: Fragments | None = None) -> Iterator[bytes]:
    """``leads_csv`` in pieces of ``BATCH`` rows, made as they are asked for (a build writes them one by one)."""
    decimal_mark = _decimal_mark(config.locale)
    # Excel reads a CSV with the list separator of the Windows region; it is ";" wherever "," is the decimal mark.
    delimiter = ";" if decimal_mark == "," else ","
    row = _csv_row(config, decimal_mark, delimiter)
    yield (UTF8_BOM + delimiter.join(CSV_COLUMNS) + "\r\n").encode("utf-8")
    if fragments is None:
        for start in range(0, len(figures.leads), BATCH):
            yield "".join(map(row, figures.leads[start:start + BATCH])).encode("utf-8")
    else:
        # kept encoded: the megabytes are joined as bytes once, not joined as text and encoded again
        yield from fragments.pieces("leads.csv", figures.leads, lambda missing: [row(f).encode("utf-8") for f in missing])


def _decimal_mark(locale: str) -> str:
    try:
        return Locale.parse(locale).number_symbols["latn"]["decimal"]
    except (UnknownLocaleError, ValueError, KeyError):
        return "."


def _csv_row(config: Config, decimal_mark: str, delimiter: str) -> Callable[[LeadFigures], str]:
    """A lead's row, its cells in the order of ``CSV_COLUMNS``, as ``csv.writer`` writes it with ``QUOTE_MINIMAL``
    and CRLF line ends (tests/test_exports.py compares the two; the writer takes twice as long). Only texts can
    need quotes: numbers have no grouping, and their decimal mark is never the separator; dates and flags neither.
    The names of stages and owners are made once for all rows (the first of an id, as ``config.stage`` and
    ``config.member`` find it)."""

    def text(value: str | None) -> str:
        """A text cell: empty when absent, neutralised (``neutralise_formula``), quoted when it holds the separator,
        a quote or a line break."""
        if not value:
            return ""
        value = neutralise_formula(value)
        if delimiter in value or '"' in value or "\n" in value or "\r" in value:
            return '"' + value.replace('"', '""') + '"'
        return value

    stage_names = {stage.id: text(stage.name) for stage in reversed(config.stages)}
    owner_names = {member.id: text(member.name) for member in reversed(config.team)}
    # the cells many rows share (not the lead's own: id, file, title, tags, contact), each written once
    texts = SharedTexts(text)
    amounts = SharedTexts(lambda value: _number(value, decimal_mark, CENT))
    percents = SharedTexts(lambda fraction: _percent(fraction, decimal_mark))
    days = SharedTexts(_iso)

    def row(f: LeadFigures) -> str:
        lead = f.lead
        contact = lead.contacts[0] if lead.contacts else {}
        return delimiter.join((
            text(lead.id), text(lead.path), text(lead.title), texts[lead.company], texts[lead.status],
            texts[lead.stage], stage_names.get(lead.stage, ""), texts[lead.owner], owner_names.get(lead.owner, ""),  # type: ignore[arg-type]
            amounts[f.value], amounts[lead.value], texts[lead.currency],
            percents[f.probability], amounts[f.weighted],
            days[lead.expected_close], days[lead.closed_on], texts[lead.reason], days[lead.created],
            days[lead.last_contact], days[lead.follow_up], _FLAGS[f.follow_up_overdue], _FLAGS[f.stale],
            texts[lead.next_step], texts[lead.source], text("; ".join(lead.tags)),
            _FLAGS[f.qualified], text(contact.get("name")), text(contact.get("email")), text(contact.get("phone")),
        )) + "\r\n"

    return row


def neutralise_formula(text: str) -> str:
    """Prefix an apostrophe so a spreadsheet shows the text instead of evaluating it (OWASP CSV injection)."""
    return "'" + text if text[:1] in _FIRST_OF_FORMULA else text


_FIRST_OF_FORMULA = frozenset(FORMULA_TRIGGERS)  # each a character: one lookup, not a startswith per trigger


def _number(value: Decimal | None, decimal_mark: str, places: Decimal) -> str:
    """Half-up to ``places``, no grouping (Excel would misread a thousands separator), locale decimal mark."""
    if value is None:
        return ""
    return str(value.quantize(places, ROUND_HALF_UP)).replace(".", decimal_mark)


def _percent(fraction: Decimal, decimal_mark: str) -> str:
    """``50`` or ``12,5``: the probability in percent, half-up to two places, without trailing zeros."""
    text = _number(fraction * 100, ".", CENT)
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return text.replace(".", decimal_mark)


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


_FLAGS = {True: "true", False: "false"}


# --- followups.ics -----------------------------------------------------------------------------------------


def followups_ics(config: Config, figures: Figures, page_url: Callable[[Lead], str], fragments: Fragments | None = None) -> bytes:
    """An all-day event per follow-up date (RFC 5545), one stable UID per lead, sorted by date then lead id.

    ``fragments`` (serve) keep the events of unchanged leads.
    """
    return b"".join(followups_ics_pieces(config, figures, page_url, fragments))


def followups_ics_pieces(
    config: Config, figures: Figures, page_url: Callable[[Lead], str], fragments: Fragments | None = None,
) -> Iterator[bytes]:
    """``followups_ics`` in pieces of ``BATCH`` events, made as they are asked for (a build writes them one by one)."""
    stamp = f"{figures.today:%Y%m%d}T000000Z"  # the build's today, never the clock: identical bytes per input
    labels = LABELS.get(_language(config.locale), LABELS["en"])

    def dated(f: LeadFigures) -> bool:
        return f.lead.status in CALENDAR_STATUSES and f.lead.follow_up is not None

    def when(f: LeadFigures) -> tuple[date, str]:  # unique per lead (ids are paths): the input's order does not matter
        return (f.lead.follow_up, f.lead.id)  # type: ignore[return-value]

    if fragments is None:
        leads = sorted(filter(dated, figures.leads), key=when)
    else:  # only the changed leads looked at
        leads = fragments.sorted("followups.ics", fragments.filtered("followups.ics", figures.leads, dated), when)
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(config.title)}",
    ]
    yield "".join(fold(line) + "\r\n" for line in lines).encode("utf-8")
    owners = {member.id: member.name for member in reversed(config.team)}  # the first of an id, as config.member finds it
    # the lines many events share, each made once: per owner, per day, per next step and owner
    categories = SharedTexts(lambda owner: fold(f"CATEGORIES:{escape_text(owner)}"))
    dates = SharedTexts(lambda day: _dates(stamp, day))
    descriptions = SharedTexts(lambda step_and_owner: _description(labels, *step_and_owner))

    def event(f: LeadFigures) -> str:
        lead = f.lead
        owner = owners.get(lead.owner, lead.owner)
        return _event(lead, page_url(lead), dates[lead.follow_up], descriptions[lead.next_step, owner], categories[owner])

    if fragments is None:
        for start in range(0, len(leads), BATCH):
            yield "".join([event(f) for f in leads[start:start + BATCH]]).encode("utf-8")
    else:  # kept encoded: the megabytes are joined as bytes once, not joined as text and encoded again
        yield from fragments.pieces("followups.ics", leads, lambda missing: [event(f).encode("utf-8") for f in missing])
    yield b"END:VCALENDAR\r\n"


def _language(locale: str) -> str:
    return re.split(r"[_-]", locale, maxsplit=1)[0].lower()


def _dates(stamp: str, day: date) -> str:
    """An event's DTSTAMP, DTSTART and DTEND lines."""
    return (
        f"DTSTAMP:{stamp}\r\n"
        f"DTSTART;VALUE=DATE:{day:%Y%m%d}\r\n"
        f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}\r\n"  # exclusive: a one-day event ends the next day
    )


def _description(labels: dict[str, str], next_step: str | None, owner: str) -> str:
    """An event's DESCRIPTION line, folded: the next step if any, and the owner."""
    description = [f"{labels['next_step']}: {next_step}"] if next_step else []
    description.append(f"{labels['owner']}: {owner}")
    return fold(f"DESCRIPTION:{escape_text(chr(10).join(description))}")


def _event(lead: Lead, url: str, dates: str, description: str, categories: str) -> str:
    """The event's lines, folded; ``dates``, ``description`` and ``categories`` are shared by many events. Only
    lines holding free text or names can be long."""
    summary = f"{lead.title} – {lead.company}" if lead.company else lead.title
    return (
        "BEGIN:VEVENT\r\n"
        f"{fold(f'UID:{event_uid(lead)}')}\r\n"
        f"{dates}"
        f"{fold(f'SUMMARY:{escape_text(summary)}')}\r\n"
        f"{description}\r\n"
        f"{categories}\r\n"
        f"{fold(f'URL:{_uri(url)}')}\r\n"
        "TRANSP:TRANSPARENT\r\n"
        "END:VEVENT\r\n"
    )


_uid_quoted = quoter("-._~")
# Percent-encode what a URI cannot hold (spaces, umlauts in file names); keep its reserved characters.
_uri = quoter("/:?#[]@!$&'()*+,;=%~-._")


def event_uid(lead: Lead) -> str:
    """Stable across builds and follow-up dates, so a subscription moves the event instead of adding one."""
    return f"followup-{_uid_quoted(lead.id)}@{UID_DOMAIN}"


def escape_text(text: str) -> str:
    r"""RFC 5545 TEXT: backslash, ";", "," and line breaks escaped; other control characters dropped."""
    if not _ESCAPED.search(text):
        return text  # most titles and names: one search instead of seven passes
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    for raw, escaped in (("\\", "\\\\"), (";", "\\;"), (",", "\\,"), ("\n", "\\n")):
        text = text.replace(raw, escaped)
    return text


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # the control characters but tab and line feed
_ESCAPED = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\\;,]")  # what escape_text changes: control characters but tab, backslash, ";" and ","


def fold(line: str) -> str:
    """Fold at 75 octets (RFC 5545 3.1), never inside a UTF-8 character; continuation lines start with a space."""
    if (len(line) <= ICS_LINE_OCTETS and line.isascii()) or len(line) <= ICS_LINE_OCTETS // 4:
        return line  # a character is at most 4 octets, an ASCII one 1
    data = line.encode("utf-8")
    if len(data) <= ICS_LINE_OCTETS:
        return line  # most lines need no folding
    parts: list[bytes] = []
    start, limit = 0, ICS_LINE_OCTETS
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # a continuation octet: the cut goes before its character
            end -= 1
        parts.append(data[start:end])
        start, limit = end, ICS_LINE_OCTETS - 1  # the leading space counts
    parts.append(data[start:])
    return b"\r\n ".join(parts).decode("utf-8")
