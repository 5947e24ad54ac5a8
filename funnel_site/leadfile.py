"""Lead files from the command line: ``new`` writes one, ``move``/``won``/``lost``/``cancel`` edit one in place.

Edits go through ``yaml_edit.LeadDocument`` so every byte outside the changed keys stays as it was,
refuse a file that does not validate, and replace the file atomically.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import unicodedata
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Iterator, Literal

from funnel_site.fields import choices
from funnel_site.load import LEADS_DIR, MAX_LEAD_BYTES, load_config, parse_lead_bytes
from funnel_site.model import Config, Lead
from funnel_site.problems import Problem, UsageError, sort_problems
from funnel_site.yaml_edit import EditError, LeadDocument, yaml_scalar

Outcome = Literal["won", "lost", "cancelled"]
NEW_LEAD_CLOSE_DAYS = 90
_VALUE = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
_AFTER = {
    "status": ("owner", "company", "title"),
    "stage": ("status", "owner", "title"),
    "closed_on": ("value", "expected_close", "stage", "status", "owner"),
    "reason": ("closed_on",),
}


class InvalidLeadFile(Exception):
    """The lead file does not validate, so it is not edited: exit code 1."""

    def __init__(self, path: str, problems: list[Problem]) -> None:
        super().__init__(path)
        self.path = path
        self.problems = sort_problems(problems)


# -- finding a lead ------------------------------------------------------------------------------


def resolve_lead(root: Path, name: str) -> str:
    """A lead id (``acme``, ``bestandskunden/foo``) or path (``leads/acme.md``) -> ``leads/….md``."""
    root = root.resolve()
    if name.endswith(".md"):
        candidates = [root / name, Path(name).absolute()]
    else:
        candidates = [root / LEADS_DIR / f"{name}.md"]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        looked = f": no file {LEADS_DIR}/{name}.md" if not name.endswith(".md") else ""
        raise UsageError(f"lead '{name}' not found{looked}")
    if found.is_symlink():
        raise UsageError(f"lead '{name}' is a symlink; edit the file it points to")
    resolved = found.resolve()
    if not resolved.is_relative_to(root / LEADS_DIR):
        raise UsageError(f"lead '{name}' is not a file inside {LEADS_DIR}/")
    return resolved.relative_to(root).as_posix()


# -- new ---------------------------------------------------------------------------------------


def slugify(title: str) -> str:
    """``Relaunch für Müller & Söhne`` -> ``relaunch-fuer-mueller-soehne``."""
    text = unicodedata.normalize("NFKD", title.translate(_GERMAN)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(slug) > 60:
        slug = slug[:60].rsplit("-", 1)[0] or slug[:60]
    return slug or "lead"


def new_lead(
    root: Path, title: str, owner: str, today: date, *, company: str | None = None,
    stage: str | None = None, value: str | None = None, close: date | None = None,
) -> str:
    """Write ``leads/<slug>.md`` (never overwriting; ``-2``, ``-3`` … on a clash); return its path."""
    root = root.resolve()
    config = load_config(root)
    _check_new_arguments(config, title, owner, stage, value, company)
    text = new_lead_text(config, title, owner, today, company=company, stage=stage, value=value, close=close)
    slug = slugify(title)
    _check_valid(f"{LEADS_DIR}/{slug}.md", text.encode("utf-8"), config)
    leads = root / LEADS_DIR
    try:
        leads.mkdir(exist_ok=True)
        taken = {p.name.casefold() for p in leads.iterdir()}
        for number in range(1, 1000):
            name = f"{slug}.md" if number == 1 else f"{slug}-{number}.md"
            if name.casefold() not in taken and _write_new(leads / name, text.encode("utf-8")):
                return f"{LEADS_DIR}/{name}"
    except OSError as error:
        raise UsageError(f"cannot write into {LEADS_DIR}/: {error.strerror or error}") from None
    raise UsageError(f"too many leads named {slug}-N.md in {LEADS_DIR}/; choose another title")


def _check_new_arguments(config: Config, title: str, owner: str, stage: str | None, value: str | None, company: str | None) -> None:
    for label, text in (("TITLE", title), ("--owner", owner), ("--company", company), ("--stage", stage), ("--value", value)):
        _check_text(label, text)
    if not title.strip():
        raise UsageError("TITLE must not be empty")
    if config.member(owner) is None:
        raise UsageError(f"--owner: unknown team member '{owner}' (known: {choices(m.id for m in config.team)})")
    if stage is not None and config.stage(stage) is None:
        raise UsageError(f"--stage: unknown stage '{stage}' (known: {choices(s.id for s in config.stages)})")
    if value is not None and not _VALUE.match(value):
        raise UsageError(f"--value: expected a number such as 48000 or 48000.50, got '{value}'")


def _check_text(label: str, text: str | None) -> None:
    try:
        (text or "").encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{label} is not valid UTF-8 text") from None


def new_lead_text(
    config: Config, title: str, owner: str, today: date, *, company: str | None = None,
    stage: str | None = None, value: str | None = None, close: date | None = None,
) -> str:
    """The new file. Without --stage, --value and --close it is a ``potential`` lead (an idea)."""
    lines = ["---", f"title: {yaml_scalar(title)}"]
    if company:
        lines.append(f"company: {yaml_scalar(company)}")
    lines.append(f"owner: {yaml_scalar(owner)}")
    if stage is None and value is None and close is None:
        lines += ["status: potential", f"created: {today.isoformat()}"]
    else:
        stage = stage or config.stages[0].id
        close = close or today + timedelta(days=NEW_LEAD_CLOSE_DAYS)
        lines += [
            f"stage: {yaml_scalar(stage)}",
            f"value: {Decimal(value) if value is not None else 0}",
            f"expected_close: {close.isoformat()}",
            f"created: {today.isoformat()}",
            "next_step:",
            "history:",
            f"  - date: {today.isoformat()}",
            f"    stage: {yaml_scalar(stage)}",
        ]
    lines += ["---", "", "## Context", "", "Who is the customer, what do they need, why now?", "",
              f"## {today.isoformat()}", "", "- Lead created.", ""]
    return "\n".join(lines)


def _write_new(path: Path, data: bytes) -> bool:
    """Write a file that must not exist yet, atomically; False if it appeared meanwhile."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o644)
        os.link(temporary, path)  # fails instead of overwriting
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(temporary)


