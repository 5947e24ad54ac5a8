"""The build's code generator and templates (``engine``) write exactly the text plain Jinja2 writes: for every
construct that decides how a template's output is passed on (inheritance, blocks, includes, imports, macros,
call and filter blocks, loops), for imports shared between pages, and for labels. Calls and printing:
test_render_speed.py."""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import jinja2
import pytest
from markupsafe import Markup

from funnel_site.engine import BuildEnvironment
from funnel_site.render import make_environment

TEMPLATES = {
    "base.html": (
        "<title>{% block title %}Base{% endblock %}</title>\n"
        "{% block nav %}<nav>{{ section }}</nav>{% endblock %}\n"
        "{% for item in items %}{% block row scoped %}<i>{{ item }}</i>{% endblock %}{% endfor %}\n"
        "<main>{% block content required %}{% endblock %}</main>{{ self.title() }}\n"
    ),
    "child.html": (
        '{% extends "base.html" %}\n'
        '{% import "macros.html" as m with context %}\n'
        '{% from "macros.html" import pair %}\n'
        "ignored: a child's own output outside blocks\n"
        "{% block title %}Child · {{ super() }}{% endblock %}\n"
        "{% block row %}[{{ super() }}|{{ item }}]{% endblock %}\n"
        "{% block content %}{% set local = 'l<' %}{{ m.pair(local, section) }}{{ pair(1, 2) }}"
        '{% include "part.html" %}'
        "{% filter upper %}up {{ section }}{% endfilter %}"
        "{% set captured %}cap {{ local }}{% endset %}{{ captured }}"
        "{% call(x) m.boxed('b') %}<{{ x }}>{% endcall %}"
        "{% for item in tree recursive %}({{ item.name }}{% if item.kids %}{{ loop(item.kids) }}{% endif %}){% else %}none{% endfor %}"
        "{% for item in [] %}{{ item }}{% else %}empty{% endfor %}"
        "{% autoescape false %}{{ section }}{% endautoescape %}{{ m.lines(3) }}"
        "{% endblock %}\n"
    ),
    "macros.html": (
        "{% macro pair(a, b) %}<{{ a }}|{{ b }}>{% endmacro %}\n"
        "{% macro boxed(a) %}[{{ a }}{{ caller(a) }}]{% endmacro %}\n"
        "{% macro lines(n) %}{% for i in range(n) %}{{ i }}{{ section }}{% endfor %}{% endmacro %}\n"
    ),
    "part.html": "{part {{ section | default('none') }}}",
    "conditional.html": (  # extends decided at run time: the parent's output only if it extends
        "before {{ section }}\n"
        '{% if parent %}{% extends "base.html" %}{% endif %}\n'
        "{% block content %}own {{ section }}{% endblock %}\n"
        "after\n"
    ),
    "plain.html": "{% block a %}A{% block b %}B{{ section }}{% endblock %}{% endblock %}{{ self.b() }} end\n",
    "unjoined.html": (  # Jinja writes this include as a ``yield from`` (jinja#2108): such a template keeps Jinja's way
        '{% extends "base.html" %}{% block content %}{{ section }}{% include "part.html" without context %}!{% endblock %}'
    ),
}

VALUES: dict[str, Any] = {
    "section": "<s&>", "items": ["x", "<y>"],
    "tree": [{"name": "a", "kids": [{"name": "b", "kids": []}]}, {"name": "c", "kids": []}],
}


def _environment(fast: bool) -> jinja2.Environment:
    kind = BuildEnvironment if fast else jinja2.Environment
    return kind(loader=jinja2.DictLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined)


@pytest.mark.parametrize("name, values", [
    ("child.html", VALUES), ("conditional.html", {**VALUES, "parent": True}), ("conditional.html", {**VALUES, "parent": False}),
    ("plain.html", VALUES), ("part.html", VALUES), ("macros.html", VALUES), ("unjoined.html", VALUES),
])
def test_every_construct_writes_what_plain_jinja_writes(name: str, values: dict[str, Any]) -> None:
    plain, fast = (_environment(flag).get_template(name) for flag in (False, True))
    expected = plain.render(values)
    assert fast.render(values) == expected
    assert "".join(fast.generate(values)) == expected


