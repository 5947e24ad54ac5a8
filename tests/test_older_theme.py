"""A pipeline's templates written for an earlier built-in theme keep working: page templates calling
``rows_of(template, items)`` without the depth, rows templates reading the page's variables (``stage_order``),
and a macros.html without the lead page's own macros (``field_value``, ``contact_value``)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Callable

from conftest import TODAY

DATA = Path(__file__).parent / "data"


def _files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def test_templates_of_the_earlier_theme_build_the_same_site(run_cli: Callable[..., object], tmp_path: Path) -> None:
    pipeline = tmp_path / "pipeline"
    shutil.copytree(DATA / "sample", pipeline)
    for template in (DATA / "older-theme").iterdir():
        shutil.copy(template, pipeline / "templates" / template.name)
    built = run_cli("build", str(pipeline), "-o", str(tmp_path / "older"), "--today", TODAY, "--no-cache")
    assert built.code == 0, built.err  # type: ignore[attr-defined]
    assert run_cli("build", str(DATA / "sample"), "-o", str(tmp_path / "now"), "--today", TODAY, "--no-cache").code == 0  # type: ignore[attr-defined]
    older, now = _files(tmp_path / "older"), _files(tmp_path / "now")
    assert older == {**now, "leads.html": _without_attention(now["leads.html"])}


def _without_attention(page: bytes) -> bytes:
    """The table as the earlier theme's leads.html and rows-leads.html write it: without the attention filter added since."""
    text = re.sub(r' data-attention="[^"]*"', "", page.decode())
    text, removed = re.subn(r'<label>Handlungsbedarf <select name="attention".*?</select></label>\n', "", text, flags=re.S)
    assert removed == 1
    return text.encode()


def test_a_macros_html_of_the_earlier_theme_serves_the_built_in_lead_page(make_project: Callable[..., Path], run_cli: Callable[..., object], tmp_path: Path) -> None:
    from conftest import lead

    leads = {"leads/acme.md": lead(title="Acme", owner="anna", stage="offer", value=1000, expected_close="2026-12-01", company="Acme AG", next_step="Call")}
    plain = make_project(leads)
    assert run_cli("build", str(plain), "-o", str(tmp_path / "now"), "--today", TODAY, "--no-cache").code == 0  # type: ignore[attr-defined]
    (plain / "templates").mkdir()
    shutil.copy(DATA / "older-theme" / "macros.html", plain / "templates" / "macros.html")
    built = run_cli("build", str(plain), "-o", str(tmp_path / "older"), "--today", TODAY, "--no-cache")
    assert built.code == 0, built.err  # type: ignore[attr-defined]
    assert _files(tmp_path / "older") == _files(tmp_path / "now")
