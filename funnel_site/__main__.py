from funnel_site.cli import run

run()
