"""`new`, `move`, `won`, `lost`, `cancel`: in-place edits that keep every other byte of the lead file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from conftest import TODAY
from funnel_site.load import load_project

ACTIVE = """\
---
title: Acme relaunch   # the big one
owner: anna
stage: lead
value: 48000
expected_close: 2027-01-31
# contact details
contact: {name: Eva, email: eva@example.com}
history:
  - date: 2026-10-01
    stage: lead
tags: [web]
---

## 2026-10-01 Call

- Budget: *yes*.  Trailing spaces stay.  
"""


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "leads").rglob("*") if p.name.startswith("."))


def test_move_appends_a_block_history_entry_and_keeps_every_other_byte(make_project, run_cli):
    root = make_project({"leads/acme.md": ACTIVE})
    result = run_cli("move", "acme", "offer", "--dir", str(root), "--today", TODAY)
    assert (result.code, result.out, result.err) == (0, "moved leads/acme.md from lead to offer\n", "")
    expected = ACTIVE.replace("stage: lead\nvalue", "stage: offer\nvalue").replace(
        "    stage: lead\ntags", "    stage: lead\n  - date: 2026-11-22\n    stage: offer\ntags"
    )
    assert (root / "leads/acme.md").read_text(encoding="utf-8") == expected
    assert _leftovers(root) == []


def test_move_in_a_crlf_file_with_comments_and_flow_history(make_project, run_cli):
    original = (
        b"---\r\n"
        b"title: \"Acme: relaunch\"   # quoted\r\n"
        b"owner: anna\r\n"
        b"stage: 'lead'  # since October\r\n"
        b"value: 1000\r\n"
        b"expected_close: 2027-01-31\r\n"
        b"history: [{date: 2026-10-01, stage: lead}]  # the log ]\r\n"
        b"# last comment\r\n"
        b"---\r\n"
        b"Notes\r\n\r\n- item\r\n"
    )
    root = make_project({"leads/acme.md": original})
    result = run_cli("move", "leads/acme.md", "negotiation", "--dir", str(root), "--today", TODAY)
    assert result.code == 0, result.err
    expected = original.replace(b"stage: 'lead'  #", b"stage: negotiation  #").replace(
        b"stage: lead}]", b"stage: lead}, {date: 2026-11-22, stage: negotiation}]"
    )
    assert (root / "leads/acme.md").read_bytes() == expected


def test_won_in_a_bom_file_inserts_status_and_closed_on(make_project, run_cli):
    original = "\ufeff---\ntitle: Müller & Söhne\nowner: ben\nstage: offer\nvalue: 5000.50\nexpected_close: 2027-01-31\n---\nNotizen: äöü\n".encode()
    root = make_project({"leads/mueller.md": original})
    result = run_cli("won", "mueller", "--dir", str(root), "--today", TODAY)
    assert (result.code, result.out) == (0, "leads/mueller.md: won on 2026-11-22\n")
    expected = "\ufeff---\ntitle: Müller & Söhne\nowner: ben\nstatus: won\nstage: offer\nvalue: 5000.50\nclosed_on: 2026-11-22\nexpected_close: 2027-01-31\nhistory:\n  - date: 2026-11-22\n    stage: won\n---\nNotizen: äöü\n"
    assert (root / "leads/mueller.md").read_bytes() == expected.encode()


def test_lost_replaces_status_and_reason_in_place_and_quotes_when_needed(make_project, run_cli):
    original = """\
        ---
        title: Shop
        owner: anna
        status: active    # default
        stage: offer
        value: 900
        expected_close: 2027-01-31
        reason: old reason  # keep this comment
        history:
        - date: 2026-10-01
          stage: offer
        ---
        """
    root = make_project({"leads/sub/shop.md": original})
    result = run_cli("lost", "sub/shop", "--reason", "Preis: 25 % zu hoch # sagt er", "--dir", str(root), "--today", TODAY)
    assert (result.code, result.out) == (0, "leads/sub/shop.md: lost on 2026-11-22\n")
    assert (root / "leads/sub/shop.md").read_text(encoding="utf-8") == """\
---
title: Shop
owner: anna
status: lost    # default
stage: offer
value: 900
closed_on: 2026-11-22
expected_close: 2027-01-31
reason: "Preis: 25 % zu hoch # sagt er"  # keep this comment
history:
- date: 2026-10-01
  stage: offer
- date: 2026-11-22
  stage: lost
