"""Fp's concrete syntax (``fp_grammar.lark``) → the Fp AST, with spans and classified errors.

A name that is not bound locally is a top-level definition (``Global``) when ``globals`` has
it, else an unbound-name error pointing at it.
"""

from __future__ import annotations

from collections.abc import Callable, Container

import lark

from calculi.core.errors import ParseError, UnboundError
from calculi.core.parsing import Grammar, integer, span_of
from calculi.core.syntax import Source, Span
from calculi.lambda_p import fp_syntax as f

Tree = lark.Tree[lark.Token]
Node = Tree | lark.Token

GRAMMAR = Grammar.load(
    __package__,
    "fp_grammar.lark",
    start="start",
    examples={
        "missing body after '.'": ["\\x:Int.", "for i:Fin 3.", "/\\a."],
        "a λ's parameter needs a type: \\x:τ. e": ["\\x. x", "\\x y. x"],
        "missing type after ':'": ["\\x:. x"],
        "a loop is written for x:Fin n. e": ["for i:3. i"],
        "a handle needs its answer type and parameter type: handle[ρ, τ] {clauses} e1 e2": [
            "handle {return -> 1} 0 1"
        ],
        "unclosed parenthesis": ["(1", "(1, 2", "f (x"],
        "unclosed array: arrays are written <a, b, c>": ["<1, 2", "<1"],
        "'if' needs 'then' and 'else'": ["if x then y", "if x"],
    },
    names={"NAME": "a name", "INT": "an integer", "STRING": "a string", "$END": "end of input"},
)

BINOPS = {"+", "-", "*", "++", "=="}
KIND_OF_CLAUSE = {"return", "traverse"}


class Reader:
    """One item of Fp source → AST."""

    def __init__(self, source: Source, globals: Container[str] = ()) -> None:
        self.source = source
        self.globals = globals

    def span(self, node: Node) -> Span | None:
        return span_of(node, self.source)

    # -- kinds, rows, types --------------------------------------------------------------------

    def kind(self, node: Node) -> f.Kind:
        assert isinstance(node, lark.Tree)
        if node.data == "kstar":
            return f.KStar(span=self.span(node))
        if node.data == "keff":
            return f.KEff(span=self.span(node))
        dom, _, cod = node.children
        return f.KArrow(self.kind(dom), self.kind(cod), span=self.span(node))

    def tbinder(self, node: Tree) -> tuple[str, f.Kind]:
        kinds = [c for c in node.children if isinstance(c, lark.Tree)]
        return str(node.children[0]), self.kind(kinds[0]) if kinds else f.STAR

    def row(self, node: Tree) -> f.Row:
        names = [str(c) for c in node.children]
        text = self.span(node)
        tail = None
        if text is not None and "|" in text.text:
            tail = names.pop()
        return f.Row(tuple(names), tail, span=text)

    def bound(self, node: Tree) -> f.Term:
        token = node.children[0]
        assert isinstance(token, lark.Token)
        if node.data == "lit_bound":
            return f.Lit(integer(str(token), self.span(token)), span=self.span(token))
        return f.Var(str(token), span=self.span(token))

    def type(self, node: Node) -> f.Type:
        span = self.span(node)
        if isinstance(node, lark.Token):
            raise ParseError(f"expected a type, found {str(node)!r}", span)
        kids = node.children
        trees = [c for c in kids if isinstance(c, lark.Tree)]
        match node.data:
            case "row":
                return self.row(node)
            case "tvar":
                return f.TVar(str(kids[0]), span=span)
            case "tcon":
                return self.constant(str(kids[0]), [], node)
            case "tunit":
                return f.TCon("Tuple", span=span)
            case "ttuple":
                return f.TCon("Tuple", tuple(self.type(c) for c in kids), span=span)
            case "fin":
                return f.TFin(self.bound(trees[0]), span=span)
            case "array_type":
                return f.TArray(self.bound(trees[0]), self.type(trees[1]), span=span)
            case "tyapp":
                head: Node = node
                args: list[Node] = []
                while isinstance(head, lark.Tree) and head.data == "tyapp":
                    args.insert(0, head.children[1])
                    head = head.children[0]
                if isinstance(head, lark.Tree) and head.data == "tcon":
                    return self.constant(str(head.children[0]), [self.type(a) for a in args], node)
                fn = self.type(node.children[0])
                return f.TApp(fn, self.type(node.children[1]), span=span)
            case "arrow" | "darrow":
                binder = str(kids[0]) if node.data == "darrow" else None
                rows = [c for c in trees if c.data == "row"]
                types = [c for c in trees if c.data != "row"]
                row = self.row(rows[0]) if rows else f.PURE
                return f.TArrow(binder, self.type(types[0]), row, self.type(types[1]), span=span)
            case "forall" | "tlam":
                body = self.type(trees[-1])
                for b in reversed([c for c in trees if c.data == "tbinder"]):
                    name, kind = self.tbinder(b)
                    make = f.TForall if node.data == "forall" else f.TLam
                    body = make(name, kind, body, span=span)
                return body
        raise ParseError(f"expected a type ({node.data})", span)

    def constant(self, name: str, args: list[f.Type], node: Tree) -> f.Type:
        arity = f.CONSTANTS[name]
        if arity != len(args):
            raise ParseError(f"type constant {name} takes {arity} argument(s), given {len(args)}",
                             self.span(node))
        return f.TCon(name, tuple(args), span=self.span(node))

    # -- expressions ---------------------------------------------------------------------------

    def expr(self, node: Node, env: frozenset[str]) -> f.Term:
        span = self.span(node)
        if isinstance(node, lark.Token):
            raise ParseError(f"unexpected {str(node)!r}", span)
        rule = _RULES.get(node.data)
        if rule is None:
            raise ParseError(f"unexpected construct {node.data}", span)
        return rule(self, node, env)

    def item(self, tree: Tree) -> f.Item:
        (node,) = tree.children
        assert isinstance(node, lark.Tree)
        span = self.span(node)
        if node.data == "def_":
            name, body = node.children
            return f.Definition(str(name), self.expr(body, frozenset()), span=span)
        if node.data == "effect_":
            return self.effect(str(node.children[0]), node.children[1], span)
        if node.data == "const_":
            return f.Constant(str(node.children[0]), self.type(node.children[1]), "", span=span)
        return self.expr(node, frozenset())

    def effect(self, label: str, node: Node, span: Span | None) -> f.Effect:
        ty = self.type(node)
        params: list[tuple[str, f.Kind]] = []
        while isinstance(ty, f.TForall):
            params.append((ty.name, ty.kind))
            ty = ty.body
        if not isinstance(ty, f.TArrow) or ty.binder is not None or ty.row != f.PURE:
            raise ParseError("an operation's signature is ∀ā:κ̄. σ1 → σ2 (no effect row on its arrow)", span)
        return f.Effect(label, tuple(params), ty.dom, ty.cod, span=span)


