"""Shared fixtures: tiny pipelines written from strings, and the CLI run in-process."""

from __future__ import annotations

import gc
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from funnel_site.cli import main

TODAY = "2026-11-22"

BASE_CONFIG = """\
title: Testpipeline
currency: EUR
locale: en_US
stages:
  - {id: lead, name: Lead, probability: 10}
  - {id: offer, name: Offer, probability: 50, stale_after_days: 14}
  - {id: negotiation, name: Negotiation, probability: 80}
team:
  - {id: anna, name: Anna Berg, email: anna@example.com, role: manager}
  - {id: ben, name: Ben Ott, email: ben@example.com}
sources: [referral, website]
exchange_rates: {USD: 0.9}
targets:
  2026-Q4: 100000
  2026-12: 40000
"""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/data/golden from the current output")


@pytest.fixture(autouse=True)
def _nothing_left_frozen() -> Iterator[None]:
    """A dev session freezes what its full build keeps (``devsession._settle``), as ``serve`` wants; the next
    test must not start with those objects frozen (test_memory checks what a build freezes and unfreezes)."""
    yield
    gc.unfreeze()


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def dedent(text: str | bytes) -> str | bytes:
    return text if isinstance(text, bytes) else textwrap.dedent(text).lstrip("\n")


def write_project(root: Path, files: dict[str, str | bytes], config: str | None = BASE_CONFIG) -> Path:
    """Write a pipeline: config.yaml (unless None) plus files given as relative path -> text or bytes."""
    root.mkdir(parents=True, exist_ok=True)
    if config is not None:
        (root / "config.yaml").write_text(dedent(config), encoding="utf-8")  # type: ignore[arg-type]
    (root / "leads").mkdir(exist_ok=True)
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        body = dedent(content)
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body, encoding="utf-8")
    return root


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """``make_project({"leads/acme.md": "---\\n...\\n---\\n"}, config=...)`` -> the pipeline directory."""

    def make(files: dict[str, str | bytes] | None = None, config: str | None = BASE_CONFIG) -> Path:
        return write_project(tmp_path / "pipeline", files or {}, config)

    return make


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run ``funnel-site ARGS`` in-process and capture exit code, stdout and stderr."""

    def run(*args: str) -> Run:
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse usage errors
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def lead(**fields: object) -> str:
    """A lead file from keyword fields (values written as YAML scalars), with a short note."""
    lines = ["---"] + [f"{key}: {value}" for key, value in fields.items()] + ["---", "Notes.", ""]
    return "\n".join(lines)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for all browser tests, whatever module they are in: a second Playwright in one process fails."""
    from playwright.sync_api import sync_playwright

    from browser_support import ARGS, CHROMIUM

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    yield ctx
    ctx.close()
