"""``funnel-site init DIR``: a new pipeline repository, ready to commit. Never overwrites a file.

The file texts live in ``funnel_site/scaffold/`` (package data). Their names there have no leading
dot, because packaging globs skip dot-files; ``FILES`` maps each to its place in the new repository.
``${name}`` placeholders are filled in: example dates relative to ``today`` and the targets' quarters.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

from funnel_site import __version__
from funnel_site.problems import UsageError

FILES: tuple[tuple[str, str], ...] = (
    ("config.yaml", "config.yaml"),
    ("leads/example-website-relaunch.md", "leads/example-website-relaunch.md"),
    ("leads/example-newsletter-idea.md", "leads/example-newsletter-idea.md"),
    ("leads/example-support-retainer.md", "leads/example-support-retainer.md"),
    ("gitignore", ".gitignore"),
    ("pre-commit-config.yaml", ".pre-commit-config.yaml"),
    ("github-workflow.yml", ".github/workflows/funnel-site.yml"),
    ("gitlab-ci.yml", ".gitlab-ci.yml"),
)
_PLACEHOLDER = re.compile(r"\$\{([a-z_]+)\}")


def init(root: Path, today: date) -> list[str]:
    """Write every scaffold file into ``root``; refuse before writing anything if one exists."""
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} exists and is not a directory")
    for _, target in FILES:
        if (root / target).exists() or (root / target).is_symlink():
            raise UsageError(f"{root / target} already exists; init never overwrites files (use an empty directory)")
    values = placeholders(today)
    written = []
    for source, target in FILES:
        path = root / target
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8", newline="\n") as handle:
            handle.write(fill(scaffold_text(source), values))
        written.append(target)
    return written


def scaffold_text(name: str) -> str:
    return resources.files("funnel_site").joinpath("scaffold", name).read_text(encoding="utf-8")


def fill(text: str, values: dict[str, str]) -> str:
    """Replace ``${name}`` placeholders; CI syntax such as ``${{ … }}`` and ``$VAR`` is left alone."""
    return _PLACEHOLDER.sub(lambda match: values[match[1]], text)


def placeholders(today: date) -> dict[str, str]:
    """Example dates around ``today`` (so the examples are current and raise no warnings)."""

    def day(offset: int) -> str:
        return (today + timedelta(days=offset)).isoformat()

    return {
        "version": __version__,
        "this_quarter": quarter(today),
        "next_quarter": quarter(date(today.year + today.month // 10, (today.month + 2) % 12 + 1, 1)),
        "created_active": day(-40), "qualified_on": day(-30), "offer_on": day(-12),
        "last_contact": day(-5), "follow_up": day(7), "close_active": day(45),
        "created_idea": day(-3), "follow_up_idea": day(30),
        "created_won": day(-60), "verbal_on": day(-20), "closed_won": day(-10),
    }


def quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
