"""The Jinja environment a build renders with: Jinja's own, with cheaper calls, attributes, printing, output and imports, same text.

A page makes a few hundred template calls, prints as many values and imports the theme's macros;
Jinja's general way of doing all that costs more than the work itself. Everything here gives
byte-identical pages (tests/test_engine.py and tests/test_render_speed.py against plain Jinja,
test_golden.py and the reference sites).
"""

from __future__ import annotations

import functools
import operator
from types import BuiltinFunctionType, FunctionType, MethodType
from typing import Any, Callable, Mapping, MutableMapping

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.environment import TemplateModule
from jinja2.idtracking import VAR_LOAD_RESOLVE
from jinja2.runtime import Macro, Undefined, missing
from jinja2.utils import _PassArg
from markupsafe import Markup

try:  # markupsafe's own escaping of a plain string, the core of markupsafe.escape
    from markupsafe import _escape_inner
except ImportError:  # pragma: no cover - another markupsafe: the public function, same text
    def _escape_inner(text: str) -> str:
        return str(Markup.escape(text))


escaped_str = _escape_inner  # what ``escaped_text`` gives for a ``str``, which most printed values are

# ``Markup(text)`` for a plain ``str`` (a macro's joined text), which is all markupsafe's ``__new__`` does with one
_markup = functools.partial(str.__new__, Markup)

# Callables that can carry Jinja's pass_context mark only on themselves (their ``__call__`` cannot).
_OWN_MARK = frozenset({FunctionType, MethodType, functools.partial, type(functools.lru_cache()(print))})


