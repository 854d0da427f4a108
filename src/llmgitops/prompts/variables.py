"""What a template does with its variables, read from the Jinja2 AST.

One walk over the tree, with Jinja's scoping (loops, ``set``, macros, ``with``), answers at once:
which context variables are read and whether each read is guarded (``{% if x %}``, ``x is defined``,
``|default``, ``x or …``); which names are read but not declared; attribute and loop access against
the declared shapes (``question.text`` on a string, ``d.title`` on items without ``title``); which
outputs carry user-supplied text (for the injection checks); and constructs that reach outside the
sandbox or load other templates.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from jinja2 import nodes

Shape = dict[str, Any]

# Python attributes of the builtin types a declared input maps to. Anything else is a typo or an
# attempt to reach internals; underscored names are refused by the sandbox check before this one.
_PUBLIC = {
    "string": frozenset(a for a in dir(str) if not a.startswith("_")),
    "array": frozenset(a for a in dir(list) if not a.startswith("_")),
    "number": frozenset(a for a in dir(float) if not a.startswith("_")),
    "integer": frozenset(a for a in dir(int) if not a.startswith("_")),
    "boolean": frozenset(a for a in dir(int) if not a.startswith("_")),
}
_DICT_METHODS = frozenset(a for a in dir(dict) if not a.startswith("_"))
UNSAFE_ATTRIBUTES = frozenset({
    "mro", "func_globals", "func_code", "func_closure", "f_globals", "f_locals", "f_builtins", "f_back",
    "f_code", "gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code", "tb_frame", "tb_next",
    "im_func", "im_self", "im_class",
})
UNSAFE_NAMES = frozenset({"__import__", "__builtins__", "import", "eval", "exec", "compile", "open",
                          "getattr"})
_ITEM_FILTERS = frozenset({"first", "last", "random"})
_SAME_FILTERS = frozenset({"select", "reject", "selectattr", "rejectattr", "sort", "unique", "reverse",
                           "list"})
_ATTRIBUTE_ARG_FILTERS = frozenset({"selectattr", "rejectattr", "groupby"})
_ATTRIBUTE_KWARG_FILTERS = frozenset({"map", "sort", "sum", "unique", "min", "max", "groupby"})
_NUMERIC_FILTERS = frozenset({"length", "count", "wordcount", "int", "float", "abs", "round",
                              "filesizeformat"})
_GUARD_FILTERS = frozenset({"default", "d"})
_TEMPLATE_NAMES = frozenset({"self"})


@dataclass(frozen=True)
class Use:
    name: str
    lineno: int
    guarded: bool


@dataclass(frozen=True)
class Problem:
    rule: str
    lineno: int
    token: str | None  # the identifier (or token text) to point at on that line
    message: str
    hint: str | None = None
    token_kind: str = "name"


@dataclass(frozen=True)
class OutputSite:
    """An output expression carrying user-supplied text."""

    lineno: int
    inputs: tuple[str, ...]  # the user-supplied inputs it carries
    anchor: str  # the name written in the expression that carries them


@dataclass
class Analysis:
    uses: list[Use] = field(default_factory=list)
    undeclared: dict[str, int] = field(default_factory=dict)  # name -> first line
    problems: list[Problem] = field(default_factory=list)
    sites: list[OutputSite] = field(default_factory=list)


@dataclass(frozen=True)
class _Val:
    shape: Shape | None = None
    taint: frozenset[str] = frozenset()
    desc: str = "the value"
    anchor: str | None = None  # a name written in the expression that carries taint
    escaped: bool = False  # JSON-encoded (|tojson): quoted and escaped, so delimited


_NONE = _Val()


@dataclass(frozen=True)
class _Binding:
    shape: Shape | None
    taint: frozenset[str]
    desc: str


def _type(shape: Shape | None) -> str | None:
    value = shape.get("type") if isinstance(shape, dict) else None
    return value if isinstance(value, str) else None


def _sub(shape: Shape | None, key: str) -> Shape | None:
    value = shape.get(key) if isinstance(shape, dict) else None
    return value if isinstance(value, dict) else None


def implied(test: nodes.Node) -> tuple[frozenset[str], frozenset[str]]:
    """Names known to be defined and truthy when ``test`` is true, and when it is false."""
    empty: frozenset[str] = frozenset()
    if isinstance(test, nodes.Name) and test.ctx == "load":
        return frozenset({test.name}), empty
    if isinstance(test, nodes.Test) and isinstance(test.node, nodes.Name):
        if test.name == "defined":
            return frozenset({test.node.name}), empty
        if test.name == "undefined":
            return empty, frozenset({test.node.name})
    if isinstance(test, nodes.Not):
        when_true, when_false = implied(test.node)
        return when_false, when_true
    if isinstance(test, nodes.And):
        return implied(test.left)[0] | implied(test.right)[0], empty
    if isinstance(test, nodes.Or):
        return empty, implied(test.left)[1] | implied(test.right)[1]
    return empty, empty


class _Analyzer:
    def __init__(self, declared: dict[str, Shape], user: frozenset[str], builtins: frozenset[str]) -> None:
        self.declared = declared
        self.user = user
        self.builtins = builtins | _TEMPLATE_NAMES
        self.scopes: list[dict[str, _Binding]] = [{}]
        self.guards: list[frozenset[str]] = []
        self.captures: list[set[str]] = []
        self.out = Analysis()

    # -- scopes and guards -------------------------------------------------------------------------
    @contextmanager
    def scope(self, bindings: dict[str, _Binding] | None = None) -> Iterator[None]:
        self.scopes.append(dict(bindings or {}))
        try:
            yield
        finally:
            self.scopes.pop()

    @contextmanager
    def guarded(self, names: frozenset[str]) -> Iterator[None]:
        self.guards.append(names)
        try:
            yield
        finally:
            self.guards.pop()

    def lookup(self, name: str) -> _Binding | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def is_guarded(self, name: str) -> bool:
        return any(name in g for g in self.guards)

    def bind(self, target: nodes.Node, val: _Val) -> None:
        if isinstance(target, nodes.Name):
            self.scopes[-1][target.name] = _Binding(val.shape, val.taint, target.name)
        elif isinstance(target, nodes.Tuple):
            for item in target.items:
                self.bind(item, _Val(None, val.taint, val.desc))
        elif isinstance(target, nodes.NSRef):
            self.name(target.name, target.lineno)

    def problem(self, rule: str, lineno: int, token: str | None, message: str, hint: str | None = None,
                kind: str = "name") -> None:
        self.out.problems.append(Problem(rule, lineno, token, message, hint, kind))

    # -- statements --------------------------------------------------------------------------------
    def statements(self, body: list[nodes.Node]) -> None:
        for node in body:
            self.statement(node)

    def statement(self, node: nodes.Node) -> None:
        handler = getattr(self, "stmt_" + type(node).__name__, None)
        if handler is not None:
            handler(node)
            return
        for child in node.iter_child_nodes():
            if isinstance(child, nodes.Expr):
                self.expr(child)
            else:
                self.statement(child)

    def stmt_Output(self, node: nodes.Output) -> None:
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                continue
            val = self.expr(child)
            if not val.taint:
                continue
            if self.captures:
                self.captures[-1].update(val.taint)
            elif not val.escaped:
                self.out.sites.append(OutputSite(child.lineno, tuple(sorted(val.taint)), val.anchor or ""))

    def stmt_If(self, node: nodes.If) -> None:
        when_true, when_false = implied(node.test)
        self.expr(node.test, truthy=True)
        with self.guarded(when_true):
            self.statements(node.body)
        excluded = when_false
        for branch in node.elif_:
            with self.guarded(excluded):
                branch_true, branch_false = implied(branch.test)
                self.expr(branch.test, truthy=True)
                with self.guarded(branch_true):
                    self.statements(branch.body)
            excluded = excluded | branch_false
        with self.guarded(excluded):
            self.statements(node.else_)

    def stmt_For(self, node: nodes.For) -> None:
        iterable = self.expr(node.iter)
        kind = _type(iterable.shape)
        if kind in ("string", "number", "integer", "boolean"):
            self.problem("prompt/not-iterable", node.iter.lineno, _first_name(node.iter),
                         f"the loop iterates over {iterable.desc}, which is declared as {kind}",
                         "declare it as type: array (with items) to loop over it" if kind != "string"
                         else "a loop over a string visits its characters; declare an array of strings")
        item = _sub(iterable.shape, "items") if kind == "array" else None
        bindings: dict[str, _Binding] = {"loop": _Binding(None, frozenset(), "loop")}
        with self.scope(bindings):
            self._bind_loop_target(node.target, item, iterable)
            if node.test is not None:
                self.expr(node.test, truthy=True)
            self.statements(node.body)
        self.statements(node.else_)

    def _bind_loop_target(self, target: nodes.Node, item: Shape | None, iterable: _Val) -> None:
        if isinstance(target, nodes.Name):
            self.scopes[-1][target.name] = _Binding(item, iterable.taint,
                                                    f"{target.name} (an item of {iterable.desc})")
        else:
            self.bind(target, _Val(None, iterable.taint, iterable.desc))

    def stmt_Assign(self, node: nodes.Assign) -> None:
        self.bind(node.target, self.expr(node.node))

    def stmt_AssignBlock(self, node: nodes.AssignBlock) -> None:
        self.captures.append(set())
        try:
            self.statements(node.body)
        finally:
            taint = frozenset(self.captures.pop())
        if node.filter is not None:
            self._filter_args(node.filter)
        self.bind(node.target, _Val({"type": "string"}, taint, getattr(node.target, "name", "block")))

    def stmt_Macro(self, node: nodes.Macro) -> None:
        for default in node.defaults:
            self.expr(default)
        names = {arg.name: _Binding(None, frozenset(), arg.name) for arg in node.args}
        for special in ("varargs", "kwargs", "caller"):
            names[special] = _Binding(None, frozenset(), special)
        with self.scope(names):
            self.statements(node.body)
        self.scopes[-1][node.name] = _Binding(None, frozenset(), node.name)

    def stmt_CallBlock(self, node: nodes.CallBlock) -> None:
        self.expr(node.call)
        for default in node.defaults:
            self.expr(default)
        names = {arg.name: _Binding(None, frozenset(), arg.name) for arg in node.args}
        names["caller"] = _Binding(None, frozenset(), "caller")
        with self.scope(names):
            self.statements(node.body)

    def stmt_FilterBlock(self, node: nodes.FilterBlock) -> None:
        self.statements(node.body)
        self._filter_args(node.filter)

    def stmt_With(self, node: nodes.With) -> None:
        values = [self.expr(v) for v in node.values]
        with self.scope():
            for target, val in zip(node.targets, values, strict=False):
                self.bind(target, val)
            self.statements(node.body)

    def stmt_Block(self, node: nodes.Block) -> None:
        with self.scope():
            self.statements(node.body)

    def _loading(self, node: nodes.Node, what: str) -> None:
        self.problem("prompt/template-loading", node.lineno, what,
                     f"{{% {what} %}} loads another template; a prompt must be self-contained",
                     "inline the text: the prompt's version would not cover a template loaded from elsewhere",
                     kind="name")

    def stmt_Include(self, node: nodes.Include) -> None:
        self._loading(node, "include")
        self.expr(node.template)

    def stmt_Extends(self, node: nodes.Extends) -> None:
        self._loading(node, "extends")
        self.expr(node.template)

    def stmt_Import(self, node: nodes.Import) -> None:
        self._loading(node, "import")
        self.expr(node.template)
        self.scopes[-1][node.target] = _Binding(None, frozenset(), node.target)

    def stmt_FromImport(self, node: nodes.FromImport) -> None:
        self._loading(node, "from")
        self.expr(node.template)
        for name in node.names:
            alias = name[1] if isinstance(name, tuple) else name
            self.scopes[-1][alias] = _Binding(None, frozenset(), alias)

    # -- expressions -------------------------------------------------------------------------------
    def name(self, name: str, lineno: int, truthy: bool = False, safe: bool = False) -> _Val:
        binding = self.lookup(name)
        if binding is not None:
            return _Val(binding.shape, binding.taint, binding.desc, name if binding.taint else None)
        if name in self.declared:
            self.out.uses.append(Use(name, lineno, truthy or safe or self.is_guarded(name)))
            taint = frozenset({name}) if name in self.user else frozenset()
            return _Val(self.declared[name], taint, name, name if taint else None)
        if name.startswith("_") or name in UNSAFE_NAMES:
            self.problem("prompt/sandbox-escape", lineno, name,
                         f"{name!r} is a Python internal; templates must not reach for it",
                         "prompts render in a sandbox: use only declared inputs and Jinja filters")
            return _NONE
        if name not in self.builtins:
            self.out.undeclared.setdefault(name, lineno)
        return _NONE

    def expr(self, node: nodes.Node, truthy: bool = False, safe: bool = False) -> _Val:
        if isinstance(node, nodes.Name):
            if node.ctx != "load":
                return _NONE
            return self.name(node.name, node.lineno, truthy, safe)
        if isinstance(node, (nodes.Const, nodes.TemplateData)):
            return _NONE
        if isinstance(node, nodes.Getattr):
            return self.attribute(self.expr(node.node), node.attr, node.lineno, "name")
        if isinstance(node, nodes.Getitem):
            return self.item(node)
        if isinstance(node, nodes.Filter):
            return self.filter(node)
        if isinstance(node, nodes.Test):
            base = self.expr(node.node, safe=node.name in ("defined", "undefined"))
            self._call_args(node)
            return _Val(None, frozenset(), base.desc)
        if isinstance(node, (nodes.And, nodes.Or)):
            left = self.expr(node.left, truthy=True)
            if isinstance(node, nodes.And):
                with self.guarded(implied(node.left)[0]):
                    right = self.expr(node.right, truthy=True)
            else:
                with self.guarded(implied(node.left)[1]):
                    right = self.expr(node.right, truthy=True)
            return self._join(left, right)
        if isinstance(node, nodes.Not):
            self.expr(node.node, truthy=True)
            return _NONE
        if isinstance(node, nodes.CondExpr):
            when_true, when_false = implied(node.test)
            self.expr(node.test, truthy=True)
            with self.guarded(when_true):
                first = self.expr(node.expr1)
            if node.expr2 is None:
                return first
            with self.guarded(when_false):
                second = self.expr(node.expr2)
            return self._join(first, second)
        if isinstance(node, nodes.Call):
            callee = self.expr(node.node)
            args = self._call_args(node)
            return _Val(None, callee.taint | args.taint, callee.desc, callee.anchor or args.anchor)
        result = _NONE
        for child in node.iter_child_nodes():
            if isinstance(child, nodes.Expr):
                result = self._join(result, self.expr(child))
            elif isinstance(child, nodes.Pair | nodes.Keyword):
                for inner in child.iter_child_nodes():
                    result = self._join(result, self.expr(inner))
        return _Val(None, result.taint, result.desc, result.anchor)

    @staticmethod
    def _join(a: _Val, b: _Val) -> _Val:
        taint = a.taint | b.taint
        return _Val(None, taint, a.desc, a.anchor or b.anchor, bool(taint) and a.escaped and b.escaped)

    def _call_args(self, node: nodes.Call | nodes.Filter | nodes.Test) -> _Val:
        result = _NONE
        for arg in node.args:
            result = self._join(result, self.expr(arg))
        for kw in node.kwargs:
            result = self._join(result, self.expr(kw.value))
        for extra in (node.dyn_args, node.dyn_kwargs):
            if extra is not None:
                result = self._join(result, self.expr(extra))
        return result

    def _filter_args(self, node: nodes.Filter) -> None:
        self._call_args(node)

    def attribute(self, base: _Val, attr: str, lineno: int, kind: str) -> _Val:
        desc = f"{base.desc}.{attr}"
        if attr.startswith("_") or attr in UNSAFE_ATTRIBUTES:
            self.problem("prompt/sandbox-escape", lineno, attr,
                         f"attribute {attr!r} reaches Python internals; the sandbox refuses it at runtime",
                         "templates may read declared input fields only", kind=kind)
            return _Val(None, base.taint, desc, base.anchor)
        return _Val(self._attribute_shape(base, attr, lineno, kind), base.taint, desc, base.anchor)

    def _attribute_shape(self, base: _Val, attr: str, lineno: int, kind: str) -> Shape | None:
        declared = _type(base.shape)
        if declared is None:
            return None
        token = attr
        if declared == "object":
            properties = _sub(base.shape, "properties")
            if properties is None:
                return None
            if attr in properties:
                return _sub(properties, attr)
            if attr in _DICT_METHODS:
                return None
            known = ", ".join(sorted(properties)) or "none"
            self.problem("prompt/unknown-attribute", lineno, token,
                         f"{base.desc} declares no property {attr!r} (declared: {known})",
                         f"add {attr} to the input's properties, or fix the name", kind=kind)
            return None
        if attr in _PUBLIC.get(declared, frozenset()):
            return None
        hint = ("loop over it: {% for item in " + base.desc + " %}…{% endfor %}" if declared == "array"
                else "declare it as type: object with properties, or use the value itself")
        self.problem("prompt/attribute-on-non-object", lineno, token,
                     f"{base.desc} is declared as {declared}; it has no attribute {attr!r}", hint, kind=kind)
        return None

    def item(self, node: nodes.Getitem) -> _Val:
        base = self.expr(node.node)
        arg = node.arg
        if isinstance(arg, nodes.Const) and isinstance(arg.value, str):
            return self.attribute(base, arg.value, node.lineno, "string")
        if isinstance(arg, nodes.Const) and isinstance(arg.value, int):
            shape = _sub(base.shape, "items") if _type(base.shape) == "array" else None
            return _Val(shape, base.taint, f"{base.desc}[{arg.value}]", base.anchor)
        if isinstance(arg, nodes.Slice):
            for part in (arg.start, arg.stop, arg.step):
                if part is not None:
                    self.expr(part)
            return _Val(base.shape, base.taint, base.desc, base.anchor)
        index = self.expr(arg)
        return _Val(None, base.taint | index.taint, base.desc, base.anchor or index.anchor)

    def filter(self, node: nodes.Filter) -> _Val:
        name = node.name
        base = self.expr(node.node, safe=name in _GUARD_FILTERS) if node.node is not None else _NONE
        args = self._call_args(node)
        items = _sub(base.shape, "items") if _type(base.shape) == "array" else None
        attribute = None
        if name in _ATTRIBUTE_ARG_FILTERS and node.args and isinstance(node.args[0], nodes.Const):
            attribute = node.args[0].value
        for kw in node.kwargs:
            named = name in _ATTRIBUTE_KWARG_FILTERS and kw.key == "attribute"
            if named and isinstance(kw.value, nodes.Const):
                attribute = kw.value.value
        attr_shape: Shape | None = None
        if isinstance(attribute, str) and attribute:
            first = attribute.split(".", 1)[0]
            item_val = _Val(items, base.taint, f"an item of {base.desc}", base.anchor)
            attr_shape = self.attribute(item_val, first, node.lineno, "string").shape
        if name == "attr" and node.args and isinstance(node.args[0], nodes.Const):
            return self.attribute(base, str(node.args[0].value), node.lineno, "string")
        taint = base.taint | (args.taint if name in _GUARD_FILTERS else frozenset())
        anchor = base.anchor or (args.anchor if taint else None)
        if name in _NUMERIC_FILTERS:
            return _Val(None, frozenset(), base.desc)
        if name == "tojson":
            return _Val(None, taint, base.desc, anchor, escaped=True)
        if name in _GUARD_FILTERS:
            return _Val(base.shape, taint, base.desc, anchor, base.escaped)
        if name in _ITEM_FILTERS:
            return _Val(items, taint, f"an item of {base.desc}", anchor)
        if name in _SAME_FILTERS:
            return _Val(base.shape, taint, base.desc, anchor)
        if name == "map" and attr_shape is not None:
            return _Val({"type": "array", "items": attr_shape}, taint, base.desc, anchor)
        return _Val(None, taint, base.desc, anchor)


def _first_name(node: nodes.Node) -> str | None:
    found = node if isinstance(node, nodes.Name) else node.find(nodes.Name)
    return found.name if isinstance(found, nodes.Name) else None


def analyze(tree: nodes.Template, declared: dict[str, Shape], user: frozenset[str],
            builtins: frozenset[str]) -> Analysis:
    analyzer = _Analyzer(declared, user, builtins)
    analyzer.statements(tree.body)
    return analyzer.out


def _to_data(analysis: Analysis) -> tuple[Any, ...]:
    return (tuple((u.name, u.lineno, u.guarded) for u in analysis.uses),
            tuple(analysis.undeclared.items()),
            tuple((p.rule, p.lineno, p.token, p.message, p.hint, p.token_kind) for p in analysis.problems),
            tuple((s.lineno, s.inputs, s.anchor) for s in analysis.sites))


def _from_data(data: tuple[Any, ...]) -> Analysis:
    uses, undeclared, problems, sites = data
    return Analysis([Use(*u) for u in uses], dict(undeclared), [Problem(*p) for p in problems],
                    [OutputSite(lineno, tuple(inputs), anchor) for lineno, inputs, anchor in sites])


def analyze_source(source: str, declared: dict[str, Shape], user: frozenset[str],
                   builtins: frozenset[str]) -> Analysis:
    """``analyze`` for a template that parses, through the disk cache: an unchanged template with
    unchanged declarations is not even parsed again."""
    from .template import disk_cache, parse, source_key

    try:
        context = json.dumps([declared, sorted(user), sorted(builtins)], sort_keys=True, default=repr)
    except ValueError:  # NaN and friends: not worth a cache entry
        context = None
    key = f"analysis:{source_key(source)}:{source_key(context)}" if context is not None else None
    cached = disk_cache().get(key) if key is not None else None
    if isinstance(cached, tuple):
        try:
            return _from_data(cached)
        except (TypeError, ValueError):
            pass  # an entry of another shape: analyze again
    tree = parse(source)
    assert isinstance(tree, nodes.Template)
    analysis = analyze(tree, declared, user, builtins)
    if key is not None:
        disk_cache().put(key, _to_data(analysis))
    return analysis
