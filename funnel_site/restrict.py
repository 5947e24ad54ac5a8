"""Restricted views: one owner's slice of a project, with nothing about anybody else left in it. Pure.

A restricted site is the ordinary site rendered from a smaller project, so every page, chart, total,
list, data file and schema is computed over the visible leads only and no template can reach a
colleague's lead, name or id. Team targets are left out: the team's goal set against one person's
figures would be misleading, and the page says so through ``Scope``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from funnel_site.model import Member, Project
from funnel_site.problems import UsageError

LEFT_OUT = ("targets",)  # team-wide parts of the config that a restricted site does not show


@dataclass(frozen=True)
class Scope:
    """What a restricted site shows; ``None`` in its place means the full site."""

    owner: Member
    left_out: tuple[str, ...] = LEFT_OUT

    @property
    def notice(self) -> str:
        """The sentence a restricted page shows near its top."""
        return (
            f"Only leads of {self.owner.name}; team-wide figures are computed over these leads only "
            "and team targets are left out."
        )

    def to_data(self) -> dict[str, object]:
        """The scope as plain values, e.g. for data.json."""
        return {"owner": self.owner.id, "owner_name": self.owner.name, "left_out": list(self.left_out), "notice": self.notice}


def find_owner(project: Project, owner_id: str) -> Member:
    """The team member called ``owner_id``; any other id is a usage error that lists the known ones."""
    member = project.config.member(owner_id)
    if member is None:
        known = ", ".join(m.id for m in project.config.team)
        raise UsageError(f"unknown owner '{owner_id}' (known: {known})")
    return member


def restrict(project: Project, owner_id: str) -> Project:
    """The project as ``owner_id`` may see it: their leads, themselves as the whole team, their files' problems."""
    owner = find_owner(project, owner_id)
    leads = tuple(lead for lead in project.leads if lead.owner == owner.id)
    own_paths = {lead.path for lead in leads}
    config = replace(project.config, team=(owner,), targets=())
    problems = tuple(p for p in project.problems if p.path in own_paths)
    return replace(project, config=config, leads=leads, problems=problems)


def scope_of(project: Project, owner_id: str) -> Scope:
    """The scope of ``restrict(project, owner_id)``, for the page's notice."""
    return Scope(find_owner(project, owner_id))


def restricted_members(project: Project) -> tuple[Member, ...]:
    """Every team member with the ``member`` role: each gets a restricted site in a split build."""
    return tuple(m for m in project.config.team if m.role == "member")