class FastCallContext(jinja2.runtime.Context):
    """Jinja's context with a cheaper way to call (every call in a template goes through it), same results.

    Jinja asks every callee twice whether it wants the context passed (``hasattr`` on it and on its
    ``__call__``). Functions, methods, partials and lru_caches can only say so on themselves, so one
    ``getattr`` answers, and C functions and macros never do; anything else, and every ``pass_context``
    or ``pass_environment`` callee, takes Jinja's own way.
    """

    def call(__self, __obj: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's names
        """Jinja's ``call`` (its own i18n functions call through it), with the loop's and block's variables as keywords."""
        return __self.call_from(kwargs.pop("_loop_vars", None), kwargs.pop("_block_vars", None), __obj, *args, **kwargs)

    def label(self, loop_vars: dict[str, Any] | None, block_vars: dict[str, Any] | None, gettext: Callable[..., Any], message: str, /) -> Any:
        """``gettext(message)`` where autoescaping is on, from the ``labels`` a gettext function may keep: its text
        for each message without variables (``render._install_fast_gettext``); a page asks for a few dozen."""
        labels = getattr(gettext, "labels", None) if type(gettext) is FunctionType else None
        text = None if labels is None else labels.get(message)
        return text if text is not None else self.call_from(loop_vars, block_vars, gettext, message)

    def call_from(
        self, loop_vars: dict[str, Any] | None, block_vars: dict[str, Any] | None, callee: Callable[..., Any], /, *args: Any, **kwargs: Any,
    ) -> Any:
        """``callee(*args, **kwargs)`` from a template; the variables of the loop and block it is called in
        matter only to a ``pass_context`` callee (``PlainTextCodeGenerator`` passes them by position, which
        spares every call a dictionary of keywords)."""
        kind = type(callee)
        if kind is Macro:
            try:
                return _call_macro(callee, args, kwargs)
            except StopIteration:
                return self.environment.undefined("value was undefined because a callable raised a StopIteration exception")
        if kind in _OWN_MARK:
            pass_arg = getattr(callee, "jinja_pass_arg", None)
        elif kind is BuiltinFunctionType:
            pass_arg = None
        else:
            return super().call(callee, *args, _loop_vars=loop_vars, _block_vars=block_vars, **kwargs)
        if pass_arg is _PassArg.eval_context:
            args = (self.eval_ctx, *args)
        elif pass_arg is not None:
            return super().call(callee, *args, _loop_vars=loop_vars, _block_vars=block_vars, **kwargs)
        try:
            return callee(*args, **kwargs)
        except StopIteration:
            return self.environment.undefined("value was undefined because a callable raised a StopIteration exception")


def _call_macro(macro: Macro, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``macro(*args, **kwargs)``; a call with every argument given by position goes straight to its body.

    That is what ``Macro.__call__`` ends up doing for such a call (no defaults, ``caller`` or extra
    arguments to sort out) after a dozen checks; a page of the built-in theme makes a few dozen.
    """
    if (kwargs or len(args) != macro._argument_count or macro.caller or macro.catch_kwargs or macro.catch_varargs
            or macro._environment.is_async):
        return macro(*args, **kwargs)
    text = macro._func(*args)
    return _markup(text) if macro._default_autoescape else text


# What ``getattr(obj, name, NO_ATTRIBUTE)`` gives where ``obj`` has no attribute ``name`` (Jinja's ``missing`` may be a value)
NO_ATTRIBUTE = object()


def item_or_undefined(environment: jinja2.Environment, obj: Any, attribute: str) -> Any:
    """The rest of Jinja's ``Environment.getattr`` where ``obj`` has no attribute ``attribute``: the item, else undefined."""
    try:
        return obj[attribute]
    except (TypeError, LookupError, AttributeError):
        return environment.undefined(obj=obj, name=attribute)


def escaped_text(value: Any) -> str:
    """The text of ``markupsafe.escape(value)`` as a plain string: what ``{{ … }}`` writes into a page.

    Jinja wraps every printed value in a new ``Markup`` only to join it into the page at once.
    """
    kind = type(value)
    if kind is str:
        return _escape_inner(value)
    if kind is Markup:  # its own text: what ``__html__`` below gives
        return value
    html = getattr(value, "__html__", None)
    if html is not None:
        text = html()
        return text if isinstance(text, str) else str(Markup(text))
    return _escape_inner(str(value))


class PlainTextCodeGenerator(CodeGenerator):
    """Jinja's code generator, with cheaper ways to the same page:

    * printing with ``escaped_text`` instead of ``markupsafe.escape``: printed values only ever go into
      a join (the page, or a macro's or block's ``Markup``), so the text is the same; a ``str`` goes
      straight to markupsafe's escaping (``escaped_str``), without a call of ``escaped_text``;
    * calls through ``FastCallContext.call_from``, with the loop's and block's variables by position, and
      labels (``_("text")``) through ``FastCallContext.label``;
    * a printed label compiled in as its text, where ``_`` is the environment's own (``fixed_labels``);
    * a template's and each block's text collected in a list and passed on joined, as Jinja does for
      a macro, instead of passed on piece by piece (one ``yield`` per piece, and each piece of a page's
      content handed up through base.html and the page). A template with an include without context
      keeps Jinja's way;
    * imports with context through ``BuildTemplate.shared_module``, with what each macro of a template of
      macros looks up in the context (``macro_reads``);
    * ``a.b`` as Python's ``getattr`` in the template's own code, ``item_or_undefined`` only where there is no
      such attribute: Jinja's ``Environment.getattr`` in two steps, without a method call for every attribute.

    Overrides Jinja's internal hooks: a Jinja without them just keeps its own. Its templates need ``BuildTemplate``.
    """

    joined = True  # whether this template's own and its blocks' text is collected (see visit_Template)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.labels: dict[str, str] = {}  # the text of each label in this template (see fixed_labels)

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        # Jinja writes an include without context as ``yield from`` even where the text is collected (jinja#2108)
        self.joined = all(include.with_context for include in node.find_all(nodes.Include))
        self.labels = fixed_labels(self.environment, node)
        self.writeline("from funnel_site.engine import NO_ATTRIBUTE, escaped_str, escaped_text, item_or_undefined")
        self.writeline(f"macro_reads = {macro_reads(self.environment, node)!r}")
        if self.labels:
            self.writeline(f"fixed_gettext = environment.fixed_gettext({self.labels!r})")
        super().visit_Template(node, frame)

    def _output_child_pre(self, node: Any, frame: Frame, finalize: Any) -> None:
        label = self._fixed_label(node, frame, finalize)
        if label is not None:  # the call below stays for a page whose ``_`` is another (see fixed_labels)
            self.write(f"({self.labels[label]!r} if {frame.symbols.ref(node.node.name)} is fixed_gettext else ")
        if frame.eval_ctx.volatile:
            self.write("(escaped_text if context.eval_ctx.autoescape else str)(")
        elif frame.eval_ctx.autoescape:  # ``t_text``: read right after it is set (see visit_Getattr)
            self.write("(escaped_str(t_text) if type(t_text := ")
        else:
            self.write("str(")
        if finalize.src is not None:
            self.write(finalize.src)

    def _output_child_post(self, node: Any, frame: Frame, finalize: Any) -> None:
        if finalize.src is not None:
            self.write(")")
        self.write(") is str else escaped_text(t_text))" if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile else ")")
        if self._fixed_label(node, frame, finalize) is not None:
            self.write(")")

    def _fixed_label(self, node: Any, frame: Frame, finalize: Any) -> str | None:
        """The message of a printed label whose text is compiled in: ``_`` (or ``gettext``) looked up in the context,
        autoescaping on, no ``finalize``."""
        if not (isinstance(node, nodes.Call) and _is_label(node) and node.args[0].value in self.labels):
            return None
        name = node.node.name
        if (finalize.src is not None or not frame.eval_ctx.autoescape or frame.eval_ctx.volatile
                or frame.symbols.find_load(frame.symbols.ref(name)) != (VAR_LOAD_RESOLVE, name)):
            return None
        return node.args[0].value

    @optimizeconst
    def visit_Call(self, node: nodes.Call, frame: Frame, forward_caller: bool = False) -> None:
        if self.environment.is_async or self.environment.sandboxed:
            super().visit_Call(node, frame, forward_caller=forward_caller)
            return
        label = _is_label(node) and frame.eval_ctx.autoescape and not frame.eval_ctx.volatile
        self.write("context.label(" if label else "context.call_from(")
        self.write("_loop_vars, " if frame.loop_frame else "None, ")
        self.write("_block_vars, " if frame.block_frame else "None, ")
        self.visit(node.node, frame)
        self.signature(node, frame, {"caller": "caller"} if forward_caller else None)  # a {% call %} block's body
        self.write(")")

    @optimizeconst
    def visit_Getattr(self, node: nodes.Getattr, frame: Frame) -> None:
        if self.environment.is_async or type(self.environment).getattr is not jinja2.Environment.getattr:  # a sandbox's own
            super().visit_Getattr(node, frame)
            return
        # ``t_attr``/``t_owner``: read right after they are set, before any other attribute is looked up
        self.write("(t_attr if (t_attr := getattr(t_owner := ")
        self.visit(node.node, frame)
        self.write(f", {node.attr!r}, NO_ATTRIBUTE)) is not NO_ATTRIBUTE else item_or_undefined(environment, t_owner, {node.attr!r}))")

    def _import_common(self, node: nodes.Import | nodes.FromImport, frame: Frame) -> None:
        if not node.with_context or self.environment.is_async:
            super()._import_common(node, frame)
            return
        names = tuple(name if isinstance(name, str) else name[0] for name in node.names) if isinstance(node, nodes.FromImport) else None
        self.write("environment.get_template(")
        self.visit(node.template, frame)
        self.write(f", {self.name!r}).shared_module(context, {self.dump_local_context(frame)}, {names!r})")

    def enter_frame(self, frame: Frame) -> None:
        super().enter_frame(frame)
        if self._joins(frame):
            self.buffer(frame)

    def leave_frame(self, frame: Frame, with_python_scope: bool = False) -> None:
        super().leave_frame(frame, with_python_scope)
        if self._joins(frame):
            self.writeline(f"yield concat({frame.buffer})")

    def _joins(self, frame: Frame) -> bool:
        """A template's own frame or a block's: Jinja makes them yield piece by piece (async templates stay so)."""
        return (frame.rootlevel or frame.block_frame) and self.joined and not self.environment.is_async


def fixed_labels(environment: jinja2.Environment, template: nodes.Template) -> dict[str, str]:
    """The text of each label (``_("text")``) in ``template``, as the environment's ``_`` gives it with autoescaping on.

    A build's catalog is installed before any template is compiled, so a label's text is known then
    (``render._install_fast_gettext`` gives it as ``_.label``); a page asks for a few dozen. The compiled
    template prints it where the page's ``_`` is the one it was compiled with (``BuildEnvironment.fixed_gettext``).
    """
    label = getattr(environment.globals.get("_"), "label", None)
    if label is None or environment.is_async or environment.sandboxed:
        return {}
    messages = dict.fromkeys(call.args[0].value for call in template.find_all(nodes.Call) if _is_label(call))
    texts = {message: _label_text(label, message) for message in messages}
    return {message: text for message, text in texts.items() if text is not None}


def _label_text(label: Callable[[str], str], message: str) -> str | None:
    try:
        return str(label(message))
    except (KeyError, TypeError, ValueError):  # placeholders left without values: the page's own call raises it, as before
        return None


def _is_label(node: nodes.Call) -> bool:
    """``_("text")`` or ``gettext("text")``: a message without variables."""
    return (isinstance(node.node, nodes.Name) and node.node.name in ("_", "gettext") and not node.kwargs and node.dyn_args is None
            and node.dyn_kwargs is None and len(node.args) == 1 and isinstance(node.args[0], nodes.Const) and type(node.args[0].value) is str)


class _ContextReads(CodeGenerator):
    """The names a template's code looks up in its context (Jinja's ``meta.find_undeclared_variables``, globals included)."""

    def __init__(self, environment: jinja2.Environment) -> None:
        super().__init__(environment, "<reads>", "<reads>")
        self.names: set[str] = set()

    def write(self, x: str) -> None:
        pass

    def enter_frame(self, frame: Frame) -> None:
        super().enter_frame(frame)
        self.names.update(param for action, param in frame.symbols.loads.values() if action == VAR_LOAD_RESOLVE)


def macro_reads(environment: jinja2.Environment, template: nodes.Template) -> dict[str, tuple[str, ...]] | None:
    """For a template of macros only: each macro's names looked up in the context, its calls of the other macros
    followed. None for any other template (top-level code, blocks, includes or imports can reach the whole context)."""
    macros = {node.name: node for node in template.body if isinstance(node, nodes.Macro)}
    plain = all(isinstance(node, nodes.Macro) or isinstance(node, nodes.Output) and all(isinstance(part, nodes.TemplateData) for part in node.nodes)
                for node in template.body)
    if not plain or any(True for _ in template.find_all((nodes.Block, nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport))):
        return None
    own: dict[str, set[str]] = {}
    for name, macro in macros.items():
        reader = _ContextReads(environment)
        reader.visit(nodes.Template([macro], lineno=macro.lineno))
        own[name] = reader.names
    reads = {}
    for name in macros:
        found, todo, seen = set(), [name], set()
        while todo:
            seen.add(current := todo.pop())
            found |= own[current] - macros.keys()
            todo += (own[current] & macros.keys()) - seen
        reads[name] = tuple(sorted(found))
    return reads


def _takes_context(value: Any) -> bool:
    """Whether Jinja would pass the caller's context to ``value`` (on itself or on its ``__call__``); an undefined
    value counts as such (a look at it may fail)."""
    if isinstance(value, Undefined):
        return True
    return callable(value) and _PassArg.context in (_PassArg.from_obj(value), _PassArg.from_obj(value.__call__))


class BuildTemplate(jinja2.Template):
    """A template whose module, imported with context, is shared by the pages whose contexts hold the very same
    values under every name the imported macros look up (``macro_reads``). Making a module costs a page a few
    dozen microseconds (the built-in macros.html: a ``Macro`` and a closure per macro); the lead pages' macros
    read only build-wide values and ``link``, so one module serves all lead pages at one depth.

    Shared only for a template of macros alone, whose macros read no value that is given the context (such a
    callable could read any name: ``rows_of``). A template brings no Python callables of its own, and none of
    the build's values has a method given the context, so these names are all a macro can see of the context.
    """

    macro_reads: Mapping[str, tuple[str, ...]] | None
    imported_reads: dict[tuple[str, ...] | None, tuple[str, ...] | None]
    shared_modules: dict[tuple[Any, ...], tuple[tuple[Any, ...], TemplateModule | None]]  # None: not to be shared
    SHARED_MODULES = 64  # kept per template; the dev server's environment lives through many builds

    @classmethod
    def _from_namespace(cls, environment: jinja2.Environment, namespace: MutableMapping[str, Any], globals: MutableMapping[str, Any]) -> jinja2.Template:
        template = super()._from_namespace(environment, namespace, globals)
        template.macro_reads = namespace.get("macro_reads")
        template.imported_reads = {}
        template.shared_modules = {}
        return template

    def shared_module(self, context: jinja2.runtime.Context, locals: Mapping[str, Any], names: tuple[str, ...] | None) -> TemplateModule:
        """``make_module(context.get_all(), True, locals)``, or the module an earlier page made from the same values."""
        reads = self._reads(names)
        if reads is None:
            return self.make_module(context.get_all(), True, locals)
        values = tuple(_value_of(name, locals, context) for name in reads)
        key = (names, *map(id, values))
        kept = self.shared_modules.get(key)
        if kept is None or not all(map(operator.is_, kept[0], values)):
            if len(self.shared_modules) >= self.SHARED_MODULES:
                self.shared_modules.clear()
            shareable = not any(map(_takes_context, values))
            kept = self.shared_modules[key] = (values, self.make_module(context.get_all(), True, locals) if shareable else None)
        return kept[1] if kept[1] is not None else self.make_module(context.get_all(), True, locals)

    def _reads(self, names: tuple[str, ...] | None) -> tuple[str, ...] | None:
        """The names the imported macros (None: all) look up, or None when the module cannot be shared."""
        if names not in self.imported_reads:
            self.imported_reads[names] = _imported_reads(self.macro_reads, names)
        return self.imported_reads[names]


def _value_of(name: str, locals: Mapping[str, Any], context: jinja2.runtime.Context) -> Any:
    """What the imported module sees under ``name``: the importer's local, else the context's value (or ``missing``)."""
    value = locals.get(name, missing)
    return context.resolve_or_missing(name) if value is missing else value


def _imported_reads(macro_reads: Mapping[str, tuple[str, ...]] | None, names: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if macro_reads is None or names is not None and not set(names) <= macro_reads.keys():
        return None
    return tuple(sorted({name for macro in names or macro_reads for name in macro_reads[macro]}))


class BuildEnvironment(jinja2.Environment):
    """A Jinja environment with the cheaper calls and printing above, whose templates see its globals as a
    plain dict, copied when a template loads.

    Jinja gives each template a ``ChainMap`` over the globals and copies it into every page's context
    key by key in Python; a dict copies at C speed. Jinja asks that globals not change once a template
    is loaded, and a build sets them all first (``render.make_environment``, ``render.plan_site``).
    """

    context_class = FastCallContext
    code_generator_class = PlainTextCodeGenerator
    template_class = BuildTemplate

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}

    def fixed_gettext(self, labels: Mapping[str, str]) -> Any:
        """This environment's ``_``, when it gives ``labels`` (message: text) as a template was compiled with them
        (``fixed_labels``); otherwise a value no page's ``_`` can be, so that the page calls its own (a template
        compiled for another catalog)."""
        gettext = self.globals.get("_")
        label = getattr(gettext, "label", None)
        if label is not None and all(_label_text(label, message) == text for message, text in labels.items()):
            return gettext
        return object()