# -- move, won, lost, cancel ---------------------------------------------------------------------


def move(root: Path, name: str, stage: str, today: date) -> str:
    """Put an active (or potential) lead into ``stage`` and log it in ``history``."""
    root = root.resolve()
    config = load_config(root)
    if config.stage(stage) is None:
        raise UsageError(f"unknown stage '{stage}' (known: {choices(s.id for s in config.stages)})")
    relative, raw, lead = _read_valid(root, name, config)
    if lead.status not in ("active", "potential"):
        raise UsageError(f"{relative} is {lead.status}; only active and potential leads move (edit status by hand to reopen it)")
    if lead.status == "active" and lead.stage == stage:
        return f"{relative} is already in stage {stage}; nothing changed"
    if lead.status == "potential":
        missing = [key for key in ("value", "expected_close") if getattr(lead, key) is None]
        if missing:
            raise UsageError(f"{relative}: a potential lead needs {' and '.join(missing)} before it moves into a stage; add them first")
    _check_history_order(relative, lead, today)
    document = LeadDocument(relative, raw)
    with _edit_errors(relative):
        if lead.status == "potential":
            document.set("status", "active", "active", _AFTER["status"])
        document.set("stage", stage, yaml_scalar(stage), _AFTER["stage"])
        document.append_history(today, stage)
    _save(root, relative, document, config)
    was = lead.stage if lead.status == "active" else "potential"
    return f"moved {relative} from {was} to {stage}"


def close(root: Path, name: str, outcome: Outcome, today: date, reason: str | None = None) -> str:
    """Mark a lead won, lost or cancelled today (with a reason for lost and cancelled)."""
    root = root.resolve()
    config = load_config(root)
    if reason is not None:
        _check_text("--reason", reason)
        if not reason.strip():
            raise UsageError("--reason must not be empty")
    relative, raw, lead = _read_valid(root, name, config)
    if lead.status not in ("active", "potential"):
        raise UsageError(f"{relative} is already {lead.status}")
    if outcome == "won" and lead.value is None:
        raise UsageError(f"{relative}: a won lead needs a value; add value: to the front matter first")
    _check_history_order(relative, lead, today)
    document = LeadDocument(relative, raw)
    with _edit_errors(relative):
        document.set("status", outcome, outcome, _AFTER["status"])
        document.set("closed_on", today, today.isoformat(), _AFTER["closed_on"])
        if reason is not None:
            document.set("reason", reason, yaml_scalar(reason), _AFTER["reason"])
        document.append_history(today, outcome)
    _save(root, relative, document, config)
    return f"{relative}: {outcome} on {today.isoformat()}"


def _read_valid(root: Path, name: str, config: Config) -> tuple[str, bytes, Lead]:
    relative = resolve_lead(root, name)
    raw = (root / relative).read_bytes()
    if len(raw) > MAX_LEAD_BYTES:
        raise InvalidLeadFile(relative, [Problem(relative, 1, "file", "file is larger than 2 MiB", rule="size")])
    lead, problems = parse_lead_bytes(relative, raw, config)
    if lead is None or any(p.is_error for p in problems):
        raise InvalidLeadFile(relative, problems)
    return relative, raw, lead


def _check_history_order(relative: str, lead: Lead, today: date) -> None:
    if lead.history and lead.history[-1].date > today:
        last = lead.history[-1].date.isoformat()
        raise UsageError(f"{relative}: the last history entry is dated {last}, after {today.isoformat()}; history must stay oldest first")


@contextmanager
def _edit_errors(relative: str) -> Iterator[None]:
    """Turn an EditError into a one-line usage error naming the file."""
    try:
        yield
    except EditError as error:
        raise UsageError(f"cannot edit {relative} safely ({error}); change it by hand") from None


def _check_valid(relative: str, data: bytes, config: Config) -> None:
    _, problems = parse_lead_bytes(relative, data, config)
    errors = [p for p in problems if p.is_error]
    if errors:
        raise InvalidLeadFile(relative, errors)


def _save(root: Path, relative: str, document: LeadDocument, config: Config) -> None:
    with _edit_errors(relative):
        document.verify()
    data = document.to_bytes()
    _check_valid(relative, data, config)
    try:
        write_atomic(root / relative, data)
    except OSError as error:
        raise UsageError(f"cannot write {relative}: {error.strerror or error}") from None


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` via a temporary file in the same directory and one rename."""
    mode = stat.S_IMODE(path.stat().st_mode)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
