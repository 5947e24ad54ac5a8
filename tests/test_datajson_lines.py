"""data.json's compact lines are written without the C encoder: the same text as ``json.dumps`` writes."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from conftest import lead, write_project
from funnel_site.build import check
from funnel_site.datajson import RawJSON, _LeadLines, one_line, pieces
from funnel_site.model import HistoryEntry
from funnel_site.render import page_url

SAMPLE = Path(__file__).parent / "data" / "sample"
TEXTS = ["", "a", "ä", '"', "\\", "\n", "\x00", "\x1f", "\x7f", "\u2028", "\ue000", "\ue003", "€", "😀", "/", "'"]


def _value(rnd: random.Random, depth: int = 0) -> Any:
    kinds = ["text", "int", "float", "literal"] + (["list", "tuple", "dict"] if depth < 3 else [])
    kind = rnd.choice(kinds)
    if kind == "text":
        return "".join(rnd.choice(TEXTS) for _ in range(rnd.randint(0, 4)))
    if kind == "int":
        return rnd.choice([0, -1, 7, 10**20])
    if kind == "float":
        return rnd.choice([0.5, -1e300, 1e-7, float("inf"), float("nan")])
    if kind == "literal":
        return rnd.choice([True, False, None])
    if kind == "dict":
        keys = [_value(rnd, 3) if rnd.random() < 0.2 else _value(rnd, 4) for _ in range(rnd.randint(0, 3))]
        return {key: _value(rnd, depth + 1) for key in keys if isinstance(key, (str, int, float, bool, type(None)))}
    items = [_value(rnd, depth + 1) for _ in range(rnd.randint(0, 3))]
    return items if kind == "list" else tuple(items)


def test_one_line_writes_what_json_dumps_writes() -> None:
    rnd = random.Random(4)
    for _ in range(3000):
        value = _value(rnd)
        assert one_line(value) == json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def test_one_line_writes_numbers_exactly_as_given() -> None:
    assert one_line({"value": RawJSON("1000.50"), "list": [RawJSON("0.1000"), 2]}) == '{"value": 1000.50, "list": [0.1000, 2]}'


def test_a_lead_holding_markers_quotes_and_custom_values_is_written_exactly(tmp_path: Path) -> None:
    text = 'Müller "&" \\ \ue000 \ue003 \u2028 end'
    root = write_project(tmp_path / "p", {"leads/a.md": lead(
        title=json.dumps(text), owner="anna", stage="offer", value="1000.005", expected_close="2026-12-01",
        tags="[b2b, \"x\\\"y\"]", contact="{name: Jörg, phone: '+49'}", history="[{date: 2026-11-01, stage: offer}]",
        budget_code="{when: 2026-10-01, rate: 1.50, codes: [1, x]}",
    )})
    checked = check(root, date(2026, 11, 22), None, 1)
    data = b"".join(pieces(checked.project, checked.figures, checked.problems, page_url, {"scope": None})).decode()
    line = next(line for line in data.split("\n") if line.startswith('    {"id": "a"'))
    assert line == (
        '    {"id": "a", "file": "leads/a.md", "page": "leads/a.html", '
        '"title": "Müller \\"&\\" \\\\ \ue000 \ue003 \u2028 end", "company": null, "status": "active", "stage": "offer", '
        '"owner": "anna", "value": 1000.01, "original_value": 1000.01, "currency": "EUR", "probability": 0.5000, '
        '"weighted": 500.00, "expected_close": "2026-12-01", "closed_on": null, "reason": null, "created": null, '
        '"last_contact": null, "follow_up": null, "follow_up_overdue": false, "stale": true, "age_days": null, '
        '"days_since_touch": 21, "next_step": null, "source": null, "tags": ["b2b", "x\\"y"], "qualification": {}, '
        '"qualified": false, "contacts": [{"name": "Jörg", "phone": "+49"}], '
        '"history": [{"date": "2026-11-01", "stage": "offer"}], '
        '"custom": {"budget_code": {"when": "2026-10-01", "rate": 1.50, "codes": [1, "x"]}}}'
    )
    assert json.loads(data)["leads"][0]["title"] == text


def _edge_leads(leads: Any) -> list[Any]:
    """Copies of a lead with the values a document writes once and then reuses: zeros of either sign, equal amounts
    written with other exponents, huge and long amounts, no values, umlauts in the shared texts."""
    amounts = [Decimal(0), Decimal("-0"), Decimal("0.00"), Decimal("-0.000"), Decimal("1.005"), Decimal("1.0050"),
               Decimal("1E+20"), Decimal("123456789012345678901234.565"), Decimal("0.123456789"), None]
    found = []
    for n, amount in enumerate(amounts):
        lead = replace(
            leads[n % len(leads)].lead, id=f"edge-{n}", value=amount, stage=("offer", "Angebot ä", None)[n % 3],
            owner=("anna", "jörg")[n % 2], source=(None, "Messe ü")[n % 2], reason=("", None)[n % 2],
            created=(None, date(2026, 1, 2))[n % 2], history=(HistoryEntry(date(2026, 1, 2), "Angebot ä"),) * (n % 3),
            qualification=({}, {"budget": True, "need": False})[n % 2],
        )
        found.append(replace(
            leads[0], lead=lead, value=amount, weighted=amounts[-1 - n], probability=amounts[(n + 3) % 9],
            age_days=(0, None, 7)[n % 3], days_since_touch=(None, 0, 12)[n % 3],
        ))
    return found


def test_a_lead_line_is_the_same_with_the_values_it_shares_written_before() -> None:
    checked = check(SAMPLE, date(2026, 11, 22), None, 1)
    leads = [*checked.figures.leads, *_edge_leads(checked.figures.leads)]
    alone = [_LeadLines(page_url)(f) for f in leads]  # a document of its own each: nothing written before
    for order in (list(range(len(leads))), list(range(len(leads)))[::-1]):
        shared = _LeadLines(page_url)
        assert [shared(leads[i]) for i in order * 2] == [alone[i] for i in order * 2]
    edge = [json.loads(line, parse_float=Decimal) for line in alone[-10:]]
    assert [line["value"] for line in edge] == [Decimal(text) for text in (
        "0.00", "-0.00", "0.00", "-0.00", "1.01", "1.01", "100000000000000000000.00", "123456789012345678901234.57", "0.12",
    )] + [None]
    assert ['"value": -0.00,' in line for line in alone[-10:-5]] == [False, True, False, True, False]


def test_a_lead_line_writes_its_tags_and_contacts_as_json_dumps_writes_them() -> None:
    """Tags and contacts are written without ``one_line``: every kind of text, no items, several contacts, a key a
    number."""
    checked = check(SAMPLE, date(2026, 11, 22), None, 1)
    first = checked.figures.leads[0]
    line = _LeadLines(page_url)
    cases: list[tuple[tuple[str, ...], tuple[dict[Any, str], ...]]] = [
        ((), ()),
        (tuple(TEXTS), ({},)),
        (("b2b",), ({"name": "Jörg", "email": "j@x.example"}, {text: text for text in TEXTS}, {1: "one", "role": "\x00"})),
    ]
    for tags, contacts in cases:
        written = line(replace(first, lead=replace(first.lead, tags=tags, contacts=contacts)))
        assert written.split('"tags": ', 1)[1].split(', "qualification": ', 1)[0] == _dumped(list(tags))
        assert written.split('"contacts": ', 1)[1].split(', "history": ', 1)[0] == _dumped(list(contacts))


def _dumped(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
