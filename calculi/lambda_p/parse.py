"""Surface syntax → core λp: the lark tree is walked with a scope (name → foil name), desugaring
on the way (see ``desugar``); the result is renamed to canonical de Bruijn levels.

A name that is not bound locally refers to the global its table binds it to now (``Globals``), or
is an error pointing at it; a definition ``def f x = e`` refers to itself by its own global.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import lark

from calculi.core.errors import ParseError, UnboundError
from calculi.core.parsing import integer, span_of
from calculi.core.syntax import Source, Span
from calculi.lambda_p import desugar as ds
from calculi.lambda_p.deep import deep
from calculi.lambda_p.subst import canonical
from calculi.lambda_p.syntax import (
    CONSTRUCTORS,
    FALSE,
    TRUE,
    TUPLE,
    UNIT,
    App,
    Arr,
    Branch,
    Case,
    Con,
    Global,
    Globals,
    Handle,
    Index,
    Lam,
    Lit,
    Perform,
    Prim,
    Term,
    Var,
    is_value,
)
from calculi.lambda_p.tree import parse_tree

BINARY = {"+", "-", "*", "/", "%", "++", "==", "!=", "<", "<=", ">", ">=", "&&", "||"}
PRIM_FUNCTIONS: dict[str, int] = {"length": 1, "show": 1, "not": 1}
Tree = lark.Tree[lark.Token]


@dataclass(frozen=True, slots=True)
class Definition:
    """``def name = term``, bound to the global ``glob`` (not yet entered in any table)."""

    glob: Global
    term: Term
    span: Span | None

    @property
    def name(self) -> str:
        return self.glob.name


@dataclass(slots=True)
class Parsed:
    item: Term | Definition
    warnings: list[str] = field(default_factory=list)


class Desugarer:
    """One surface item → core, resolving free names in the table of globals ``table``."""

    def __init__(
        self, source: Source, table: Globals, defining: Global | None = None, variant: str = "icfp24"
    ) -> None:
        self.source = source
        self.variant = variant
        self.table = table
        self.defining = defining
        self.fresh = ds.Fresh()
        self.warnings: list[str] = []

    def span(self, node: Tree | lark.Token) -> Span | None:
        return span_of(node, self.source)

    def fail(self, reason: str, node: Tree | lark.Token) -> ParseError:
        return ParseError(reason, self.span(node))

    # -- binders ------------------------------------------------------------------------------

    def bind(self, env: dict[str, int], name: str) -> tuple[int, dict[str, int]]:
        x = self.fresh()
        return x, ({**env, name: x} if name != "_" else env)

    def param(self, node: Tree, env: dict[str, int], body: Callable[[dict[str, int]], Term]) -> Term:
        """λp. body with a variable, unit or tuple pattern p."""
        span = self.span(node)
        if node.data == "var_param":
            name = str(node.children[0])
            x, inner = self.bind(env, name)
            return Lam(x, body(inner), name, span=span)
        x = self.fresh()
        pattern = Tree(
            "tuple_pattern" if node.data == "tuple_param" else "unit_pattern", node.children, meta=node.meta
        )
        br = self.pattern(pattern, env, body)
        return Lam(x, Case(Var(x, "p", span=span), (br,), span=span), "p", span=span)

    def pattern(self, node: Tree, env: dict[str, int], body: Callable[[dict[str, int]], Term]) -> Branch:
        span = self.span(node)
        names = [str(t) for t in node.children if isinstance(t, lark.Token) and t.type == "NAME"]
        if node.data == "con_pattern":
            tag: str | None = str(node.children[0])
            if tag not in CONSTRUCTORS:
                raise self.fail(f"unknown constructor {tag} (known: {', '.join(CONSTRUCTORS)})", node)
            if len(names) != CONSTRUCTORS[tag]:
                raise self.fail(f"{tag} takes {CONSTRUCTORS[tag]} argument(s) in a pattern", node)
        else:
            tag = None if node.data == "var_pattern" else TUPLE
        binders: list[tuple[int, str]] = []
        for name in names:
            x, env = self.bind(env, name)
            binders.append((x, name))
        return ds.branch(tag, binders, body(env), span)

    # -- expressions ----------------------------------------------------------------------------

    def expr(self, node: Tree | lark.Token, env: dict[str, int]) -> Term:
        if isinstance(node, lark.Token):
            raise self.fail(f"unexpected {node!s}", node)
        rule = _RULES.get(str(node.data))
        if rule is None:
            raise self.fail(f"unsupported form {node.data}", node)
        return rule(self, node, env)

    def name(self, node: Tree | lark.Token, env: dict[str, int]) -> Term:
        token = node if isinstance(node, lark.Token) else node.children[0]
        assert isinstance(token, lark.Token)
        name, span = str(token), self.span(token)
        if name == "_":
            raise ParseError("'_' is a pattern, not a value", span)
        if name in env:
            return Var(env[name], name, span=span)
        g = self.defining if self.defining is not None and name == self.defining.name else None
        g = g or self.table.names.get(name)
        if g is not None:
            return Global(g.name, g.key, g.table, span=span)
        if name in PRIM_FUNCTIONS:
            return ds.lam(self.fresh, "a", lambda a: Prim(name, (a,), span=span), span)
        raise UnboundError(f"{name} is not defined", span)

    def application(self, node: Tree, env: dict[str, int]) -> Term:
        spine: list[Tree | lark.Token] = []
        head: Tree | lark.Token = node
        while isinstance(head, lark.Tree) and head.data == "app":
            spine.append(head.children[1])
            head = head.children[0]
        spine.reverse()
        span = self.span(node)
        args = [self.expr(a, env) for a in spine]
        if isinstance(head, lark.Tree) and head.data == "con":
            tag = str(head.children[0])
            arity = CONSTRUCTORS.get(tag, 0)
            fn: Term = self.constructor(tag, args[:arity], head, span)
            args = args[arity:]
        elif (
            isinstance(head, lark.Tree)
            and head.data == "var"
            and str(head.children[0]) in PRIM_FUNCTIONS
            and str(head.children[0]) not in env
            and str(head.children[0]) not in self.table.names
            and (self.defining is None or str(head.children[0]) != self.defining.name)
        ):
            op = str(head.children[0])
            fn = Prim(op, tuple(args[: PRIM_FUNCTIONS[op]]), span=span)
            args = args[PRIM_FUNCTIONS[op] :]
        else:
            fn = self.expr(head, env)
        for arg in args:
            fn = App(fn, arg, span=span)
        return fn

    def constructor(self, tag: str, args: list[Term], node: Tree, span: Span | None) -> Term:
        if tag not in CONSTRUCTORS:
            raise self.fail(f"unknown constructor {tag} (known: {', '.join(CONSTRUCTORS)})", node)
        arity = CONSTRUCTORS[tag]
        if len(args) < arity:
            return ds.lam(self.fresh, "v", lambda v: Con(tag, (v,), span=span), span)
        return ds.values_first(args, lambda vs: Con(tag, vs, span=span), self.fresh, span)

    def handle(self, node: Tree, env: dict[str, int], thunk: bool) -> Term:
        handler_node, *operands = node.children
        assert isinstance(handler_node, lark.Tree)
        span = self.span(node)
        clauses: dict[str, Term] = {}
        for clause in handler_node.children:
            assert isinstance(clause, lark.Tree)
            name_node, _, value_node = clause.children
            assert isinstance(name_node, lark.Tree)
            name = str(name_node.children[0])
            if name in clauses:
                raise self.fail(f"clause {name!r} given twice", clause)
            value = self.expr(value_node, env)
            if not is_value(value):
                raise self.fail(f"the {name!r} clause must be a value (a function)", clause)
            clauses[name] = value
        if len(operands) > 2:
            raise self.fail("handle takes a parameter and a computation; parenthesize applications", node)
        if len(operands) == 1:
            param: Term = UNIT
            clauses = ds.unparameterized(clauses, self.fresh, span)
        else:
            param = self.expr(operands[0], env)
        body = self.expr(operands[-1], env)
        if thunk:
            body = App(body, UNIT, span=body.span)
        handler = ds.handler(clauses, self.fresh, self.span(handler_node), self.warnings.append, self.variant)
        return Handle(handler, param, body, span=span)


def _binop(d: Desugarer, node: Tree, env: dict[str, int]) -> Term:
    left, op, right = node.children
    return Prim(str(op), (d.expr(left, env), d.expr(right, env)), span=d.span(node))


def _lam(d: Desugarer, node: Tree, env: dict[str, int]) -> Term:
    params = node.children[1:-1]

    def build(i: int, env: dict[str, int]) -> Term:
        if i == len(params):
            return d.expr(node.children[-1], env)
        p = params[i]
        assert isinstance(p, lark.Tree)
        return d.param(p, env, lambda inner: build(i + 1, inner))

    return build(0, env)


def _bind(d: Desugarer, node: Tree, env: dict[str, int], value: Tree, rest: Tree, lhs: Tree) -> Term:
    span = d.span(node)
    e1 = d.expr(value, env)
    if lhs.data == "var":
        name = str(lhs.children[0])
        x, inner = d.bind(env, name)
        return ds.let(x, name, e1, d.expr(rest, inner), span)
    if lhs.data in ("tuple", "unit"):
        names = [
            c.children[0] if isinstance(c, lark.Tree) and c.data == "var" else None for c in lhs.children
        ]
        if any(n is None for n in names):
            raise d.fail("a pattern binds names: write x, _ or (a, b)", lhs)
        pat = Tree(
            "tuple_pattern" if names else "unit_pattern", [n for n in names if n is not None], meta=lhs.meta
        )
        br = d.pattern(pat, env, lambda inner: d.expr(rest, inner))
        return Case(e1, (br,), span=span)
    raise d.fail("a pattern binds names: write x, _ or (a, b)", lhs)


def _for(d: Desugarer, node: Tree, env: dict[str, int]) -> Term:
    name_tok, bound, body = node.children
    x, inner = d.bind(env, str(name_tok))
    return ds.for_loop(x, str(name_tok), d.expr(bound, env), d.expr(body, inner), d.fresh, d.span(node))


def _if(d: Desugarer, node: Tree, env: dict[str, int]) -> Term:
    c, a, b = (d.expr(n, env) for n in node.children)
    span = d.span(node)
    return Case(c, (ds.branch("True", [], a, span), ds.branch("False", [], b, span)), span=span)


def _case(d: Desugarer, node: Tree, env: dict[str, int]) -> Term:
    scrutinee, *branches = node.children
    out = []
    for br in branches:
        assert isinstance(br, lark.Tree)
        pat, _, body = br.children
        assert isinstance(pat, lark.Tree)
        out.append(d.pattern(pat, env, lambda inner, body=body: d.expr(body, inner)))  # type: ignore[misc]
    return Case(d.expr(scrutinee, env), tuple(out), span=d.span(node))


def _section(d: Desugarer, node: Tree, env: dict[str, int]) -> Term:
    op_node = node.children[0]
    assert isinstance(op_node, lark.Tree)
    op, span = str(op_node.children[0]), d.span(node)
    return ds.lam(d.fresh, "a", lambda a: ds.lam(d.fresh, "b", lambda b: Prim(op, (a, b), span=span)))


def _components(d: Desugarer, node: Tree, env: dict[str, int]) -> list[Term]:
    return [d.expr(c, env) for c in node.children if not isinstance(c, lark.Token)]


def _tuple(d: Desugarer, node: Tree, env: dict[str, int]) -> Term:
    span = d.span(node)
    return ds.values_first(_components(d, node, env), lambda vs: Con(TUPLE, vs, span=span), d.fresh, span)


def _array(d: Desugarer, node: Tree, env: dict[str, int]) -> Term:
    span = d.span(node)
    return ds.values_first(_components(d, node, env), lambda vs: Arr(vs, span=span), d.fresh, span)


def _string(d: Desugarer, node: Tree, env: dict[str, int]) -> Term:
    try:
        value = json.loads(str(node.children[0]))
    except ValueError:
        raise d.fail("malformed string literal", node) from None
    return Lit(str(value), span=d.span(node))


def _con(d: Desugarer, node: Tree, env: dict[str, int]) -> Term:
    tag = str(node.children[0])
    return (
        d.constructor(tag, [], node, d.span(node))
        if tag not in ("True", "False")
        else (Con(tag, span=d.span(node)) if tag == "True" else Con(FALSE.tag, span=d.span(node)))
    )


_RULES: dict[str, Callable[[Desugarer, Tree, dict[str, int]], Term]] = {
    "int": lambda d, n, env: Lit(integer(str(n.children[0]), d.span(n)), span=d.span(n)),
    "signed": lambda d, n, env: Lit(integer("".join(map(str, n.children)), d.span(n)), span=d.span(n)),
    "string": _string,
    "var": lambda d, n, env: d.name(n, env),
    "con": _con,
    "perform": lambda d, n, env: Perform(str(n.children[0]), span=d.span(n)),
    "unit": lambda d, n, env: Con(TUPLE, span=d.span(n)),
    "tuple": _tuple,
    "array": _array,
    "section": _section,
    "binop": _binop,
    "app": lambda d, n, env: d.application(n, env),
    "index": lambda d, n, env: Index(d.expr(n.children[0], env), d.expr(n.children[1], env), span=d.span(n)),
    "lam": _lam,
    "seq": lambda d, n, env: ds.seq(
        d.expr(n.children[0], env), d.expr(n.children[1], env), d.fresh, d.span(n)
    ),
    "bind": lambda d, n, env: _bind(d, n, env, n.children[2], n.children[3], n.children[0]),  # type: ignore[arg-type]
    "let_": lambda d, n, env: _bind(d, n, env, n.children[1], n.children[2], n.children[0]),  # type: ignore[arg-type]
    "if_": _if,
    "for_": _for,
    "case": _case,
    "handle": lambda d, n, env: d.handle(n, env, thunk=False),
    "handler_": lambda d, n, env: d.handle(n, env, thunk=True),
}
assert TRUE.tag == "True"


def parse_item(
    source: Source, table: Globals, variant: str = "icfp24", defining: Global | None = None
) -> Parsed:
    """One input: a definition ``def f x = e`` or an expression, desugared and canonical.

    A definition refers to itself through ``defining`` when given (a file declares its names
    first), or else through a fresh global of ``table`` that the caller binds once it is known
    to parse."""
    return deep(partial(_parse_item, source, table, variant, defining))


def _parse_item(source: Source, table: Globals, variant: str, defining: Global | None) -> Parsed:
    try:
        (node,) = parse_tree(source).children
        if isinstance(node, lark.Tree) and node.data == "def_":
            name_token = node.children[0]
            assert isinstance(name_token, lark.Token)
            name, site = str(name_token), span_of(name_token, source)
            glob = defining if defining is not None and defining.name == name else table.fresh(name, site)
            d = Desugarer(source, table, defining=glob, variant=variant)
            lam_tree = Tree("lam", [lark.Token("LAMBDA", "\\"), *node.children[1:]], meta=node.meta)
            term = d.expr(lam_tree if len(node.children) > 2 else node.children[-1], {})
            return Parsed(Definition(glob, canonical(term), d.span(node)), d.warnings)
        d = Desugarer(source, table, variant=variant)
        return Parsed(canonical(d.expr(node, {})), d.warnings)
    except RecursionError:
        reason = "nested too deeply; bind inner parts to names with let or def"
        raise ParseError(reason, source.span(0, len(source.text))) from None


def parse_term(source: Source, table: Globals | None = None, variant: str = "icfp24") -> Term:
    """An expression (a definition is an error here)."""
    parsed = parse_item(source, Globals() if table is None else table, variant)
    if isinstance(parsed.item, Definition):
        raise ParseError("expected an expression, not a definition", parsed.item.span)
    return parsed.item