def test_the_sample_is_what_it_claims_to_be() -> None:
    env = _environment(True)
    assert env.get_template("child.html").render(VALUES) == (
        "<title>Child · Base</title>\n<nav>&lt;s&amp;&gt;</nav>\n[<i>x</i>|x][<i>&lt;y&gt;</i>|&lt;y&gt;]\n"
        "<main><l&lt;|&lt;s&amp;&gt;><1|2>{part &lt;s&amp;&gt;}UP &LT;S&AMP;&GT;cap l&lt;[b<b>](a(b))(c)empty"
        "<s&>0&lt;s&amp;&gt;1&lt;s&amp;&gt;2&lt;s&amp;&gt;</main>Child · Base"
    )
    assert env.get_template("unjoined.html").render(VALUES).endswith("<main>&lt;s&amp;&gt;{part none}!</main>Base")
    assert env.get_template("plain.html").render(VALUES) == "AB&lt;s&amp;&gt;B&lt;s&amp;&gt; end"


def test_a_page_is_passed_on_joined_not_piece_by_piece() -> None:
    """Jinja yields every piece of a block and hands it up through each template it is nested in; the build's
    templates join a block's and a template's text first (a page of the 10k corpus has a few hundred pieces)."""
    plain, fast = (_environment(flag).get_template("child.html") for flag in (False, True))
    pieces = [piece for piece in fast.generate(VALUES) if piece]
    assert pieces == [plain.render(VALUES)]
    assert len(list(plain.generate(VALUES))) > 20


def test_a_missing_required_block_and_a_template_error_fail_the_same() -> None:
    for flag in (False, True):
        env = _environment(flag)
        with pytest.raises(jinja2.TemplateRuntimeError, match="Required block 'content' not found"):
            env.from_string('{% extends "base.html" %}').render(VALUES)
        with pytest.raises(jinja2.UndefinedError, match="'nothing' is undefined"):
            env.from_string('{% extends "base.html" %}{% block content %}{{ nothing.x }}{% endblock %}').render(VALUES)


def test_keywords_named_like_the_call_parameters_reach_the_callee() -> None:
    """``call_from`` takes the loop's and block's variables and the callee by position only."""
    source = ("{{ kw(callee=1, self=2) }}{% for i in [1] %}{{ kw(loop_vars=i) }}{% endfor %}"
              "{% block b %}{{ kw(block_vars=3, obj=4) }}{% endblock %}")
    plain, fast = (_environment(flag).from_string(source) for flag in (False, True))
    values = {"kw": lambda **kwargs: sorted(kwargs.items())}
    assert fast.render(values) == plain.render(values) == (
        "[(&#39;callee&#39;, 1), (&#39;self&#39;, 2)][(&#39;loop_vars&#39;, 1)][(&#39;block_vars&#39;, 3), (&#39;obj&#39;, 4)]"
    )


SHARING = {
    "macros.html": (
        "{% macro here(x) %}{{ link(x) }}{% endmacro %}\n"
        "{% macro title() %}{{ page }}:{{ here(page) }}{% endmacro %}\n"  # reads link (by calling here) and page
        "{% macro asks() %}{{ whoami() }}{% endmacro %}\n"
    ),
    "page.html": '{% from "macros.html" import here with context %}{{ here("a") }}',
    "titled.html": '{% from "macros.html" import title with context %}{{ title() }}',
    "asking.html": '{% import "macros.html" as m with context %}{{ m.asks() }}',
    "looped.html": '{% for page in pages %}{% from "macros.html" import title with context %}{{ title() }};{% endfor %}',
    "stateful.html": '{% set count = namespace(n=0) %}{% macro bump() %}{% set count.n = count.n + 1 %}{{ count.n }}{% endmacro %}',
    "bumping.html": '{% import "stateful.html" as s with context %}{{ s.bump() }}{{ s.bump() }}',
}


