"""The renderer's shortcuts print exactly what plain Jinja2 prints: the cheaper ``Context.call``, printing
without a ``Markup`` per value, globals as a dict, per-page ``link``, remembered header and footer,
memoised labels, ``with_next``. The sites themselves: test_golden.py and the reference sites."""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import pytest
from markupsafe import Markup, escape

from conftest import TODAY, write_project
from funnel_site.build import check
from funnel_site.engine import BuildEnvironment, escaped_text
from funnel_site.quoting import quoted_path
from funnel_site.render import _page_link, _remembered_fragments, make_environment, plan_site

CALLEES = """\
{%- macro twice(x) %}{{ x }}{{ x }}{% endmacro -%}
{%- macro wrap() %}[{{ caller() }}]{% endmacro -%}
{{ ctx("top") }} {{ evalctx("a<b") }} {{ envarg() }} {{ klass("k") }} {{ part("p") }} {{ cached("c") }}
{{ method("m") }} {{ upper("<u>") }} {{ plain("<i>") }} {{ lookup.get("x") }} {{ "a b".split() }} {{ twice("<&>") }} {{ stops() is undefined }}
{%- call wrap() %}in {{ ctx("call") }}{% endcall %}
{% set outer = "o" %}{% for item in ["1", "2"] %}{{ ctx(item) }}{{ evalctx(item) }}{% set inner = item %}{{ ctx(inner) }}{% endfor %}
{% autoescape false %}{{ evalctx("<raw>") }}{{ plain("<raw>") }}{% endautoescape %}
{% block body %}{% set local = "l" %}{{ ctx("block") }}{{ part(local) }}{% endblock %}
"""


def _context_values(context: jinja2.runtime.Context, label: str) -> str:
    return f"{label}:{context.get('outer', '-')}:{context.get('inner', '-')}:{context.get('local', '-')}"


_ctx = jinja2.pass_context(functools.wraps(_context_values)(lambda context, label: _context_values(context, label)))


@jinja2.pass_eval_context
def _evalctx(eval_ctx: Any, text: str) -> str:
    return f"{eval_ctx.autoescape}:{text}"


@jinja2.pass_environment
def _envarg(environment: jinja2.Environment) -> str:
    return environment.undefined.__name__


class _Callable:
    @jinja2.pass_context
    def __call__(self, context: jinja2.runtime.Context, label: str) -> str:
        return f"class {label} {context.name}"


class _Owner:
    @jinja2.pass_context
    def method(self, context: jinja2.runtime.Context, label: str) -> str:
        return f"method {label} {context.name}"


def _stops() -> str:
    raise StopIteration


def _environment(fast: bool) -> jinja2.Environment:
    kind = BuildEnvironment if fast else jinja2.Environment
    env = kind(loader=jinja2.DictLoader({"t.html": CALLEES}), autoescape=True, undefined=jinja2.StrictUndefined)
    env.globals.update(
        ctx=_ctx, evalctx=_evalctx, envarg=_envarg, klass=_Callable(), part=jinja2.pass_context(functools.partial(_context_values)),
        upper=functools.partial(str.upper), cached=functools.lru_cache()(_ctx),
        method=_Owner().method, plain=lambda text: text, lookup={"x": "<x>"}, stops=_stops,
    )
    return env


def test_every_kind_of_callee_gets_what_plain_jinja_gives_it() -> None:
    plain, fast = (_environment(flag).get_template("t.html").render() for flag in (False, True))
    assert fast == plain
    assert "top:-:-:-" in fast and "1:o:-:-" in fast and "1:o:1:-" in fast and "block:o:-:l" in fast  # loop and block variables
    assert "True:a&lt;b" in fast and "False:<raw><raw>" in fast and "class k t.html" in fast and "method m t.html" in fast
    assert "&lt;&amp;&gt;&lt;&amp;&gt;" in fast and "&lt;U&gt;" in fast and "[in call:-:-:-]" in fast and "&lt;i&gt;" in fast


def test_a_strict_undefined_fails_the_same() -> None:
    for flag in (False, True):
        env = _environment(flag)
        with pytest.raises(jinja2.UndefinedError, match="'missing' is undefined"):
            env.from_string("{{ missing }}").render()
        with pytest.raises(jinja2.UndefinedError, match="'missing' is undefined"):
            env.from_string("{{ missing() }}").render()


