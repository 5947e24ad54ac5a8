"""Convert the Maven Analytics "CRM Sales Opportunities" export into a funnel-site pipeline.

Input: the directory holding sales_pipeline.csv, products.csv, sales_teams.csv and accounts.csv
(see shared/datasets/maven-crm/README.md). Output: ``target/config.yaml`` plus one
``target/leads/<opportunity id, lowercased>.md`` per opportunity (8,800 for the full set).

Pure standard library so the test suite and the benchmark can use it without extra packages.
YAML is written by hand: every string goes through ``json.dumps`` (a JSON string is a valid
YAML double-quoted scalar), dates are bare ``YYYY-MM-DD`` and numbers are plain.

Usage as a script: ``python tests/maven_crm.py DATASET_DIR TARGET_DIR``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import sys
import unicodedata
from pathlib import Path

# The pipeline spells one product differently from products.csv.
PRODUCT_ALIASES = {"GTXPro": "GTX Pro"}

STAGES = [("prospecting", "Prospecting", 10), ("engaging", "Engaging", 40)]
OPEN_STAGES = {"Prospecting": "prospecting", "Engaging": "engaging"}
CLOSED_STATUSES = {"Won": "won", "Lost": "lost"}

# Open deals carry no close date, but funnel-site requires expected_close for active leads.
# Engaged deals are expected to close 90 days after engage_date; Prospecting deals have no
# engage_date at all, so they get a fixed date one quarter after the export ends (2017-12-31).
EXPECTED_CLOSE_AFTER = dt.timedelta(days=90)
PROSPECTING_EXPECTED_CLOSE = dt.date(2018, 3, 31)


def slug(name: str) -> str:
    """"Mei-Mei Johns" -> "mei-mei-johns": lowercase ASCII words joined by hyphens."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def q(value: str) -> str:
    """A YAML-safe double-quoted scalar."""
    return json.dumps(value, ensure_ascii=False)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def config_yaml(teams: list[dict[str, str]], pipeline: list[dict[str, str]]) -> str:
    lines = [
        f"title: {q('Maven CRM import')}",
        "currency: USD",
        "locale: en_US",
        "stale_after_days: 30",
        "stages:",
    ]
    for stage_id, name, probability in STAGES:
        lines += [f"  - id: {stage_id}", f"    name: {q(name)}", f"    probability: {probability}"]
    # Every agent from sales_teams.csv (35, five of them without deals) plus any agent that only
    # appears in the pipeline, then the managers. regional_office is dropped: team entries only
    # allow id, name, email and role.
    agents = list(dict.fromkeys([t["sales_agent"] for t in teams] + [r["sales_agent"] for r in pipeline]))
    managers = list(dict.fromkeys(t["manager"] for t in teams))
    lines.append("team:")
    for name, role in [(a, "member") for a in agents] + [(m, "manager") for m in managers]:
        lines += [f"  - id: {slug(name)}", f"    name: {q(name)}", f"    role: {role}"]
    return "\n".join(lines) + "\n"


def lead_markdown(row: dict[str, str], prices: dict[str, int], sectors: dict[str, str]) -> str:
    product = PRODUCT_ALIASES.get(row["product"], row["product"])
    account = row["account"].strip()
    stage = row["deal_stage"]
    engaged = dt.date.fromisoformat(row["engage_date"]) if row["engage_date"] else None

    fields: list[tuple[str, str]] = [
        ("title", q(f"{product} for {account or 'unknown account'}")),
        ("owner", q(slug(row["sales_agent"]))),
    ]
    if account:
        fields.append(("company", q(account)))
    if stage in CLOSED_STATUSES:
        fields += [("status", CLOSED_STATUSES[stage]), ("value", str(int(row["close_value"])))]
    elif stage in OPEN_STAGES:
        expected = engaged + EXPECTED_CLOSE_AFTER if engaged else PROSPECTING_EXPECTED_CLOSE
        fields += [
            ("status", "active"),
            ("stage", OPEN_STAGES[stage]),
            ("value", str(prices[product])),  # open deals are valued at the list price
            ("expected_close", expected.isoformat()),
        ]
    else:
        raise ValueError(f"{row['opportunity_id']}: unknown deal_stage {stage!r}")
    if engaged:
        fields.append(("created", engaged.isoformat()))
    if stage in CLOSED_STATUSES:
        fields.append(("closed_on", dt.date.fromisoformat(row["close_date"]).isoformat()))
    fields.append(("product", q(product)))
    if sectors.get(account):
        fields.append(("sector", q(sectors[account])))

    front = "\n".join(f"{key}: {value}" for key, value in fields)
    notes = f"Imported from Maven CRM opportunity {row['opportunity_id']} ({stage})."
    return f"---\n{front}\n---\n{notes}\n"


def write_pipeline(dataset: Path, target: Path) -> None:
    """Write target/config.yaml and target/leads/*.md from the Maven CRM CSV files in dataset."""
    pipeline = read_csv(dataset / "sales_pipeline.csv")
    teams = read_csv(dataset / "sales_teams.csv")
    prices = {p["product"]: int(p["sales_price"]) for p in read_csv(dataset / "products.csv")}
    sectors = {a["account"]: a["sector"] for a in read_csv(dataset / "accounts.csv")}

    leads = target / "leads"
    leads.mkdir(parents=True, exist_ok=True)
    (target / "config.yaml").write_text(config_yaml(teams, pipeline), encoding="utf-8")
    for row in pipeline:
        path = leads / f"{row['opportunity_id'].lower()}.md"
        path.write_text(lead_markdown(row, prices, sectors), encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: maven_crm.py DATASET_DIR TARGET_DIR")
    write_pipeline(Path(sys.argv[1]), Path(sys.argv[2]))
