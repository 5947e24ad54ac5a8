"""The pipeline as text for a terminal, or as Markdown for a CI job summary or a pull-request comment.

Pure: the project and its figures in, text out. Money is rounded to whole units in the config's locale.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Sequence

from funnel_site.figures import Figures, LeadFigures
from funnel_site.formatting import Formatter
from funnel_site.model import Project

Row = Sequence[str]


def report(project: Project, figures: Figures, *, markdown: bool = False) -> str:
    """Stages, forecast by month against the targets, overdue follow-ups and stale leads."""
    config = project.config
    fmt = Formatter(config.locale)
    page = _Page(markdown)
    totals = figures.totals

    def money(value: Decimal | None) -> str:
        return fmt.money(value, config.currency, cents=False)

    page.title(f"{config.title} – pipeline on {figures.today.isoformat()}")
    page.text(
        f"{totals.counts['active']} active {_plural(totals.counts['active'], 'lead')} worth {money(totals.pipeline_value)}, "
        f"weighted forecast {money(totals.weighted_forecast)}; won {money(totals.won_value)} "
        f"({totals.counts['won']} won, {totals.counts['lost']} lost, {totals.counts['cancelled']} cancelled, "
        f"{totals.counts['potential']} potential)."
    )
    page.section("Stages")
    page.table(
        ("Stage", "Probability", "Leads", "Value", "Weighted"),
        [(s.name, fmt.percent(s.probability / 100), str(b.count), money(b.value), money(b.weighted)) for s, b in figures.stages],
        "lrrrr",
    )
    page.section("Forecast by month")
    monthly = {t.target.period: t for t in figures.targets}
    rows = [
        (b.key, str(b.count), money(b.value), money(b.weighted), money(monthly[b.key].target.amount) if b.key in monthly else "")
        for b in figures.forecast_by_month
    ]
    page.table(("Expected close", "Leads", "Value", "Weighted", "Target"), rows, "lrrrr", empty="No active leads.")
    if figures.targets:
        page.section("Targets")
        page.table(
            ("Period", "Target", "Won", "Weighted open", "Forecast", "Attained"),
            [
                (t.target.period, money(t.target.amount), money(t.won_value), money(t.weighted_open), money(t.forecast), fmt.percent(t.attainment))
                for t in figures.targets
            ],
            "lrrrrr",
        )
    overdue = sorted((f for f in figures.leads if f.follow_up_overdue), key=lambda f: (f.lead.follow_up, f.lead.path))
    page.section(f"Overdue follow-ups ({len(overdue)})")
    page.table(
        ("Lead", "Title", "Owner", "Due", "Days over"),
        [(f.lead.path, f.lead.title, f.lead.owner, f.lead.follow_up.isoformat(), str((figures.today - f.lead.follow_up).days)) for f in overdue],  # type: ignore[union-attr]
        "lllrr",
        empty="None.",
    )
    stale = sorted((f for f in figures.leads if f.stale), key=lambda f: (-(f.days_since_touch or 0), f.lead.path))
    page.section(f"Stale leads ({len(stale)})")
    page.table(("Lead", "Title", "Owner", "Last activity", "Days quiet"), [_stale_row(f) for f in stale], "lllrr", empty="None.")
    return page.render()


def _stale_row(figures: LeadFigures) -> Row:
    lead = figures.lead
    touch = figures.last_touch.isoformat() if figures.last_touch else ""
    return (lead.path, lead.title, lead.owner, touch, str(figures.days_since_touch))


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"


class _Page:
    """Collects blocks and renders them as aligned plain text or as GitHub-flavoured Markdown."""

    def __init__(self, markdown: bool) -> None:
        self.markdown = markdown
        self.blocks: list[str] = []

    def title(self, text: str) -> None:
        self.blocks.append(f"## {_md(text)}" if self.markdown else f"{text}\n{'=' * len(text)}")

    def section(self, text: str) -> None:
        self.blocks.append(f"### {_md(text)}" if self.markdown else f"{text}\n{'-' * len(text)}")

    def text(self, text: str) -> None:
        self.blocks.append(_md(text) if self.markdown else text)

    def table(self, headers: Row, rows: Sequence[Row], align: str, empty: str = "") -> None:
        if not rows:
            self.blocks.append(empty)
            return
        if self.markdown:
            lines = [_md_row(headers), "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
            lines += [_md_row(row) for row in rows]
        else:
            cells = [[_one_line(c) for c in row] for row in (headers, *rows)]
            widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
            lines = ["  ".join(c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(row, widths, align)).rstrip() for row in cells]
        self.blocks.append("\n".join(lines))

    def render(self) -> str:
        return "\n\n".join(self.blocks) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _md(text: str) -> str:
    """User text in Markdown: one line, no HTML, no table breaks."""
    return _one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def _md_row(row: Row) -> str:
    return "| " + " | ".join(_md(cell) for cell in row) + " |"
