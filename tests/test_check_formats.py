"""`check --format gitlab|junit|github|json`: each output read back by a real parser of its format."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from conftest import TODAY, lead
from funnel_site.problems import Problem
from funnel_site.report_formats import gitlab, junit

GOOD = lead(title="Good", owner="anna", stage="offer", value=100, expected_close="2027-01-31", created="2026-11-20", next_step="call")
WARNED = lead(title="Warned", owner="anna", stage="offer", value=100, expected_close="2027-01-31", created="2026-11-20")
BAD = lead(title='"Bad <&> \\"quoted\\""', owner="zoe", stage="negotation", value=100, expected_close="2027-01-31")


def _project(make_project):
    return make_project({"leads/good.md": GOOD, "leads/warned.md": WARNED, "leads/sub/bad.md": BAD})


def test_gitlab_code_quality_report(make_project, run_cli):
    result = run_cli("check", str(_project(make_project)), "--format", "gitlab", "--today", TODAY)
    assert (result.code, result.err) == (1, "")
    findings = json.loads(result.out)
    for finding in findings:
        assert set(finding) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert re.fullmatch(r"[0-9a-f]{32}", finding["fingerprint"])
    assert [(f["location"]["path"], f["location"]["lines"]["begin"], f["severity"], f["check_name"], f["description"]) for f in findings] == [
        ("leads/sub/bad.md", 3, "major", "invalid", "owner: unknown team member 'zoe' (known: anna, ben)"),
        ("leads/sub/bad.md", 4, "major", "invalid", "stage: unknown stage 'negotation' (known: lead, offer, negotiation)"),
    ]
    assert len({f["fingerprint"] for f in findings}) == 2


def test_gitlab_warnings_are_minor_and_an_empty_run_is_an_empty_array(make_project, run_cli):
    root = make_project({"leads/warned.md": WARNED})
    findings = json.loads(run_cli("check", str(root), "--format", "gitlab", "--today", TODAY).out)
    assert [(f["severity"], f["check_name"], f["description"]) for f in findings] == [("minor", "no-next-step", "next_step: active lead without a next step")]
    empty = run_cli("check", str(make_project({"leads/warned.md": GOOD})), "--format", "gitlab", "--today", TODAY)
    assert (empty.code, empty.out) == (0, "[]\n")


def test_gitlab_fingerprints_are_stable_and_unique_for_repeated_findings():
    twice = [Problem("leads/a.md", 3, "tags", "bad"), Problem("leads/a.md", 9, "tags", "bad")]
    first, second = json.loads(gitlab(twice)), json.loads(gitlab(twice))
    assert [f["fingerprint"] for f in first] == [f["fingerprint"] for f in second]
    assert first[0]["fingerprint"] != first[1]["fingerprint"]
    moved = json.loads(gitlab([Problem("leads/a.md", 5, "tags", "bad")]))
    assert moved[0]["fingerprint"] == first[0]["fingerprint"]  # a finding keeps its identity when its line moves


def test_junit_report_has_one_test_case_per_lead_file(make_project, run_cli):
    result = run_cli("check", str(_project(make_project)), "--format", "junit", "--today", TODAY)
    assert (result.code, result.err) == (1, "")
    assert result.out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    suites = ET.fromstring(result.out)
    assert (suites.tag, suites.get("name")) == ("testsuites", "funnel-site")
    suite = suites.find("testsuite")
    assert suite is not None
    assert {k: suite.get(k) for k in ("name", "tests", "failures", "errors", "skipped")} == {
        "name": "funnel-site.validate", "tests": "3", "failures": "1", "errors": "0", "skipped": "0",
    }
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert list(cases) == ["leads/good.md", "leads/sub/bad.md", "leads/warned.md"]
    assert [cases[n].get("classname") for n in cases] == ["leads", "leads.sub", "leads"]
    failure = cases["leads/sub/bad.md"].find("failure")
    assert failure is not None
    assert failure.get("type") == "invalid"
    assert failure.get("message") == "owner: unknown team member 'zoe' (known: anna, ben) (and 1 more)"
    assert failure.text == (
        "leads/sub/bad.md:3: owner: unknown team member 'zoe' (known: anna, ben)\n"
        "leads/sub/bad.md:4: stage: unknown stage 'negotation' (known: lead, offer, negotiation)"
    )
    assert list(cases["leads/good.md"]) == []


def test_junit_warnings_go_to_system_out_and_special_characters_survive():
    problems = [
        Problem("leads/a.md", 2, "title", 'bad <&> "quoted" \'single\'\nsecond line'),
        Problem("leads/b.md", 4, "next_step", "active lead without a next step", "warning", "no-next-step"),
    ]
    suites = ET.fromstring(junit(problems, ["leads/c.md"]))
    suite = suites.find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("3", "1")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["leads/a.md"].find("failure").get("message") == 'title: bad <&> "quoted" \'single\'\nsecond line'  # type: ignore[union-attr]
    assert cases["leads/b.md"].find("failure") is None
    assert cases["leads/b.md"].find("system-out").text == "leads/b.md:4: warning: next_step: active lead without a next step"  # type: ignore[union-attr]


def test_junit_with_no_leads_is_an_empty_suite(make_project, run_cli):
    result = run_cli("check", str(make_project()), "--format", "junit", "--today", TODAY)
    assert result.code == 0
    suite = ET.fromstring(result.out).find("testsuite")
    assert suite is not None and suite.get("tests") == "0" and list(suite) == []


def test_github_and_json_formats_still_parse(make_project, run_cli):
    root = _project(make_project)
    github = run_cli("check", str(root), "--format", "github", "--today", TODAY)
    assert github.out.splitlines()[0] == (
        "::error file=leads/sub/bad.md,line=3,title=funnel-site owner::owner: unknown team member 'zoe' (known: anna, ben)"
    )
    data = json.loads(run_cli("check", str(root), "--format", "json", "--today", TODAY).out)
    assert data["errors"] == 2


def test_unknown_format_is_a_usage_error(make_project, run_cli):
    result = run_cli("check", str(make_project()), "--format", "sarif")
    assert result.code == 2
    assert result.err.endswith("error: argument --format: invalid choice: 'sarif' (choose from 'text', 'github', 'gitlab', 'junit', 'json')\n")
