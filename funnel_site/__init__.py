"""funnel-site: a sales pipeline kept as Markdown files, validated and rendered as a static dashboard."""

__version__ = "0.1.0"