---
"""
    lead = load_project(root).leads[0]
    assert (lead.status, lead.reason, str(lead.closed_on)) == ("lost", "Preis: 25 % zu hoch # sagt er", "2026-11-22")


def test_cancel_keeps_the_flow_item_style_and_key_order(make_project, run_cli):
    original = """\
        ---
        title: App
        owner: ben
        status: potential
        history:
          - { stage: lead, date: 2026-09-01 }

        custom: kept
        ---
        body
        """
    root = make_project({"leads/app.md": original})
    result = run_cli("cancel", "app", "--reason", "no capacity", "--dir", str(root), "--today", TODAY)
    assert (result.code, result.out) == (0, "leads/app.md: cancelled on 2026-11-22\n")
    assert (root / "leads/app.md").read_text(encoding="utf-8") == """\
---
title: App
owner: ben
status: cancelled
closed_on: 2026-11-22
reason: no capacity
history:
  - { stage: lead, date: 2026-09-01 }
  - { stage: cancelled, date: 2026-11-22 }

custom: kept
---
body
"""


def test_history_in_a_multi_line_flow_list_and_an_empty_history(make_project, run_cli):
    multi = "---\ntitle: A\nowner: anna\nstage: lead\nvalue: 1\nexpected_close: 2027-01-31\nhistory: [\n  {date: 2026-10-01, stage: lead},\n]\n---\n"
    empty = "---\ntitle: B\nowner: anna\nstage: lead\nvalue: 1\nexpected_close: 2027-01-31\nhistory:   # none yet\nnext_step: call\n---\n"
    root = make_project({"leads/a.md": multi, "leads/b.md": empty})
    assert run_cli("move", "a", "offer", "--dir", str(root), "--today", TODAY).code == 0
    assert run_cli("move", "b", "offer", "--dir", str(root), "--today", TODAY).code == 0
    assert (root / "leads/a.md").read_text() == multi.replace("stage: lead\nvalue", "stage: offer\nvalue").replace(
        "stage: lead}," , "stage: lead}, {date: 2026-11-22, stage: offer}"
    )
    assert (root / "leads/b.md").read_text() == empty.replace("stage: lead", "stage: offer").replace(
        "# none yet\n", "# none yet\n  - date: 2026-11-22\n    stage: offer\n"
    )


def test_move_promotes_a_potential_lead_to_active(make_project, run_cli):
    original = "---\ntitle: Idea\nowner: anna\nstatus: potential\nvalue: 10\nexpected_close: 2027-03-01\n---\n"
    root = make_project({"leads/idea.md": original})
    result = run_cli("move", "idea", "offer", "--dir", str(root), "--today", TODAY)
    assert (result.code, result.out) == (0, "moved leads/idea.md from potential to offer\n")
    assert (root / "leads/idea.md").read_text() == (
        "---\ntitle: Idea\nowner: anna\nstatus: active\nstage: offer\nvalue: 10\nexpected_close: 2027-03-01\n"
        "history:\n  - date: 2026-11-22\n    stage: offer\n---\n"
    )


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        ({}, ("move", "nope", "offer"), "lead 'nope' not found: no file leads/nope.md"),
        ({}, ("move", "leads/nope.md", "offer"), "lead 'leads/nope.md' not found"),
        ({"outside.md": "---\ntitle: x\n---\n"}, ("move", "outside.md", "offer"), "lead 'outside.md' is not a file inside leads/"),
        ({"leads/a.md": ACTIVE, "outside.md": "x"}, ("move", "../outside", "offer"), "lead '../outside' is not a file inside leads/"),
        ({"leads/a.md": ACTIVE}, ("move", "a", "negotation"), "unknown stage 'negotation' (known: lead, offer, negotiation)"),
        ({"leads/a.md": ACTIVE.replace("owner: anna", "owner: anna\nstatus: won\nclosed_on: 2026-11-01")}, ("move", "a", "offer"),
         "leads/a.md is won; only active and potential leads move (edit status by hand to reopen it)"),
        ({"leads/a.md": ACTIVE.replace("owner: anna", "owner: anna\nstatus: lost\nclosed_on: 2026-11-01")}, ("won", "a"), "leads/a.md is already lost"),
        ({"leads/a.md": "---\ntitle: I\nowner: anna\nstatus: potential\n---\n"}, ("move", "a", "offer"),
         "leads/a.md: a potential lead needs value and expected_close before it moves into a stage; add them first"),
        ({"leads/a.md": "---\ntitle: I\nowner: anna\nstatus: potential\n---\n"}, ("won", "a"),
         "leads/a.md: a won lead needs a value; add value: to the front matter first"),
        ({"leads/a.md": ACTIVE}, ("lost", "a", "--reason", "  "), "--reason must not be empty"),
        ({"leads/a.md": ACTIVE.replace("2026-10-01\n    stage", "2026-12-01\n    stage")}, ("move", "a", "offer"),
         "leads/a.md: the last history entry is dated 2026-12-01, after 2026-11-22; history must stay oldest first"),
        ({"leads/a.md": "---\n{title: A, owner: anna, stage: lead, value: 1, expected_close: 2027-01-31}\n---\n"}, ("move", "a", "offer"),
         "cannot edit leads/a.md safely ('stage' is not written as 'key: value' at the start of line 2); change it by hand"),
    ],
)
def test_refusals_are_one_line_usage_errors_and_leave_the_file_alone(make_project, run_cli, files, args, message):
    root = make_project({k: v for k, v in files.items() if not k.startswith("outside")})
    for name, text in files.items():
        if name.startswith("outside"):
            (root / name).write_text(text)
    before = {p: p.read_bytes() for p in root.rglob("*.md")}
    result = run_cli(*args, "--dir", str(root), "--today", TODAY)
    assert (result.code, result.out, result.err) == (2, "", f"funnel-site: error: {message}\n")
    assert {p: p.read_bytes() for p in root.rglob("*.md")} == before


def test_same_stage_changes_nothing(make_project, run_cli):
    root = make_project({"leads/a.md": ACTIVE})
    result = run_cli("move", "a", "lead", "--dir", str(root), "--today", TODAY)
    assert (result.code, result.out) == (0, "leads/a.md is already in stage lead; nothing changed\n")
    assert (root / "leads/a.md").read_text() == ACTIVE


def test_an_invalid_lead_file_is_refused_with_its_problems(make_project, run_cli):
    broken = ACTIVE.replace("owner: anna", "owner: zoe").replace("value: 48000", "value: 50k")
    root = make_project({"leads/a.md": broken})
    result = run_cli("move", "a", "offer", "--dir", str(root), "--today", TODAY)
    assert result.code == 1
    assert result.err == (
        "leads/a.md:3: owner: unknown team member 'zoe' (known: anna, ben)\n"
        "leads/a.md:5: value: expected a number, got '50k'\n"
        "leads/a.md was left unchanged: fix the problems above first\n"
    )
    assert (root / "leads/a.md").read_text() == broken


def test_a_symlinked_lead_is_refused(make_project, run_cli):
    root = make_project({"leads/real.md": ACTIVE})
    os.symlink(root / "leads/real.md", root / "leads/link.md")
    result = run_cli("won", "link", "--dir", str(root), "--today", TODAY)
    assert (result.code, result.err) == (2, "funnel-site: error: lead 'link' is a symlink; edit the file it points to\n")


def test_the_file_mode_survives_the_atomic_replace(make_project, run_cli):
    root = make_project({"leads/a.md": ACTIVE})
    os.chmod(root / "leads/a.md", 0o600)
    assert run_cli("won", "a", "--dir", str(root), "--today", TODAY).code == 0
    assert stat.S_IMODE((root / "leads/a.md").stat().st_mode) == 0o600
    assert _leftovers(root) == []


def test_lead_given_as_a_path_relative_to_the_working_directory(make_project, run_cli, monkeypatch):
    root = make_project({"leads/a.md": ACTIVE})
    monkeypatch.chdir(root.parent)
    result = run_cli("won", "pipeline/leads/a.md", "--dir", "pipeline", "--today", TODAY)
    assert (result.code, result.out) == (0, "leads/a.md: won on 2026-11-22\n")


# -- new ---------------------------------------------------------------------------------------


def test_new_without_stage_value_or_close_writes_a_potential_lead(make_project, run_cli):
    root = make_project()
    result = run_cli("new", "Relaunch für Müller & Söhne", "--owner", "anna", "--company", "Müller GmbH", "--dir", str(root), "--today", TODAY)
    assert (result.code, result.out, result.err) == (0, f"{root}/leads/relaunch-fuer-mueller-soehne.md\n", "")
    assert (root / "leads/relaunch-fuer-mueller-soehne.md").read_text(encoding="utf-8") == """\
