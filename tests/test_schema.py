"""`funnel-site schema`: a JSON Schema (draft 2020-12) of the front matter that agrees with the validator."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conftest import BASE_CONFIG, TODAY
from funnel_site.frontmatter import decode, split_lead
from funnel_site.load import load_config
from funnel_site.schema import lead_schema, lead_schema_json


def as_editor_sees_it(value: Any) -> Any:
    """YAML 1.2 in an editor: dates are strings, numbers are numbers."""
    if isinstance(value, dict):
        return {key: as_editor_sees_it(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_editor_sees_it(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def front_matter(path: Path) -> Any:
    text, _ = decode(path.name, path.read_bytes())
    source, problem = split_lead(path.name, text or "")
    assert source is not None, problem
    return as_editor_sees_it(source.data)


@pytest.fixture
def validator(make_project) -> jsonschema.Draft202012Validator:
    schema = lead_schema(load_config(make_project().resolve()))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def messages(validator: jsonschema.Draft202012Validator, data: dict[str, Any]) -> list[str]:
    return sorted(error.message for error in validator.iter_errors(data))


def test_schema_command_prints_the_schema_with_the_config_enums(make_project, run_cli):
    root = make_project()
    result = run_cli("schema", str(root))
    assert (result.code, result.err) == (0, "")
    schema = json.loads(result.out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["owner"]["enum"] == ["anna", "ben"]
    assert schema["properties"]["stage"]["enum"] == ["lead", "offer", "negotiation", None]
    assert schema["properties"]["currency"]["enum"] == ["EUR", "USD"]
    assert schema["properties"]["source"]["enum"] == ["referral", "website", None]
    assert schema["properties"]["history"]["items"]["properties"]["stage"]["enum"] == ["lead", "offer", "negotiation", "won", "lost", "cancelled"]
    assert schema["properties"]["qualification"]["properties"] == {c: {"type": "boolean"} for c in ("budget", "authority", "need", "timeline")}
    assert result.out.encode() == lead_schema_json(load_config(root.resolve()))


def test_schema_bytes_are_deterministic(make_project):
    config = load_config(make_project().resolve())
    assert lead_schema_json(config) == lead_schema_json(config)
    assert lead_schema_json(config).endswith(b"}\n")


def test_schema_without_sources_accepts_any_source_text(make_project):
    config_text = BASE_CONFIG.replace("sources: [referral, website]\n", "")
    schema = lead_schema(load_config(make_project(config=config_text).resolve()))
    validator = jsonschema.Draft202012Validator(schema)
    assert messages(validator, {"title": "x", "owner": "anna", "status": "potential", "source": "Messe"}) == []


def test_schema_needs_a_config(tmp_path, run_cli):
    result = run_cli("schema", str(tmp_path))
    assert (result.code, result.out) == (2, "")
    assert result.err == f"config.yaml:1: config: no config.yaml in {tmp_path.resolve()} (is this a pipeline directory?)\n"


def test_generated_and_edited_leads_validate_against_the_schema(make_project, run_cli, validator):
    root = make_project()
    run_cli("new", "Idea", "--owner", "anna", "--dir", str(root), "--today", TODAY)
    run_cli("new", "Shop", "--owner", "ben", "--value", "900", "--company", "1860", "--dir", str(root), "--today", TODAY)
    run_cli("new", "App", "--owner", "ben", "--stage", "offer", "--dir", str(root), "--today", TODAY)
    assert run_cli("move", "shop", "negotiation", "--dir", str(root), "--today", TODAY).code == 0
    assert run_cli("lost", "app", "--reason", "price", "--dir", str(root), "--today", TODAY).code == 0
    paths = sorted((root / "leads").glob("*.md"))
    assert [p.name for p in paths] == ["app.md", "idea.md", "shop.md"]
    for path in paths:
        assert messages(validator, front_matter(path)) == [], path.name


def test_the_scaffold_examples_validate_against_their_schema(tmp_path, run_cli):
    assert run_cli("init", str(tmp_path / "new"), "--today", TODAY).code == 0
    schema = json.loads(run_cli("schema", str(tmp_path / "new")).out)
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted((tmp_path / "new/leads").glob("*.md")):
        assert messages(validator, front_matter(path)) == [], path.name


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"title": "x", "owner": "anna"}, ["'expected_close' is a required property", "'stage' is a required property", "'value' is a required property"]),
        ({"title": "x", "owner": "anna", "status": "won", "value": 5}, ["'closed_on' is a required property"]),
        ({"title": "x", "owner": "anna", "status": "lost", "closed_on": None}, ["None should not be valid under {'type': 'null'}"]),
        ({"title": "x", "owner": "zoe", "status": "potential"}, ["'zoe' is not one of ['anna', 'ben']"]),
        ({"title": "x", "owner": "anna", "status": "open"}, ["'open' is not one of ['potential', 'active', 'won', 'lost', 'cancelled']"]),
        ({"title": "x", "owner": "anna", "status": "potential", "value": "50k"}, ["'50k' is not of type 'number', 'null'"]),
        ({"title": "x", "owner": "anna", "status": "potential", "value": -1}, ["-1 is less than the minimum of 0"]),
        ({"title": "x", "owner": "anna", "status": "potential", "follow_up": "2026-13-01"}, ["'2026-13-01' does not match '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'"]),
        ({"title": "x", "owner": "anna", "status": "potential", "history": [{"date": "2026-01-01", "stage": "lead", "note": "x"}]},
         ["Additional properties are not allowed ('note' was unexpected)"]),
        ({"title": "x", "owner": "anna", "status": "potential", "qualification": {"budget": "yes"}}, ["'yes' is not of type 'boolean'"]),
        ({"title": "x", "owner": "anna", "status": "potential", "currency": "GBP"}, ["'GBP' is not one of ['EUR', 'USD']"]),
        ({"title": " ", "owner": "anna", "status": "potential"}, ["' ' does not match '\\\\S'"]),
        ({"owner": "anna", "status": "potential"}, ["'title' is a required property"]),
    ],
)
def test_schema_rejects_what_the_validator_rejects(validator, data, expected):
    assert messages(validator, data) == expected


def test_schema_accepts_custom_fields_the_schema_key_and_empty_optional_values(validator):
    data = {
        "$schema": "../lead.schema.json", "title": 1860, "owner": "anna", "stage": "offer", "value": 10.5,
        "expected_close": "2027-01-31", "next_step": None, "branche": {"any": ["thing"]},
        "contact": [{"name": "Eva", "phone": 4930123}], "tags": ["a"], "history": None,
    }
    assert messages(validator, data) == []