def _sharing(fast: bool) -> jinja2.Environment:
    kind = BuildEnvironment if fast else jinja2.Environment
    env = kind(loader=jinja2.DictLoader(SHARING), autoescape=True, undefined=jinja2.StrictUndefined)
    env.globals["whoami"] = jinja2.pass_context(lambda context: context["page"])
    return env


def _links() -> dict[str, Any]:
    return {depth: (lambda path, depth=depth: depth + path) for depth in ("", "../")}


def test_an_import_with_context_is_shared_by_pages_that_agree_on_what_its_macros_read() -> None:
    plain, fast = _sharing(False), _sharing(True)
    links = _links()
    pages = [{"link": links[depth], "page": f"p{n}"} for n, depth in enumerate(["", "../", "", "../", ""])]
    for name, expected in [("page.html", ["a", "../a", "a", "../a", "a"]), ("titled.html", ["p0:p0", "p1:../p1", "p2:p2", "p3:../p3", "p4:p4"]),
                           ("asking.html", ["p0", "p1", "p2", "p3", "p4"])]:
        assert [fast.get_template(name).render(page) for page in pages] == [plain.get_template(name).render(page) for page in pages] == expected
    modules = fast.get_template("macros.html").shared_modules
    # one module per link for ``here``; ``title`` also reads the page, so one per page; ``asks`` calls a callable given the context
    assert collections.Counter(key[0] for key, (_, module) in modules.items() if module is not None) == {("here",): 2, ("title",): 5}
    assert fast.get_template("macros.html").macro_reads == {"here": ("link",), "title": ("link", "page"), "asks": ("whoami",)}


def test_a_shared_module_follows_the_importers_own_variables() -> None:
    plain, fast = _sharing(False), _sharing(True)
    values = {"pages": ["x", "y", "x"], "link": _links()[""]}
    assert fast.get_template("looped.html").render(values) == plain.get_template("looped.html").render(values) == "x:x;y:y;x:x;"


def test_a_template_with_code_besides_its_macros_is_never_shared() -> None:
    plain, fast = _sharing(False), _sharing(True)
    assert [fast.get_template("bumping.html").render() for _ in range(2)] == [plain.get_template("bumping.html").render()] * 2 == ["12", "12"]
    assert fast.get_template("stateful.html").macro_reads is None and not fast.get_template("stateful.html").shared_modules


LABELS = (
    '{{ _("a<b") }}|{{ gettext("a<b") }}|{{ _("n %(x)s", x="<") }}|{% autoescape false %}{{ _("a<b") }}{% endautoescape %}|'
    '{% for i in [1] %}{{ _("a<b") }}{% endfor %}|{% set _ = upper %}{{ _("a<b") }}'
)


def _gettext(text: str, **variables: Any) -> Any:
    return (Markup(text) % variables) if variables else Markup(text)


def test_labels_print_what_the_gettext_function_gives() -> None:
    plain, fast = (_environment(flag).from_string(LABELS) for flag in (False, True))
    values = {"_": _gettext, "gettext": _gettext, "upper": str.upper}
    assert fast.render(values) == plain.render(values) == "a<b|a<b|n &lt;|a<b|a<b|A&lt;B"


def test_a_label_a_gettext_function_keeps_is_printed_without_calling_it() -> None:
    """What ``render._install_fast_gettext`` keeps in ``labels``: the text with autoescaping on, for a message without variables."""
    calls: list[str] = []

    def gettext(text: str, **variables: Any) -> Any:
        calls.append(text)
        return _gettext(text, **variables)

    gettext.labels = {"a<b": Markup("kept")}  # type: ignore[attr-defined]
    page = _environment(True).from_string(LABELS).render({"_": gettext, "gettext": gettext, "upper": str.upper})
    assert page == "kept|kept|n &lt;|a<b|kept|A&lt;B"
    assert calls == ["n %(x)s", "a<b"]  # the one with a variable, and the one where autoescaping is off


def test_the_builds_gettext_keeps_its_labels(tmp_path: Path) -> None:
    env = make_environment(tmp_path, "de_DE")
    template = env.from_string('{{ _("Facts") }} {{ _("Facts") }}{% autoescape false %} {{ _("Notes") }}{% endautoescape %}')
    assert template.render() == "Eckdaten Eckdaten Notizen"
    assert env.globals["_"].labels["Facts"] == Markup("Eckdaten")
    assert env.globals["_"].label("Value") == Markup("Wert")