---
title: Relaunch für Müller & Söhne
company: Müller GmbH
owner: anna
status: potential
created: 2026-11-22
---

## Context

Who is the customer, what do they need, why now?

## 2026-11-22

- Lead created.
"""


def test_new_active_lead_uses_defaults_and_validates(make_project, run_cli):
    root = make_project()
    result = run_cli("new", "Shop: phase 2", "--owner", "ben", "--value", "12000.50", "--dir", str(root), "--today", TODAY)
    assert result.code == 0
    text = (root / "leads/shop-phase-2.md").read_text()
    assert text.startswith(
        '---\ntitle: "Shop: phase 2"\nowner: ben\nstage: lead\nvalue: 12000.50\nexpected_close: 2027-02-20\n'
        "created: 2026-11-22\nnext_step:\nhistory:\n  - date: 2026-11-22\n    stage: lead\n---\n"
    )
    checked = run_cli("check", str(root), "--today", TODAY)
    assert (checked.code, checked.out) == (0, "checked 1 lead: 0 errors, 1 warning\n")
    assert checked.err == "leads/shop-phase-2.md:8: warning: next_step: active lead without a next step\n"
    lead = load_project(root).leads[0]
    assert (lead.title, lead.stage, str(lead.value), str(lead.expected_close)) == ("Shop: phase 2", "lead", "12000.50", "2027-02-20")


def test_new_with_stage_and_close(make_project, run_cli):
    root = make_project()
    assert run_cli("new", "X", "--owner", "anna", "--stage", "offer", "--close", "2027-05-31", "--dir", str(root), "--today", TODAY).code == 0
    lead = load_project(root).leads[0]
    assert (lead.status, lead.stage, lead.value, str(lead.expected_close)) == ("active", "offer", 0, "2027-05-31")


def test_new_never_overwrites_and_adds_a_suffix(make_project, run_cli):
    root = make_project({"leads/Acme.md": ACTIVE, "leads/acme-2.md": ACTIVE})
    result = run_cli("new", "ACME", "--owner", "anna", "--dir", str(root), "--today", TODAY)
    assert result.out == f"{root}/leads/acme-3.md\n"
    assert (root / "leads/Acme.md").read_text() == ACTIVE == (root / "leads/acme-2.md").read_text()
    again = run_cli("new", "ACME", "--owner", "anna", "--dir", str(root), "--today", TODAY)
    assert again.out == f"{root}/leads/acme-4.md\n"
    assert run_cli("new", "!!!", "--owner", "anna", "--dir", str(root), "--today", TODAY).out == f"{root}/leads/lead.md\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("new", "X", "--owner", "zoe"), "funnel-site: error: --owner: unknown team member 'zoe' (known: anna, ben)\n"),
        (("new", "X", "--owner", "anna", "--stage", "won"), "funnel-site: error: --stage: unknown stage 'won' (known: lead, offer, negotiation)\n"),
        (("new", "X", "--owner", "anna", "--value", "50k"), "funnel-site: error: --value: expected a number such as 48000 or 48000.50, got '50k'\n"),
        (("new", "X", "--owner", "anna", "--value", "-5"), "funnel-site: error: --value: expected a number such as 48000 or 48000.50, got '-5'\n"),
        (("new", "  ", "--owner", "anna"), "funnel-site: error: TITLE must not be empty\n"),
    ],
)
def test_new_refuses_bad_arguments(make_project, run_cli, args, message):
    root = make_project()
    result = run_cli(*args, "--dir", str(root), "--today", TODAY)
    assert (result.code, result.out, result.err) == (2, "", message)
    assert list((root / "leads").iterdir()) == []


def test_new_rejects_a_bad_close_date_and_needs_a_config(make_project, run_cli, tmp_path):
    root = make_project()
    bad = run_cli("new", "X", "--owner", "anna", "--close", "31.01.2027", "--dir", str(root))
    assert bad.code == 2 and bad.err.endswith("error: argument --close: expected a date YYYY-MM-DD, got '31.01.2027'\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = run_cli("new", "X", "--owner", "anna", "--dir", str(empty), "--today", TODAY)
    assert (missing.code, missing.err) == (2, f"config.yaml:1: config: no config.yaml in {empty} (is this a pipeline directory?)\n")


def test_a_multi_line_value_is_replaced_whole_and_an_existing_closed_on_in_place(make_project, run_cli):
    original = (
        "---\ntitle: T\nowner: anna\nstage: offer\nvalue: 1\nexpected_close: 2027-01-31\n"
        "closed_on: 2026-01-01   # planned\nreason: |\n  first line\n  second line\n# end\n---\nbody\n"
    )
    root = make_project({"leads/t.md": original})
    result = run_cli("cancel", "t", "--reason", "no", "--dir", str(root), "--today", TODAY)
    assert result.code == 0, result.err
    assert (root / "leads/t.md").read_text() == (
        "---\ntitle: T\nowner: anna\nstatus: cancelled\nstage: offer\nvalue: 1\nexpected_close: 2027-01-31\n"
        'closed_on: 2026-11-22   # planned\nreason: no\n# end\nhistory:\n  - date: 2026-11-22\n    stage: cancelled\n---\nbody\n'
    )
