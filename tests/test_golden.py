"""The whole site of tests/data/sample, byte for byte. Refresh with `pytest tests/test_golden.py --update-golden`."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from conftest import TODAY
from funnel_site.build import build

SAMPLE = Path(__file__).parent / "data" / "sample"
GOLDEN = Path(__file__).parent / "data" / "golden"


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_sample_site_matches_golden(tmp_path: Path, update_golden: bool) -> None:
    out = tmp_path / "site"
    build(SAMPLE, out, date.fromisoformat(TODAY))
    built = _files(out)
    if update_golden:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(out, GOLDEN)
    golden = _files(GOLDEN)
    assert sorted(built) == sorted(golden)
    changed = [name for name in built if built[name] != golden[name]]
    assert changed == [], "differs from tests/data/golden (run pytest --update-golden if intended): " + ", ".join(changed)


def test_pipeline_override_extends_the_builtin_lead_page() -> None:
    page = (GOLDEN / "leads/stadtwerke-relaunch.html").read_text(encoding="utf-8")
    assert '<p class="hint">Pixelwerk: Notizen nach jedem Termin ergänzen, Wiedervorlage setzen.</p>' in page
    assert "<h2 id=\"notes-heading\">Notizen</h2>" in page  # the built-in page is still all there