class _Html:
    def __html__(self) -> str:
        return "<b>safe</b>"


class _Text(str):
    pass


@pytest.mark.parametrize("value", ["", "plain", "<a href=\"x\">'&'</a>", Markup("<b>&amp;</b>"), _Html(), _Text("<t>"), 12, 1.5, None, ["<l>"]])
def test_escaped_text_is_the_text_of_markupsafe_escape(value: object) -> None:
    assert escaped_text(value) == str(escape(value))
    assert type(escaped_text(value)) in (str, Markup)


def test_page_link_quotes_once_per_depth() -> None:
    link = _page_link("../../")
    assert link("leads/a b/ä.html") == "../../leads/a%20b/%C3%A4.html"
    assert link("leads/a b/ä.html") == "../../leads/a%20b/%C3%A4.html"
    assert _page_link("../../") is link and _page_link("") is not link
    assert _page_link("")("index.html") == "index.html"


@pytest.mark.parametrize("path", [
    "", "index.html", "leads/2026/a-b_c.d~e.html", "leads/a b.html", "leads/ä.html", "leads/a%20b.html", "leads/a?b#c.html",
    "leads/a+b&c=d;e.html", "leads/a:b@c.html", "companies/müller-&-söhne.html", "leads/\n.html", "leads/a\\b.html", "//x",
])
def test_links_quote_as_urllib_quotes_a_path(path: str) -> None:
    assert quoted_path(path) == quote(path, safe="/")
    assert _page_link("../")(path) == "../" + quote(path, safe="/")


FRAGMENT = '{% call fragment("k", n) %}{{ counter.append(1) or counter|length }}{% endcall %}'


def test_fragments_are_remembered_only_in_a_planned_build(tmp_path: Path) -> None:
    env = make_environment(tmp_path, "en_US")
    counter: list[int] = []
    assert [env.from_string(FRAGMENT).render(counter=counter, n=1) for _ in range(2)] == ["1", "2"]  # rendered every time
    env = make_environment(tmp_path, "en_US")
    env.globals["fragment"] = _remembered_fragments()
    template = env.from_string(FRAGMENT)
    counter.clear()
    assert [template.render(counter=counter, n=n) for n in (1, 1, 2, 1)] == ["1", "1", "2", "1"]  # once per key


def test_templates_see_the_globals_as_a_plain_dict(tmp_path: Path) -> None:
    env = make_environment(tmp_path, "en_US")
    template = env.from_string("{{ link }}", globals={"extra": 1})
    assert type(template.globals) is dict and template.globals["extra"] == 1 and "extra" not in env.globals
    assert template.globals["link"] is env.globals["link"]


def test_with_next_pairs_each_item_with_the_following_one(tmp_path: Path) -> None:
    env = make_environment(tmp_path, "en_US")
    template = env.from_string("{% for a, b in items|with_next %}{{ a }}>{{ b }};{% endfor %}")
    assert template.render(items=(1, 2, 3)) == "1>2;2>3;3>None;"
    assert template.render(items=[]) == ""


def test_counted_labels_are_remembered_with_the_same_text(tmp_path: Path) -> None:
    env = make_environment(tmp_path, "de_DE")
    template = env.from_string('{{ ngettext("%(num)d day", "%(num)d days", n) }}|{{ ngettext("%(num)d day", "%(num)d days", n, extra="x") }}')
    assert [template.render(n=n) for n in (1, 2, 1, 2)] == ["1 Tag|1 Tag", "2 Tage|2 Tage", "1 Tag|1 Tag", "2 Tage|2 Tage"]
    raw = env.from_string('{% autoescape false %}{{ ngettext("%(num)d day", "%(num)d days", 3) }}{% endautoescape %}')
    assert raw.render() == "3 Tage"
    counted = env.globals["ngettext"]
    eval_ctx = jinja2.nodes.EvalContext(env)
    assert counted(eval_ctx, "%(num)d day", "%(num)d days", 5) is counted(eval_ctx, "%(num)d day", "%(num)d days", 5)


