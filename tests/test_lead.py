"""lead.parse_lead's shortcuts (values of the usual types, checked for a whole list or mapping at once) give the
values the field-by-field reading gives, and Config's lookups find what a search from the front finds."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from conftest import BASE_CONFIG

from funnel_site.config import parse_config
from funnel_site.fields import FieldReader
from funnel_site.lead import parse_lead
from funnel_site.model import Config, HistoryEntry, Member, Stage
from funnel_site.problems import Problem
from funnel_site.strict_yaml import parse_yaml

CONFIG = parse_config(*parse_yaml(BASE_CONFIG))[0]
BASE = {"title": "Acme", "owner": "anna", "status": "won", "value": 5, "closed_on": date(2026, 3, 1)}


def _lead(**data: Any) -> Any:
    lead, problems = parse_lead("leads/a.md", "a", {**BASE, **data}, {"title": 2}, "", 9, CONFIG)
    assert problems == [] and lead is not None
    return lead


def test_usual_and_unusual_values_read_alike() -> None:
    lead = _lead(tags=["a", 2026, Decimal("1.5")], contact=[{"name": "Max", "phone": 4930}, {"name": "Eva"}],
                 qualification={"budget": True, "need": False}, created=datetime(2026, 1, 2, 3, 4),
                 history=[{"date": date(2026, 1, 5), "stage": CONFIG.stages[0].id}, {"date": date(2026, 2, 1), "stage": "won"}],
                 custom_key=[1])
    assert lead.tags == ("a", "2026", "1.5")
    assert lead.contacts == ({"name": "Max", "phone": "4930"}, {"name": "Eva"})
    assert lead.qualification == {"budget": True, "need": False}
    assert lead.created == datetime(2026, 1, 2, 3, 4) and lead.last_contact is None
    assert lead.history == (HistoryEntry(date(2026, 1, 5), CONFIG.stages[0].id), HistoryEntry(date(2026, 2, 1), "won"))
    assert lead.custom == {"custom_key": [1]}
    plain = _lead(tags=["a", "b"], contact={"name": "Max"}, qualification={"budget": True})
    assert (plain.tags, plain.contacts, plain.qualification, plain.custom) == (("a", "b"), ({"name": "Max"},), {"budget": True}, {})


def test_the_lead_holds_copies_of_the_parsed_containers() -> None:
    data = {**BASE, "contact": {"name": "Max"}, "qualification": {"budget": True}}
    lead = parse_lead("leads/a.md", "a", data, {}, "", 9, CONFIG)[0]
    data["contact"]["name"] = data["qualification"]["budget"] = None
    assert lead is not None and lead.contacts == ({"name": "Max"},) and lead.qualification == {"budget": True}


def test_config_lookups_find_the_first_of_an_id_and_follow_replace() -> None:
    first, second = Stage("a", "A", Decimal(10)), Stage("a", "Again", Decimal(20))
    anna, other = Member("anna", "Anna"), Member("anna", "Other")
    config = Config("t", "EUR", "en_US", (first, second), (anna, other))
    assert config.stage("a") is first and config.member("anna") is anna and config.stage(None) is config.member("x") is None
    assert replace(config, team=(other,)).member("anna") is other
    assert config == replace(config) and "_stages_by_id" not in repr(config)


def test_text_fields_of_every_type_read_as_before() -> None:
    reader = FieldReader("leads/a.md", {"title": 2, "company": 3, "source": 4})
    data = {"title": "  ", "company": 1, "reason": "Budget", "source": True, "next_step": None, "tags": Decimal("1.5")}
    assert [reader.text(data, "title", required=True), reader.text(data, "company"), reader.text(data, "reason"),
            reader.text(data, "source"), reader.text(data, "next_step", required=True), reader.text(data, "tags"),
            reader.text({"title": " Acme "}, "title", required=True)] == [None, "1", "Budget", None, None, "1.5", " Acme "]
    assert reader.problems == [
        Problem("leads/a.md", 2, "title", "required field is missing", rule="required"),
        Problem("leads/a.md", 4, "source", "expected text, got true", rule="type"),
        Problem("leads/a.md", 1, "next_step", "required field is missing", rule="required"),
    ]


def test_value_in_base_currency_is_value_times_rate_to_the_digit() -> None:
    for value in (0, 5, 999999999999999, Decimal("1500.50"), Decimal("0.1234567890123456789012345678901")):
        lead = _lead(value=value)
        assert str(lead.value_base) == str(lead.value * CONFIG.rate(CONFIG.currency))  # type: ignore[operator]
    whole = _lead(value=5)
    assert whole.value_base is whole.value  # one Decimal for both: the pickle writes it once
