"""The Jinja environment a build renders with: Jinja's own, with cheaper calls and printing, same output.

A page makes a few hundred template calls and prints as many values; Jinja's general way of doing
both costs more than the work itself. Everything here gives byte-identical pages
(tests/test_render_speed.py against plain Jinja, test_golden.py and the reference sites).
"""

from __future__ import annotations

import functools
from types import BuiltinFunctionType, FunctionType, MethodType
from typing import Any, Callable, MutableMapping

import jinja2
from jinja2.compiler import CodeGenerator, Frame
from jinja2.nodes import Template
from jinja2.runtime import Macro
from jinja2.utils import _PassArg
from markupsafe import Markup

try:  # markupsafe's own escaping of a plain string, the core of markupsafe.escape
    from markupsafe import _escape_inner
except ImportError:  # pragma: no cover - another markupsafe: the public function, same text
    def _escape_inner(text: str) -> str:
        return str(Markup.escape(text))


# Callables that can carry Jinja's pass_context mark only on themselves (their ``__call__`` cannot).
_OWN_MARK = frozenset({FunctionType, MethodType, functools.partial, type(functools.lru_cache()(print))})


class FastCallContext(jinja2.runtime.Context):
    """Jinja's context with a cheaper ``call`` (every call in a template goes through it), same results.

    Jinja asks every callee twice whether it wants the context passed (``hasattr`` on it and on its
    ``__call__``). Functions, methods, partials and lru_caches can only say so on themselves, so one
    ``getattr`` answers, and C functions and macros never do; anything else, and every ``pass_context``
    or ``pass_environment`` callee, takes Jinja's own way.
    """

    def call(__self, __obj: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's names
        kind = type(__obj)
        if kind is Macro:
            try:
                return _call_macro(__obj, args, kwargs)
            except StopIteration:
                return __self.environment.undefined("value was undefined because a callable raised a StopIteration exception")
        if kind in _OWN_MARK:
            pass_arg = getattr(__obj, "jinja_pass_arg", None)
        elif kind is BuiltinFunctionType:
            pass_arg = None
        else:
            return super().call(__obj, *args, **kwargs)
        if pass_arg is _PassArg.eval_context:
            args = (__self.eval_ctx, *args)
        elif pass_arg is not None:
            return super().call(__obj, *args, **kwargs)
        kwargs.pop("_block_vars", None)
        kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined("value was undefined because a callable raised a StopIteration exception")


def _call_macro(macro: Macro, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``macro(*args, **kwargs)``; a call with every argument given by position goes straight to its body.

    That is what ``Macro.__call__`` ends up doing for such a call (no defaults, ``caller`` or extra
    arguments to sort out) after a dozen checks; a page of the built-in theme makes a few dozen.
    """
    kwargs.pop("_block_vars", None)
    kwargs.pop("_loop_vars", None)
    if (kwargs or len(args) != macro._argument_count or macro.caller or macro.catch_kwargs or macro.catch_varargs
            or macro._environment.is_async):
        return macro(*args, **kwargs)
    text = macro._func(*args)
    return Markup(text) if macro._default_autoescape else text


def escaped_text(value: Any) -> str:
    """The text of ``markupsafe.escape(value)`` as a plain string: what ``{{ … }}`` writes into a page.

    Jinja wraps every printed value in a new ``Markup`` only to join it into the page at once.
    """
    if type(value) is str:
        return _escape_inner(value)
    html = getattr(value, "__html__", None)
    if html is not None:
        text = html()
        return text if isinstance(text, str) else str(Markup(text))
    return _escape_inner(str(value))


class PlainTextCodeGenerator(CodeGenerator):
    """Jinja's code generator, printing with ``escaped_text`` instead of ``markupsafe.escape``.

    Printed values only ever go into a join (the page, or a macro's or block's ``Markup``), so the
    text is the same. Overrides Jinja's internal hook: a Jinja without it just keeps its own.
    """

    def visit_Template(self, node: Template, frame: Frame | None = None) -> None:
        self.writeline("from funnel_site.engine import escaped_text")
        super().visit_Template(node, frame)

    def _output_child_pre(self, node: Any, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.volatile:
            self.write("(escaped_text if context.eval_ctx.autoescape else str)(")
        elif frame.eval_ctx.autoescape:
            self.write("escaped_text(")
        else:
            self.write("str(")
        if finalize.src is not None:
            self.write(finalize.src)


class BuildEnvironment(jinja2.Environment):
    """A Jinja environment with the cheaper calls and printing above, whose templates see its globals as a
    plain dict, copied when a template loads.

    Jinja gives each template a ``ChainMap`` over the globals and copies it into every page's context
    key by key in Python; a dict copies at C speed. Jinja asks that globals not change once a template
    is loaded, and a build sets them all first (``render.make_environment``, ``render.plan_site``).
    """

    context_class = FastCallContext
    code_generator_class = PlainTextCodeGenerator

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}