def test_a_printed_label_is_compiled_in_as_its_text(tmp_path: Path) -> None:
    env = make_environment(tmp_path, "de_DE")
    source = '<b>{{ _("Facts") }}</b>{{ gettext("Notes") }}{{ _("n %(x)s", x=1) }}{% autoescape false %}{{ _("Facts") }}{% endautoescape %}'
    code = env.compile(source, raw=True)
    assert "'Eckdaten' if l_0__ is fixed_gettext else" in code and "'Notizen' if l_0_gettext is fixed_gettext else" in code
    assert code.count(" is fixed_gettext else") == 2  # not the message with a variable, nor where autoescaping is off
    assert env.from_string(source).render() == "<b>Eckdaten</b>Notizen" + "n 1" + "Eckdaten"
    with pytest.raises(KeyError):  # a placeholder without its value fails where the label is printed, as before
        env.from_string('{{ _("n %(x)s") }}').render()


def test_a_page_whose_gettext_is_another_calls_it(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "frame.html").write_text('{{ _("Facts") }}|{% block content %}{% endblock %}')
    (tmp_path / "templates" / "page.html").write_text('{% extends "frame.html" %}{% set _ = upper %}{% block content %}{{ _("Facts") }}{% endblock %}')
    env = make_environment(tmp_path, "de_DE")
    assert env.from_string('{{ _("Facts") }}').render(_=str.upper) == "FACTS"
    assert env.from_string('{% set _ = upper %}{{ _("Facts") }}').render(upper=str.upper) == "FACTS"
    assert env.from_string('{% macro m(_) %}{{ _("Facts") }}{% endmacro %}{{ m(upper) }}').render(upper=str.upper) == "FACTS"
    assert env.get_template("page.html").render(upper=str.upper) == "FACTS|FACTS"  # the child's ``_`` reaches its parent
    with pytest.raises(jinja2.UndefinedError):
        env.from_string('{{ _("Facts") }}').render(_=jinja2.StrictUndefined(name="_"))


def test_a_template_compiled_for_another_catalog_prints_this_ones(tmp_path: Path) -> None:
    german, english = make_environment(tmp_path, "de_DE"), make_environment(tmp_path, "en_US")
    code = german.compile('{{ _("Facts") }}')
    assert english.template_class.from_code(english, code, english.make_globals(None)).render() == "Facts"
    assert german.template_class.from_code(german, code, german.make_globals(None)).render() == "Eckdaten"


def test_the_lead_pages_share_one_module_of_macros_and_make_none_of_their_own() -> None:
    from datetime import date

    from funnel_site.build import check
    from funnel_site.render import plan_site

    checked = check(Path(__file__).parent / "data" / "sample", date(2026, 11, 22), None, 1)
    plan = plan_site(checked.project, checked.figures, checked.problems, checked.scope)
    leads = [index for index, (_, template, _) in enumerate(plan.pages) if template == "lead.html"]
    for index in leads:
        plan.render(index)
    macros = plan.env.get_template("macros.html")
    depths = {path.count("/") for path, template, _ in plan.pages if template == "lead.html"}
    assert len(leads) > len(depths) and [module is not None for _, module in macros.shared_modules.values()] == [True] * len(depths)
    assert {"field_value", "contact_value"} <= macros.macro_reads.keys()
    source = plan.env.loader.get_source(plan.env, "lead.html")[0]
    assert "Macro(" not in plan.env.compile(source, "lead.html", raw=True)  # a macro of the page itself is made on every page


class _Record:
    """Attributes of every kind a template reads: plain, a property that fails, an item under an attribute's name."""

    value = "<v>"
    empty = None
    sentinel = jinja2.runtime.missing  # Jinja's own marker of a missing value, as an ordinary attribute's value

    @property
    def failing(self) -> str:
        raise AttributeError("failing")

    def __getitem__(self, key: str) -> str:
        if key == "failing":
            return "<item>"
        raise KeyError(key)


