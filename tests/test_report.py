"""`funnel-site report`: the pipeline as aligned text or as Markdown, from the figures."""

from __future__ import annotations

from conftest import TODAY, lead

FILES = {
    "leads/a.md": lead(title='"Acme | portal <b>"', owner="anna", stage="offer", value=20000, expected_close="2026-12-15",
                       created="2026-11-01", next_step="demo", follow_up="2026-11-20"),
    "leads/b.md": lead(title="Beta shop", owner="ben", stage="negotiation", value=10000, expected_close="2027-01-10",
                       created="2026-09-01", last_contact="2026-10-01", next_step="call"),
    "leads/c.md": lead(title="Care plan", owner="anna", status="won", value=5000, closed_on="2026-11-10"),
    "leads/d.md": lead(title="Idea", owner="ben", status="potential", follow_up="2026-11-01"),
}

TEXT = """\
Testpipeline – pipeline on 2026-11-22
=====================================

2 active leads worth €30,000, weighted forecast €18,000; won €5,000 (1 won, 0 lost, 0 cancelled, 1 potential).

Stages
------

Stage        Probability  Leads    Value  Weighted
Lead                 10%      0       €0        €0
Offer                50%      1  €20,000   €10,000
Negotiation          80%      1  €10,000    €8,000

Forecast by month
-----------------

Expected close  Leads    Value  Weighted   Target
2026-12             1  €20,000   €10,000  €40,000
2027-01             1  €10,000    €8,000

Targets
-------

Period     Target     Won  Weighted open  Forecast  Attained
2026-Q4  €100,000  €5,000        €10,000   €15,000        5%
2026-12   €40,000      €0        €10,000   €10,000        0%

Overdue follow-ups (2)
----------------------

Lead        Title              Owner         Due  Days over
leads/d.md  Idea               ben    2026-11-01         21
leads/a.md  Acme | portal <b>  anna   2026-11-20          2

Stale leads (2)
---------------

Lead        Title              Owner  Last activity  Days quiet
leads/b.md  Beta shop          ben       2026-10-01          52
leads/a.md  Acme | portal <b>  anna      2026-11-01          21
"""

MARKDOWN = """\
## Testpipeline – pipeline on 2026-11-22

2 active leads worth €30,000, weighted forecast €18,000; won €5,000 (1 won, 0 lost, 0 cancelled, 1 potential).

### Stages

| Stage | Probability | Leads | Value | Weighted |
|---|---:|---:|---:|---:|
| Lead | 10% | 0 | €0 | €0 |
| Offer | 50% | 1 | €20,000 | €10,000 |
| Negotiation | 80% | 1 | €10,000 | €8,000 |

### Forecast by month

| Expected close | Leads | Value | Weighted | Target |
|---|---:|---:|---:|---:|
| 2026-12 | 1 | €20,000 | €10,000 | €40,000 |
| 2027-01 | 1 | €10,000 | €8,000 |  |

### Targets

| Period | Target | Won | Weighted open | Forecast | Attained |
|---|---:|---:|---:|---:|---:|
| 2026-Q4 | €100,000 | €5,000 | €10,000 | €15,000 | 5% |
| 2026-12 | €40,000 | €0 | €10,000 | €10,000 | 0% |

### Overdue follow-ups (2)

| Lead | Title | Owner | Due | Days over |
|---|---|---|---:|---:|
| leads/d.md | Idea | ben | 2026-11-01 | 21 |
| leads/a.md | Acme \\| portal &lt;b&gt; | anna | 2026-11-20 | 2 |

### Stale leads (2)

| Lead | Title | Owner | Last activity | Days quiet |
|---|---|---|---:|---:|
| leads/b.md | Beta shop | ben | 2026-10-01 | 52 |
| leads/a.md | Acme \\| portal &lt;b&gt; | anna | 2026-11-01 | 21 |
"""


def test_text_report(make_project, run_cli):
    result = run_cli("report", str(make_project(FILES)), "--today", TODAY)
    assert (result.code, result.err) == (0, "")
    assert result.out == TEXT


def test_markdown_report_escapes_user_text(make_project, run_cli):
    result = run_cli("report", str(make_project(FILES)), "--markdown", "--today", TODAY)
    assert (result.code, result.err) == (0, "")
    assert result.out == MARKDOWN


def test_report_depends_on_today_only(make_project, run_cli):
    root = make_project(FILES)
    later = run_cli("report", str(root), "--today", "2026-11-30").out
    assert "leads/a.md  Acme | portal <b>  anna   2026-11-20         10" in later
    assert later == run_cli("report", str(root), "--today", "2026-11-30").out


def test_an_empty_pipeline_says_so(make_project, run_cli):
    root = make_project(config="title: Leer\ncurrency: EUR\nstages: [{id: a, probability: 10}]\nteam: [{id: x, name: X}]\n")
    result = run_cli("report", str(root), "--today", TODAY)
    assert result.code == 0
    assert result.out.split("\n\n")[4:] == [
        "Forecast by month\n-----------------", "No active leads.",
        "Overdue follow-ups (0)\n----------------------", "None.",
        "Stale leads (0)\n---------------", "None.\n",
    ]


def test_report_refuses_invalid_leads(make_project, run_cli):
    root = make_project({"leads/x.md": lead(title="X", owner="zoe", status="potential")})
    result = run_cli("report", str(root), "--today", TODAY)
    assert (result.code, result.out) == (1, "")
    assert result.err == "leads/x.md:3: owner: unknown team member 'zoe' (known: anna, ben)\nreport failed: 1 error, 0 warnings\n"
