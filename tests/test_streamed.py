"""What a build writes without holding it whole (docs/performance.md, 100k leads): data.json, leads.csv and
followups.ics come in pieces written as they are made, leads-data.js's rows as bytes spliced into the page;
joined, the pieces are the very bytes of the whole documents."""

from __future__ import annotations

import functools
import math
import sys
from datetime import date
from pathlib import Path

import pytest

from conftest import TODAY
from funnel_site import datajson, exports, table_data, views
from funnel_site.build import Checked, check_project
from funnel_site.load import load_project
from funnel_site.render import data_files, page_url, plan_site, render_site

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from generate import generate  # noqa: E402

LEADS = 60
BATCH = 7


@pytest.fixture
def checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Checked:
    """A generated pipeline (umlauts, follow-ups, warnings) with three rows per table page: leads-data.js too."""
    monkeypatch.setattr(views, "table_pages", functools.partial(views.table_pages, size=3))
    generate(LEADS, tmp_path / "p")
    return check_project(load_project(tmp_path / "p"), date.fromisoformat(TODAY))


def test_data_files_come_in_pieces_that_join_to_the_whole_files(checked: Checked, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = render_site(checked.project, checked.figures, checked.problems)
    for module in (datajson, exports, table_data):
        monkeypatch.setattr(module, "BATCH", BATCH)
    pieces = {path: list(made) for path, made in data_files(plan_site(checked.project, checked.figures, checked.problems)).items()}
    dated = sum(1 for f in checked.figures.leads if f.lead.follow_up and f.lead.status in exports.CALENDAR_STATUSES)
    problems = len(checked.problems)
    assert problems and dated
    assert [len(pieces[path]) for path in ("data.json", "leads.csv", "followups.ics")] == [
        3 + math.ceil(LEADS / BATCH) + 1 + math.ceil(problems / BATCH) + 1,  # the summary around and between the lists, each list closed
        1 + math.ceil(LEADS / BATCH),
        1 + math.ceil(dated / BATCH) + 1,
    ]
    assert {path: b"".join(made) for path, made in pieces.items()} == {path: whole[path] for path in pieces}
    assert render_site(checked.project, checked.figures, checked.problems) == whole  # leads-data.js in batches too


def test_data_json_holding_the_slot_marker_is_exact_in_pieces_or_whole(checked: Checked) -> None:
    def pieces_and_expected() -> tuple[list[bytes], bytes]:
        extra = {"scope": None}
        made = list(datajson.pieces(checked.project, checked.figures, checked.problems, page_url, extra))
        whole = datajson.dumps({**datajson.to_data(checked.project, checked.figures, checked.problems, page_url), **extra}) + "\n"
        return made, whole.encode()

    object.__setattr__(checked.project.leads[0], "title", f"Alpha {datajson._SLOT}")  # inside a list: no matter
    made, expected = pieces_and_expected()
    assert len(made) > 1 and b"".join(made) == expected and f"Alpha {datajson._SLOT}".encode() in expected
    object.__setattr__(checked.project.config, "title", f"Pipeline {datajson._SLOT}")  # around the lists: whole
    made, expected = pieces_and_expected()
    assert made == [expected] and f"Pipeline {datajson._SLOT}".encode() in expected


def test_a_build_splices_the_leads_data_rows_as_bytes_and_lets_them_go(checked: Checked) -> None:
    plan = plan_site(checked.project, checked.figures, checked.problems)
    index = next(i for i, (path, _, _) in enumerate(plan.pages) if path == "leads-data.js")
    spliced = plan.pages[index][2]["spliced"]
    path, data = plan.render(index)
    assert isinstance(spliced, table_data.Spliced) and spliced.rows is None and not spliced.plain
    assert data == render_site(checked.project, checked.figures, checked.problems)[path]
    assert data.startswith(b'window.funnelLeads = {"rows":[[["') and data.endswith(b"]};\n")