class _Unsubscriptable:
    name = "n"


ATTRIBUTES = (
    "{{ r.value }}|{{ r.empty }}|{{ r.sentinel is defined }}|{{ r.failing }}|{{ r.other is defined }}|{{ r.other|default('d') }}|"
    "{{ d.key }}|{{ d.items is defined }}|{{ d.nested.inner.deep }}|{{ d.get('key') }}|{{ u.name }}|{{ u.nothing is defined }}|"
    "{% for item in items if item.ok %}{{ item.name }}{% endfor %}|{% set x = d.nested.inner %}{{ x.deep }}|"
    "{% macro m(o) %}{{ o.value }}{{ o.failing }}{% endmacro %}{{ m(r) }}|{{ [r.value, d.key]|join(',') }}|"
    "{% autoescape false %}{{ r.value }}{{ d.key }}{% endautoescape %}|{{ (r.value ~ d.key)|length }}"
)

PRINTED = (
    "{{ s }}|{{ sub }}|{{ safe }}|{{ html }}|{{ n }}|{{ f }}|{{ none }}|{{ items }}|{{ s ~ safe }}|"
    "{% autoescape false %}{{ s }}{{ safe }}{{ html }}{% endautoescape %}|{% filter upper %}{{ s }}{% endfilter %}"
)


def _attribute_values() -> dict[str, Any]:
    return {
        "r": _Record(), "u": _Unsubscriptable(),
        "d": {"key": "<k>", "items": "shadowed", "nested": {"inner": {"deep": "<deep>"}}},
        "items": [{"ok": True, "name": "a"}, {"ok": False, "name": "b"}, {"name": "c", "ok": 1}],
    }


class _PageHtml:
    def __html__(self) -> str:
        return "<b>html</b>"


class _Sub(str):
    pass


@pytest.mark.parametrize("finalize", [None, lambda value: "∅" if value is None else value])
def test_attributes_and_printed_values_are_what_plain_jinja_gives(finalize: Any) -> None:
    """``a.b`` reads the attribute, else the item, else gives an undefined; printed values are escaped the same."""
    plain, fast = (_environment(flag) for flag in (False, True))
    for env in (plain, fast):
        env.finalize = finalize
    values = {**_attribute_values(), "s": "<s&>", "sub": _Sub("<sub>"), "safe": Markup("<i>"), "html": _PageHtml(), "n": 12, "f": 1.5,
              "none": None}
    for source in (ATTRIBUTES, PRINTED):
        assert fast.from_string(source).render(values) == plain.from_string(source).render(values)
    assert fast.from_string(ATTRIBUTES).render(values).startswith("&lt;v&gt;|")
    assert "|True|&lt;item&gt;|False|d|&lt;k&gt;|True|&lt;deep&gt;|&lt;k&gt;|n|False|ac|&lt;deep&gt;|" in fast.from_string(ATTRIBUTES).render(values)


def test_an_attribute_is_read_without_a_call_of_the_environment() -> None:
    code = _environment(True).compile("{{ r.value }}{% if d.key %}{{ d.nested.inner }}{% endif %}", raw=True)
    assert "environment.getattr(" not in code and code.count("getattr(t_owner := ") == 4
    assert "escaped_text(" in code and "escaped_str(t_text) if type(t_text := " in code


@pytest.mark.parametrize("source, message", [
    ("{{ r.other }}", f"'{__name__}._Record object' has no attribute 'other'"),
    ("{{ d.missing }}", "'dict object' has no attribute 'missing'"),
    ("{{ nothing.value }}", "'nothing' is undefined"),
    ("{{ d.missing.deeper }}", "'dict object' has no attribute 'missing'"),
    ("{{ u.nothing }}", f"'{__name__}._Unsubscriptable object' has no attribute 'nothing'"),
])
def test_a_missing_attribute_fails_as_in_plain_jinja(source: str, message: str) -> None:
    for flag in (False, True):
        with pytest.raises(jinja2.UndefinedError) as failure:
            _environment(flag).from_string(source).render(_attribute_values())
        assert str(failure.value) == message
