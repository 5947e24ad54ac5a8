"""The command line: thin commands over load, figures, render and build.

Exit codes: 0 ok (warnings allowed), 1 invalid leads, 2 usage or config error.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Callable, Sequence

from funnel_site import __version__
from funnel_site.problems import ConfigError, Problem, UsageError

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _today(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got '{text}'") from None


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", nargs="?", default=".", type=Path, help="the pipeline directory (default: .)")
    parser.add_argument("--today", type=_today, default=None, help="the date every comparison uses (default: the real date)")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="funnel-site", description="Validate a sales pipeline of Markdown lead files and build its dashboard.")
    parser.add_argument("--version", action="version", version=f"funnel-site {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="validate, compute and write the static site")
    _add_common(build)
    build.add_argument("-o", "--output", type=Path, default=None, help="output directory (default: DIR/_site)")
    build.set_defaults(run=run_build)

    check = commands.add_parser("check", help="validate only; print problems")
    _add_common(check)
    check.add_argument("--format", choices=("text", "github", "json"), default="text", help="how problems are printed (default: text)")
    check.set_defaults(run=run_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    if args.today is None:
        args.today = date.today()
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except ConfigError as error:
        _print_problems(error.problems)
        return EXIT_USAGE
    except UsageError as error:
        print(f"funnel-site: error: {error}", file=sys.stderr)
        return EXIT_USAGE


def _print_problems(problems: Sequence[Problem]) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)


def _leads(count: int) -> str:
    return f"{count} {'lead' if count == 1 else 'leads'}"


def _summary(problems: Sequence[Problem]) -> str:
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors
    return f"{errors} {'error' if errors == 1 else 'errors'}, {warnings} {'warning' if warnings == 1 else 'warnings'}"


def run_build(args: argparse.Namespace) -> int:
    from funnel_site.build import InvalidLeads, build

    out = args.output if args.output is not None else args.dir / "_site"
    try:
        checked = build(args.dir, out, args.today)
    except InvalidLeads as error:
        _print_problems(error.problems)
        print(f"build failed: {_summary(error.problems)}; {out} was left unchanged", file=sys.stderr)
        return EXIT_INVALID
    except OSError as error:
        print(f"funnel-site: error: cannot write {out}: {error.strerror or error}; the previous site was left unchanged", file=sys.stderr)
        return EXIT_USAGE
    _print_problems(checked.problems)
    print(f"built {_leads(len(checked.project.leads))} into {out} ({_summary(checked.problems)})")
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    from funnel_site.build import InvalidLeads, check
    from funnel_site.report_formats import FORMATS

    try:
        checked = check(args.dir, args.today)
        problems, leads, code = checked.problems, len(checked.project.leads), EXIT_OK
    except InvalidLeads as error:
        problems, leads, code = error.problems, None, EXIT_INVALID
    if args.format == "text":
        _print_problems(problems)
        counted = _leads(leads) if leads is not None else "lead files"
        print(f"checked {counted}: {_summary(problems)}", file=sys.stderr if code else sys.stdout)
    else:
        sys.stdout.write(FORMATS[args.format](problems))
    return code