ORIGINAL_CONTACT_URL = """\
{%- set k = key|lower -%}
{%- if k in ("email", "e-mail", "mail") and safe_url("mailto:" ~ value) -%}{{ safe_url('mailto:' ~ value) }}
{%- elif k in ("phone", "mobile", "tel", "telefon", "mobil", "handy") and safe_url("tel:" ~ value|replace(" ", "")|replace("/", "")|replace("(", "")|replace(")", "")) -%}
{{ safe_url('tel:' ~ value|replace(' ', '')|replace('/', '')|replace('(', '')|replace(')', '')) }}
{%- else %}-{% endif -%}"""


@pytest.mark.parametrize("key", ["email", "E-Mail", "MAIL", "phone", "Telefon", "Handy", "tel", "url", "name"])
@pytest.mark.parametrize("value", ["a@b.example", "+49 (30) 123/45", "x@example.com\" onclick=\"alert(8)", "java\tscript:x", 4930123,
                                   ["a", "b"], {"n": 1}, None, True, "", "tel:+1", "javascript:alert(1)", "a b@c.d"])
def test_contact_url_links_as_the_template_expression_did(tmp_path: Path, key: str, value: object) -> None:
    from funnel_site.notes import contact_url

    env = make_environment(tmp_path, "en_US")
    printed = env.from_string(ORIGINAL_CONTACT_URL).render(key=key, value=value)
    url = contact_url(key, value)
    assert printed == ("-" if url is None else str(escape(url)))


MACROS = """\
{%- macro pair(a, b) %}<{{ a }}|{{ b }}>{% endmacro -%}
{%- macro opt(a, b="d<") %}({{ a }},{{ b }}){% endmacro -%}
{%- macro rest(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro -%}
{%- macro boxed(a) %}[{{ a }}{{ caller(a) }}]{% endmacro -%}
{{ pair("x&", "<y>") }} {{ pair("x", b="kw") }} {{ opt("o") }} {{ opt("o", "p") }} {{ rest(1, 2, k=3) }}
{% for i in [1, 2] %}{{ pair(i, loop.index) }}{% endfor %}{% block b %}{% set v = "v" %}{{ pair(v, v) }}{% endblock %}
{% call(x) boxed("c") %}{{ x }}!{% endcall %} {{ pair("a", "b") ~ "&" }}
{% autoescape false %}{{ pair("<r>", "<s>") }}{% endautoescape %}
"""


def test_macros_print_what_plain_jinja_prints_and_full_calls_skip_macro_call(monkeypatch) -> None:
    plain, fast = (_environment(flag).from_string(MACROS) for flag in (False, True))
    expected = plain.render()
    entered = []
    original = jinja2.runtime.Macro.__call__
    monkeypatch.setattr(jinja2.runtime.Macro, "__call__", lambda self, *a, **k: entered.append(self.name) or original(self, *a, **k))
    assert fast.render() == expected
    assert "<x&amp;|&lt;y&gt;>" in expected and "(o,d&lt;)" in expected and "[cc!]" in expected and "<a|b>&amp;" in expected
    assert sorted(set(entered)) == ["boxed", "opt", "pair", "rest"]  # defaults, keywords, extra arguments, caller
    assert entered.count("pair") == 1  # only pair("x", b="kw"); every all-positional call went straight to the body


def test_a_plan_looks_each_template_up_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    leads = {f"leads/{name}.md": f"---\ntitle: {name}\ncompany: Acme\nowner: anna\nstatus: potential\n---\n" for name in "abc"}
    checked = check(write_project(tmp_path, leads), date.fromisoformat(TODAY))
    plan = plan_site(checked.project, checked.figures, checked.problems)
    looked_up: list[str] = []
    get_template = plan.env.get_template
    monkeypatch.setattr(plan.env, "get_template", lambda name, *args, **kwargs: looked_up.append(name) or get_template(name, *args, **kwargs))
    pages = [plan.render(index) for index in range(len(plan.pages)) if plan.pages[index][1] == "lead.html"]
    assert [path for path, _ in pages] == ["leads/a.html", "leads/b.html", "leads/c.html"]
    assert looked_up.count("lead.html") == 1 and plan.templates == {"lead.html": get_template("lead.html")}  # base.html: the frame's
    assert b"<h1>b</h1>" in pages[1][1]
