"""End-to-end build of the real Maven CRM export (8,800 opportunities) against known totals."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from maven_crm import OPEN_STAGES, PRODUCT_ALIASES, write_pipeline

DATASET = Path(__file__).resolve().parents[2] / "shared/datasets/maven-crm"
PROBABILITY = {"Prospecting": Decimal("0.10"), "Engaging": Decimal("0.40")}


def expected_open_pipeline() -> tuple[Decimal, Decimal]:
    """Σ list price of open deals and Σ list price × stage probability, straight from the CSV."""
    with (DATASET / "products.csv").open(newline="") as handle:
        prices = {p["product"]: Decimal(p["sales_price"]) for p in csv.DictReader(handle)}
    pipeline = weighted = Decimal(0)
    with (DATASET / "sales_pipeline.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["deal_stage"] in OPEN_STAGES:
                price = prices[PRODUCT_ALIASES.get(row["product"], row["product"])]
                pipeline += price
                weighted += price * PROBABILITY[row["deal_stage"]]
    return pipeline, weighted


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if not (DATASET / "sales_pipeline.csv").is_file():
        pytest.fail(f"Maven CRM dataset not found at {DATASET} (expected <repo>/../shared/datasets/maven-crm)")
    from funnel_site.cli import main

    root = tmp_path_factory.mktemp("maven")
    pipeline, out = root / "pipeline", root / "site"
    write_pipeline(DATASET, pipeline)
    assert len(list((pipeline / "leads").glob("*.md"))) == 8800

    rc = main(["build", str(pipeline), "-o", str(out), "--today", "2017-12-31"])
    assert rc == 0
    return json.loads((out / "data.json").read_text(encoding="utf-8"))


def test_counts(data: dict) -> None:
    counts = data["totals"]["counts"]
    total = counts["total"] if "total" in counts else sum(counts.values())
    assert total == 8800
    assert counts["won"] == 4238
    assert counts["lost"] == 2473
    assert counts["active"] == 2089
    assert len(data["leads"]) == 8800


def test_won_value_and_close_rate(data: dict) -> None:
    totals = data["totals"]
    assert isinstance(totals["won_value"], (int, float)) and not isinstance(totals["won_value"], bool)
    assert totals["won_value"] == 10005534
    assert totals["close_rate"]["by_count"] == 0.6315  # 4238 / (4238 + 2473)


def test_open_pipeline_matches_csv(data: dict) -> None:
    pipeline, weighted = expected_open_pipeline()
    totals = data["totals"]
    assert Decimal(str(totals["pipeline_value"])) == pipeline
    assert Decimal(str(totals["weighted_forecast"])) == weighted.quantize(Decimal("0.01"))