def _var(r: Reader, node: Tree, env: frozenset[str]) -> f.Term:
    name, span = str(node.children[0]), r.span(node)
    if name in env:
        return f.Var(name, span=span)
    if name in r.globals:
        return f.Global(name, span=span)
    raise UnboundError(f"{name} is not in scope", span)


def _lam(r: Reader, node: Tree, env: frozenset[str]) -> f.Term:
    kids = [c for c in node.children if isinstance(c, lark.Tree)]
    row = r.row(kids[0]) if kids[0].data == "row" else f.PURE
    params = [c for c in kids if c.data == "lparam"]
    bound = [(str(p.children[0]), r.type(p.children[1])) for p in params]
    body = r.expr(kids[-1], env | {name for name, _ in bound})
    for name, ty in reversed(bound):
        body = f.Lam(name, ty, row, body, span=r.span(node))
    return body


def _tabs(r: Reader, node: Tree, env: frozenset[str]) -> f.Term:
    kids = [c for c in node.children if isinstance(c, lark.Tree)]
    body = r.expr(kids[-1], env)
    for b in reversed(kids[:-1]):
        name, kind = r.tbinder(b)
        body = f.TAbs(name, kind, body, span=r.span(node))
    return body


def _for(r: Reader, node: Tree, env: frozenset[str]) -> f.Term:
    name, bound, body = node.children
    assert isinstance(bound, lark.Tree)
    return f.For(str(name), r.bound(bound), r.expr(body, env | {str(name)}), span=r.span(node))


def _bind(r: Reader, node: Tree, env: frozenset[str]) -> f.Term:
    name, _, rhs, body = node.children
    return f.Let(str(name), r.expr(rhs, env), r.expr(body, env | {str(name)}), span=r.span(node))


def _seq(r: Reader, node: Tree, env: frozenset[str]) -> f.Term:
    first, rest = node.children
    return f.Let("_", r.expr(first, env), r.expr(rest, env), span=r.span(node))


def _binop(r: Reader, node: Tree, env: frozenset[str]) -> f.Term:
    a, op, b = node.children
    return f.Prim(str(op), (r.expr(a, env), r.expr(b, env)), span=r.span(node))


