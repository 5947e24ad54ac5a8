"""The command line: thin commands over load, figures, render and build.

Exit codes: 0 ok (warnings allowed), 1 invalid leads, 2 usage or config error, or a failure of the machine (an output
that cannot be written, a worker process killed).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from funnel_site import __version__

if TYPE_CHECKING:
    from funnel_site.problems import Problem

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _today(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got '{text}'") from None


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", nargs="?", default=".", type=Path, help="the pipeline directory (default: .)")
    parser.add_argument("--today", type=_today, default=None, help="the date every comparison uses (default: the real date)")


def _add_speed(parser: argparse.ArgumentParser) -> None:
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument("--cache-dir", type=Path, default=None, metavar="PATH", help="keep parsed leads here between runs (default: $FUNNEL_SITE_CACHE_DIR or DIR/.funnel-site-cache)")
    cache.add_argument("--no-cache", action="store_true", help="parse every lead file; read and write no cache")
    parser.add_argument("--jobs", type=int, default=None, metavar="N", help="processes for parsing lead files and rendering pages (default: all cores when there are more than 500 files or pages)")


def _cache_dir(args: argparse.Namespace) -> Path | None:
    from funnel_site.cache import cache_dir_for

    return cache_dir_for(args.dir, args.cache_dir, args.no_cache)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="funnel-site", description="Validate a sales pipeline of Markdown lead files and build its dashboard.")
    parser.add_argument("--version", action="version", version=f"funnel-site {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="validate, compute and write the static site")
    _add_common(build)
    build.add_argument("-o", "--output", type=Path, default=None, help="output directory (default: DIR/_site)")
    scope = build.add_mutually_exclusive_group()
    scope.add_argument("--owner", metavar="ID", default=None, help="build only this team member's leads (a restricted site)")
    scope.add_argument("--split", action="store_true", help="also build every member's restricted site into OUTPUT/owners/<id>/")
    _add_speed(build)
    build.set_defaults(run=run_build)

    policy = commands.add_parser("policy", help="check that the commits in a range respect the team's roles")
    policy.add_argument("dir", nargs="?", default=".", type=Path, help="the pipeline directory inside a git repository (default: .)")
    policy.add_argument("--base", required=True, metavar="REV", help="the last commit that is already accepted")
    policy.add_argument("--head", default="HEAD", metavar="REV", help="the last commit to check (default: HEAD)")
    policy.set_defaults(run=run_policy, today=None)

    serve = commands.add_parser("serve", help="build, serve on 127.0.0.1 and rebuild on every change (live reload)")
    _add_common(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, loopback only)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    serve.set_defaults(run=run_serve)

    check = commands.add_parser("check", help="validate only; print problems")
    _add_common(check)
    check.add_argument("--format", choices=("text", "github", "gitlab", "junit", "json"), default="text", help="how problems are printed (default: text)")
    _add_speed(check)
    check.set_defaults(run=run_check)
    _add_workflow_commands(commands)
    return parser


def _add_workflow_commands(commands: argparse._SubParsersAction) -> None:
    """init, new, move, won, lost, cancel, schema and report: the daily loop in git."""
    init = commands.add_parser("init", help="create a new pipeline repository (config, example leads, pre-commit, CI)")
    init.add_argument("dir", type=Path, help="the directory to create the pipeline in")
    init.add_argument("--today", type=_today, default=None, help="the date the example leads are relative to")
    init.set_defaults(run=run_init)
    new = commands.add_parser("new", help="write a new lead file leads/<slug>.md and print its path")
    new.add_argument("title", help="what is being sold")
    new.add_argument("--owner", required=True, metavar="ID", help="the team member responsible")
    new.add_argument("--company", help="the customer")
    new.add_argument("--stage", metavar="ID", help="the stage (default: the first; makes an active lead)")
    new.add_argument("--value", help="the total value, e.g. 48000 (default: 0; makes an active lead)")
    new.add_argument("--close", type=_today, metavar="YYYY-MM-DD", help="expected close (default: today + 90 days; makes an active lead)")
    _add_lead_common(new)
    move = commands.add_parser("move", help="move a lead into another stage (appends a history entry)")
    move.add_argument("lead", help="the lead id (acme) or path (leads/acme.md)")
    move.add_argument("stage", help="the stage id")
    _add_lead_common(move)
    for name, outcome in (("won", "won"), ("lost", "lost"), ("cancel", "cancelled")):
        closing = commands.add_parser(name, help=f"mark a lead {outcome} today")
        closing.add_argument("lead", help="the lead id (acme) or path (leads/acme.md)")
        if outcome != "won":
            closing.add_argument("--reason", required=True, help="why the lead was lost or cancelled")
        _add_lead_common(closing)
        closing.set_defaults(run=run_close, outcome=outcome)
    schema = commands.add_parser("schema", help="print the JSON Schema of the lead front matter")
    _add_common(schema)
    schema.set_defaults(run=run_schema)
    report = commands.add_parser("report", help="print the pipeline: stages, forecast vs target, overdue follow-ups, stale leads")
    _add_common(report)
    report.add_argument("--markdown", action="store_true", help="Markdown for a CI job summary or a pull-request comment")
    report.set_defaults(run=run_report)
    new.set_defaults(run=run_new)
    move.set_defaults(run=run_move)


def _add_lead_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", type=Path, default=Path("."), help="the pipeline directory (default: .)")
    parser.add_argument("--today", type=_today, default=None, help="the date to record (default: the real date)")


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    if args.today is None:
        args.today = date.today()
    run: Callable[[argparse.Namespace], int] = args.run
    from funnel_site.problems import ConfigError, UsageError, WorkerDied  # not before: `--help` needs none

    try:
        return run(args)
    except ConfigError as error:
        _print_problems(error.problems)
        return EXIT_USAGE
    except (UsageError, WorkerDied) as error:
        print(f"funnel-site: error: {error}", file=sys.stderr)
        return EXIT_USAGE


def run() -> None:
    """The ``funnel-site`` command: ``main``, then the process ends at once with its exit code.

    Everything a command leaves is finished by then: the files are written and closed, the worker processes have
    ended, the output is flushed below. What an ordinary exit would still do is free the build's objects one by one
    and run the cyclic collector over them: 0.18-0.27 s after the last line at 10k leads, 2.8 s at 100k (measured on a
    busy machine), time a CI job and a rep at a terminal wait for nothing.

    For the same reason the command runs without the cyclic collector (``serve`` turns it back on): what a build
    allocates is kept until it ends, and the few reference cycles it leaves (rendering the 13.6k pages of 10k leads:
    ~500 objects) are not worth the collector's scans over the whole heap, nor its catch-up after each pause of it
    (10k leads: ~0.15-0.2 s of cpu in the build's process).
    """
    gc.disable()
    code = main()
    if sys.getprofile() is not None or sys.gettrace() is not None:
        raise SystemExit(code)  # a profiler or tracer (cProfile, coverage) writes its results at the ordinary exit
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # None: started with that descriptor closed (cron, `>&-`)
                stream.flush()
    except OSError:  # a full disk, a reader gone (`| head`): the interpreter's own exit reports it, as it always did
        raise SystemExit(code) from None
    os._exit(code)


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
    from funnel_site.problems import WorkerDied
    from funnel_site.progress import Progress

    out = args.output if args.output is not None else args.dir / "_site"
    try:
        with Progress() as progress:  # cleared before anything below is printed
            built = build(args.dir, out, args.today, owner=args.owner, split=args.split, cache_dir=_cache_dir(args), jobs=args.jobs, progress=progress,
                          waiting=lambda message: print(f"funnel-site: {message}", file=sys.stderr, flush=True))
    except InvalidLeads as error:
        _print_problems(error.problems)
        print(f"build failed: {_summary(error.problems)}; {out} was left unchanged", file=sys.stderr)
        return EXIT_INVALID
    except OSError as error:
        print(f"funnel-site: error: cannot write {out}: {error.strerror or error}; the previous site was left unchanged", file=sys.stderr)
        return EXIT_USAGE
    except WorkerDied as error:
        print(f"funnel-site: error: {error}; the previous site was left unchanged", file=sys.stderr)
        return EXIT_USAGE
    _print_problems(built.problems)
    whose = f" of {args.owner}" if args.owner else ""
    print(f"built {_leads(built.leads)}{whose} into {out} ({_summary(built.problems)})")
    if args.split:
        members = [m.id for m in built.config.team if m.role == "member"]
        print(f"restricted sites for {', '.join(members) or 'no members'} in {out / 'owners'}")
    return EXIT_OK


def run_policy(args: argparse.Namespace) -> int:
    from funnel_site.policy import check_policy

    result = check_policy(args.dir, args.base, args.head)
    for violation in result.violations:
        print(violation, file=sys.stderr)
    count = len(result.violations)
    summary = f"policy: {result.checked} of {result.commits} commits checked, {count} {'violation' if count == 1 else 'violations'}"
    print(summary, file=sys.stderr if count else sys.stdout)
    return EXIT_INVALID if count else EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    from funnel_site.build import InvalidLeads, check
    from funnel_site.progress import Progress
    from funnel_site.report_formats import FORMATS

    try:
        with Progress() as progress:
            checked = check(args.dir, args.today, _cache_dir(args), args.jobs, progress)
        problems, leads, code = checked.problems, len(checked.project.leads), EXIT_OK
    except InvalidLeads as error:
        problems, leads, code = error.problems, None, EXIT_INVALID
    if args.format == "text":
        _print_problems(problems)
        counted = _leads(leads) if leads is not None else "lead files"
        print(f"checked {counted}: {_summary(problems)}", file=sys.stderr if code else sys.stdout)
    elif args.format == "junit":
        from funnel_site.load import find_lead_files
        from funnel_site.report_formats import junit

        sys.stdout.write(junit(problems, find_lead_files(args.dir.resolve())[0]))
    else:
        sys.stdout.write(FORMATS[args.format](problems))
    return code


def run_serve(args: argparse.Namespace) -> int:
    from funnel_site.serve import serve

    gc.enable()  # it runs for hours: its garbage must be collected (``run`` turns the collector off for the others)
    return serve(args.dir, args.host, args.port, args.today)


def run_init(args: argparse.Namespace) -> int:
    from funnel_site.scaffold import init

    written = init(args.dir, args.today)
    print(f"created a pipeline in {args.dir} ({len(written)} files); next: cd {args.dir} && git init && funnel-site check")
    return EXIT_OK


def run_new(args: argparse.Namespace) -> int:
    from funnel_site.leadfile import new_lead

    options = {"company": args.company, "stage": args.stage, "value": args.value, "close": args.close}
    return _edit_lead(lambda: str(args.dir / new_lead(args.dir, args.title, args.owner, args.today, **options)))


def run_move(args: argparse.Namespace) -> int:
    from funnel_site.leadfile import move

    return _edit_lead(lambda: move(args.dir, args.lead, args.stage, args.today))


def run_close(args: argparse.Namespace) -> int:
    from funnel_site.leadfile import close

    return _edit_lead(lambda: close(args.dir, args.lead, args.outcome, args.today, getattr(args, "reason", None)))


def _edit_lead(edit: Callable[[], str]) -> int:
    from funnel_site.leadfile import InvalidLeadFile

    try:
        print(edit())
    except InvalidLeadFile as error:
        _print_problems(error.problems)
        print(f"{error.path} was left unchanged: fix the problems above first", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


def run_schema(args: argparse.Namespace) -> int:
    from funnel_site.load import load_config
    from funnel_site.schema import lead_schema_json

    sys.stdout.write(lead_schema_json(load_config(args.dir.resolve())).decode("utf-8"))
    return EXIT_OK


def run_report(args: argparse.Namespace) -> int:
    from funnel_site.build import InvalidLeads, check
    from funnel_site.report import report

    try:
        checked = check(args.dir, args.today)
    except InvalidLeads as error:
        _print_problems(error.problems)
        print(f"report failed: {_summary(error.problems)}", file=sys.stderr)
        return EXIT_INVALID
    sys.stdout.write(report(checked.project, checked.figures, markdown=args.markdown))
    return EXIT_OK
