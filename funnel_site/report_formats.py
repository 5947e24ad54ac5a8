"""Problems in the formats CI systems read. Pure: problems in, text out."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from typing import Callable, Iterable, Sequence

from funnel_site.problems import Problem


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(problems: Sequence[Problem]) -> str:
    """GitHub Actions workflow commands: ``::error file=…,line=…,title=…::message``."""
    lines = []
    for p in problems:
        properties = f"file={_escape_property(p.path)},line={p.line},title={_escape_property('funnel-site ' + p.field)}"
        lines.append(f"::{p.severity} {properties}::{_escape_data(f'{p.field}: {p.message}')}\n")
    return "".join(lines)


def as_json(problems: Sequence[Problem]) -> str:
    rows = [
        {"file": p.path, "line": p.line, "field": p.field, "severity": p.severity, "rule": p.rule, "message": p.message}
        for p in problems
    ]
    return json.dumps({"problems": rows, "errors": sum(p.is_error for p in problems)}, ensure_ascii=False, indent=2) + "\n"


GITLAB_SEVERITY = {"error": "major", "warning": "minor"}


def gitlab(problems: Sequence[Problem]) -> str:
    """GitLab Code Quality: a JSON array; each finding needs a unique fingerprint (GitLab shows one per fingerprint)."""
    rows, seen = [], set[str]()
    for p in problems:
        key = "\0".join((p.path, p.rule, p.field, p.message))
        fingerprint = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
        count = 1
        while fingerprint in seen:  # the same finding twice in one file: keep both
            count += 1
            fingerprint = hashlib.sha256(f"{key}\0{count}".encode("utf-8")).hexdigest()[:32]
        seen.add(fingerprint)
        rows.append({
            "description": f"{p.field}: {p.message}",
            "check_name": p.rule,
            "fingerprint": fingerprint,
            "severity": GITLAB_SEVERITY[p.severity],
            "location": {"path": p.path, "lines": {"begin": p.line}},
        })
    return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"


def junit(problems: Sequence[Problem], files: Iterable[str] = ()) -> str:
    """JUnit XML as pytest writes it: one test case per checked file, failed when it has errors."""
    paths = sorted({*files, *(p.path for p in problems)})
    failed = {p.path for p in problems if p.is_error}
    suites = ET.Element("testsuites", name="funnel-site")
    suite = ET.SubElement(suites, "testsuite", {
        "name": "funnel-site.validate", "tests": str(len(paths)), "failures": str(len(failed)),
        "errors": "0", "skipped": "0", "time": "0",
    })
    for path in paths:
        folder = path.rsplit("/", 1)[0].replace("/", ".") if "/" in path else "pipeline"
        case = ET.SubElement(suite, "testcase", classname=folder, name=path, file=path, time="0")
        mine = [p for p in problems if p.path == path]
        errors = [p for p in mine if p.is_error]
        if errors:
            first = errors[0]
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            failure = ET.SubElement(case, "failure", message=f"{first.field}: {first.message}{more}", type=first.rule)
            failure.text = "\n".join(str(p) for p in errors)
        warnings = [p for p in mine if not p.is_error]
        if warnings:
            ET.SubElement(case, "system-out").text = "\n".join(str(p) for p in warnings)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


FORMATS: dict[str, Callable[[Sequence[Problem]], str]] = {"github": github, "gitlab": gitlab, "json": as_json, "junit": junit}