def _handle(r: Reader, node: Tree, env: frozenset[str]) -> f.Term:
    rho, ptype, handler, param, body = node.children
    assert isinstance(handler, lark.Tree)
    clauses: list[tuple[str, f.Term]] = []
    for clause in handler.children:
        assert isinstance(clause, lark.Tree)
        name_node, _, value = clause.children
        assert isinstance(name_node, lark.Tree)
        name = str(name_node.children[0])
        if name in dict(clauses):
            raise ParseError(f"clause {name} given twice", r.span(clause))
        clauses.append((name, r.expr(value, env)))
    h = f.Handler(tuple(clauses), span=r.span(handler))
    return f.Handle(r.type(rho), r.type(ptype), h, r.expr(param, env), r.expr(body, env), span=r.span(node))


def _perform(r: Reader, node: Tree, env: frozenset[str]) -> f.Term:
    trees = [c for c in node.children if isinstance(c, lark.Tree)]
    row = next((r.row(c) for c in trees if c.data == "row"), None)
    targs = _targs(trees)
    types = tuple(r.type(c) for c in targs.children) if targs is not None else ()
    return f.Perform(str(node.children[0]), row, types, span=r.span(node))


def _targs(trees: list[Tree]) -> Tree | None:
    return next((c for c in trees if c.data == "targs"), None)


def _inj(r: Reader, node: Tree, env: frozenset[str]) -> f.Term:
    tag, other, arg = node.children
    return f.Con(str(tag), (r.expr(arg, env),), r.type(other), span=r.span(node))


def _lit(value: Callable[[str, Span | None], int | str]) -> Callable[[Reader, Tree, frozenset[str]], f.Term]:
    def build(r: Reader, node: Tree, env: frozenset[str]) -> f.Term:
        token = node.children[0]
        return f.Lit(value(str(token), r.span(node)), span=r.span(node))

    return build


def _string(text: str, span: Span | None) -> str:
    return text[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")


def _children(r: Reader, node: Tree, env: frozenset[str]) -> tuple[f.Term, ...]:
    return tuple(r.expr(c, env) for c in node.children if isinstance(c, lark.Tree))


_RULES: dict[str, Callable[[Reader, Tree, frozenset[str]], f.Term]] = {
    "int": _lit(integer),
    "string": _lit(_string),
    "var": _var,
    "true": lambda r, n, env: f.Con("True", span=r.span(n)),
    "false": lambda r, n, env: f.Con("False", span=r.span(n)),
    "unit": lambda r, n, env: f.Con("Tuple", span=r.span(n)),
    "tuple": lambda r, n, env: f.Con("Tuple", _children(r, n, env), span=r.span(n)),
    "array": lambda r, n, env: f.Arr(_children(r, n, env), span=r.span(n)),
    "inj": _inj,
    "perform": _perform,
    "lam": _lam,
    "tabs": _tabs,
    "for_": _for,
    "bind": _bind,
    "seq": _seq,
    "binop": _binop,
    "primfn": lambda r, n, env: f.Prim(str(n.children[0]), (r.expr(n.children[1], env),), span=r.span(n)),
    "if_": lambda r, n, env: f.If(*_children(r, n, env), span=r.span(n)),
    "app": lambda r, n, env: f.App(*_children(r, n, env), span=r.span(n)),
    "tapp": lambda r, n, env: f.TyApp(r.expr(n.children[0], env), r.type(n.children[1]), span=r.span(n)),
    "coerce": lambda r, n, env: f.Coerce(r.expr(n.children[0], env), r.type(n.children[2]), span=r.span(n)),
    "index": lambda r, n, env: f.Index(*_children(r, n, env), span=r.span(n)),
    "handle": _handle,
}


def parse_item(source: Source, globals: Container[str] = ()) -> f.Item:
    """One input: ``def x = v``, ``effect l : ∀ā. σ1 → σ2``, ``const c : τ := λp-term``, or an
    expression."""
    text, impl = source.text, ""
    if text.lstrip().startswith("const") and ":=" in text:
        cut = text.index(":=")
        text, impl = text[:cut], text[cut + 2 :]
    if impl:
        source = Source(text, source.filename, source.first_line)
    item = Reader(source, globals).item(GRAMMAR.parse(source))
    if isinstance(item, f.Constant):
        if not impl.strip():
            raise ParseError("a constant needs its λp implementation: const c : τ := term", item.span)
        return f.Constant(item.name, item.ty, impl, span=item.span)
    return item


def parse_expr(text: str | Source, globals: Container[str] = ()) -> f.Term:
    source = text if isinstance(text, Source) else Source(text)
    item = parse_item(source, globals)
    if isinstance(item, f.Definition | f.Effect | f.Constant):
        raise ParseError("expected an expression", item.span)
    return item
