"""The AST of Linear A: one frozen, slotted dataclass per constructor, each with a span.

    e ::= (x̄ ; ẏ̄) | x | ẏ | r | 0 | tup(x̄) | tupL(ẏ̄) | p(ē ; ė̄) | dup(ė) | drop(e) | f(x̄ ; ẏ̄)
        | let b1 in … let bn in e                        (a ``Block``: bindings, then a result)
    b ::= (x̄ ; ẏ̄) = e | (x̄) = unpack y | (ẋ̄) = unpackL ẏ

Variables are foil names (``int`` identifiers drawn from a scope with ``with_fresh``) with a
hint string used only for printing; equality ignores hints and spans. A chain of lets is one
``Block`` holding a tuple of bindings, so passes walk long programs with loops, not recursion.
Primitive applications (``sin``, ``+``, ``⊕``, ``⊙``, and whatever the backend adds) are one
constructor, ``Prim``, keyed by a ``Primitive`` object; see ``primitives.py``.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field

from calculi.core.syntax import Node
from calculi.linear_ad.types import Mixed, Type

ParamValue = Hashable
Params = tuple[tuple[str, ParamValue], ...]

MAX_DEPTH = 1_000
"""The deepest nesting a program may have: each sub-expression counts one level, and a call counts
its callee's depth too. The parser, the checker, the evaluators and the passes recurse on nesting,
a few interpreter frames a level; a deeper program is refused with its position."""


def room_for_depth() -> None:
    """Raise the interpreter's recursion limit (never lower it) to what ``MAX_DEPTH`` levels need."""
    if sys.getrecursionlimit() < 12 * MAX_DEPTH:
        sys.setrecursionlimit(12 * MAX_DEPTH)


room_for_depth()  # once, at import: a limit changed later, inside a Hypothesis test, draws a warning


@dataclass(frozen=True, slots=True)
class Primitive:
    """A primitive operation, identified by its name.

    A non-linear primitive takes ``arity`` non-linear arguments and returns a non-linear value.
    A linear primitive (``linear=True``) takes ``arity`` non-linear arguments (constants, such as
    the scale factor of ``⊙``) and then ``larity`` linear arguments, and returns a linear value
    that is linear in the linear arguments. ``arity=None`` means any number.
    """

    name: str
    arity: int | None = 1
    larity: int = 0
    linear: bool = False

    def __str__(self) -> str:
        return self.name


class Expr(Node):
    """Base of expressions."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Var(Expr):
    """A non-linear variable ``x``."""

    name: int
    hint: str = field(default="x", compare=False)


@dataclass(frozen=True, slots=True)
class LVar(Expr):
    """A linear variable ``ẋ``."""

    name: int
    hint: str = field(default="dx", compare=False)


@dataclass(frozen=True, slots=True)
class Lit(Expr):
    """A real literal, kept as written so every scalar domain reads it exactly."""

    text: str


@dataclass(frozen=True, slots=True)
class Zero(Expr):
    """The linear zero ``0 : τ``."""

    type: Type


@dataclass(frozen=True, slots=True)
class Ret(Expr):
    """``(x̄ ; ẏ̄)``: return lists of variables."""

    vars: tuple[Var, ...]
    lvars: tuple[LVar, ...]


@dataclass(frozen=True, slots=True)
class Tup(Expr):
    """``tup(x̄)``: a non-linear tuple."""

    vars: tuple[Var, ...]


@dataclass(frozen=True, slots=True)
class TupL(Expr):
    """``tupL(ẏ̄)``: a linear tuple."""

    lvars: tuple[LVar, ...]


@dataclass(frozen=True, slots=True)
class Prim(Expr):
    """``p[params](ē ; ė̄)``: a primitive application (``args`` non-linear, ``largs`` linear)."""

    prim: Primitive
    args: tuple[Expr, ...]
    largs: tuple[Expr, ...] = ()
    params: Params = ()


@dataclass(frozen=True, slots=True)
class Dup(Expr):
    """``dup(ė) : (; σ, σ)``."""

    arg: Expr


@dataclass(frozen=True, slots=True)
class Drop(Expr):
    """``drop(e) : (;)``: the only way to discard a value (of either kind)."""

    arg: Expr


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """``f(x̄ ; ẏ̄)``: a call of a top-level function."""

    func: str
    args: tuple[Var, ...]
    largs: tuple[LVar, ...]


@dataclass(frozen=True, slots=True)
class Binder(Node):
    """A binding occurrence of a variable."""

    name: int
    hint: str = field(default="x", compare=False)


class Binding(Node):
    """Base of the bindings of a ``Block``."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class LetB(Binding):
    """``let (x̄ ; ẏ̄) = e in``  (rule Let; ``let x = e`` is sugar for ``let (x ;) = e``)."""

    binders: tuple[Binder, ...]
    lbinders: tuple[Binder, ...]
    rhs: Expr


@dataclass(frozen=True, slots=True)
class UnpackB(Binding):
    """``let (x̄) = unpack y in``  (rule Unpack)."""

    binders: tuple[Binder, ...]
    var: Var


@dataclass(frozen=True, slots=True)
class UnpackLB(Binding):
    """``let (ẋ̄) = unpackL ẏ in``  (rule UnpackL)."""

    lbinders: tuple[Binder, ...]
    var: LVar


@dataclass(frozen=True, slots=True)
class Block(Expr):
    """``let b1 in … let bn in e``: a chain of bindings and a result."""

    bindings: tuple[Binding, ...]
    result: Expr


@dataclass(frozen=True, slots=True)
class FuncDef(Node):
    """``def f(x̄ : τ̄ ; ẏ̄ : σ̄) -> (τ̄' ; σ̄') = e``."""

    name: str
    params: tuple[Binder, ...]
    param_types: tuple[Type, ...]
    lparams: tuple[Binder, ...]
    lparam_types: tuple[Type, ...]
    result: Mixed
    body: Expr


@dataclass(frozen=True, slots=True)
class Program(Node):
    """A list of top-level first-order functions; each may call only those defined before it."""

    defs: tuple[FuncDef, ...]
    index: dict[str, FuncDef] = field(init=False, compare=False, repr=False)
    """The definitions by name (the last of a name wins, as ``with_defs`` keeps one)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {d.name: d for d in self.defs})

    def get(self, name: str) -> FuncDef | None:
        return self.index.get(name)

    def names(self) -> list[str]:
        return [d.name for d in self.defs]

    def with_defs(self, defs: tuple[FuncDef, ...]) -> Program:
        """This program with ``defs`` added, replacing same-named functions."""
        new = {d.name for d in defs}
        return Program(tuple(d for d in self.defs if d.name not in new) + defs)


def _quick_init(cls: type[Node]) -> None:
    """Give the node class ``cls`` an ``__init__`` that sets each slot through its descriptor: the
    frozen dataclass's own goes through ``object.__setattr__`` and takes half as long again, and the
    passes build their whole output from these nodes. Same parameters, defaults and fields."""
    fields = [f for f in dataclasses.fields(cls) if f.init]
    env: dict[str, object] = {}
    params: list[str] = []
    for f in sorted(fields, key=lambda f: f.kw_only is True):
        if f.kw_only and "*" not in params:
            params.append("*")
        env[f"set_{f.name}"] = getattr(cls, f.name).__set__
        if f.default is not dataclasses.MISSING:
            env[f"default_{f.name}"] = f.default
        params.append(f.name if f.default is dataclasses.MISSING else f"{f.name}=default_{f.name}")
    body = "".join(f"\n    set_{f.name}(self, {f.name})" for f in fields)
    exec(f"def __init__(self, {', '.join(params)}) -> None:{body}", env)
    setattr(cls, "__init__", env["__init__"])  # noqa: B010 (mypy refuses assigning a method)


for _cls in (Var, LVar, Lit, Zero, Ret, Tup, TupL, Prim, Dup, Drop, Call, Binder, LetB, UnpackB, UnpackLB,
             Block, FuncDef):
    _quick_init(_cls)


# -- builders ---------------------------------------------------------------------------------


def ret(vars: tuple[Var, ...] = (), lvars: tuple[LVar, ...] = ()) -> Ret:
    return Ret(vars, lvars)


EMPTY = Ret((), ())


def block(bindings: list[Binding] | tuple[Binding, ...], result: Expr) -> Expr:
    """A block, flattened when the result is itself a block; no block when there are no bindings."""
    if isinstance(result, Block):
        bindings = (*bindings, *result.bindings)
        result = result.result
    if not bindings:
        return result
    return Block(tuple(bindings), result)


_SET_VAR = tuple(getattr(Var, f).__set__ for f in ("name", "hint", "span"))
_SET_LVAR = tuple(getattr(LVar, f).__set__ for f in ("name", "hint", "span"))


def var_of(b: Binder) -> Var:
    """``Var(b.name, b.hint)``, built by setting its slots (the passes' most frequent node: the
    frozen dataclass's ``__init__`` takes half again as long)."""
    v = object.__new__(Var)
    name, hint, span = _SET_VAR
    name(v, b.name)
    hint(v, b.hint)
    span(v, None)
    return v


def lvar_of(b: Binder) -> LVar:
    """``LVar(b.name, b.hint)``, built as ``var_of`` builds a ``Var``."""
    v = object.__new__(LVar)
    name, hint, span = _SET_LVAR
    name(v, b.name)
    hint(v, b.hint)
    span(v, None)
    return v


def children(e: Expr) -> Iterator[Expr]:
    """The direct sub-expressions of ``e`` (binding right-hand sides, then the result)."""
    if isinstance(e, Prim):
        yield from e.args
        yield from e.largs
    elif isinstance(e, Dup | Drop):
        yield e.arg
    elif isinstance(e, Block):
        for b in e.bindings:
            if isinstance(b, LetB):
                yield b.rhs
            elif isinstance(b, UnpackB | UnpackLB):
                yield b.var
        yield e.result
    elif isinstance(e, Ret):
        yield from e.vars
        yield from e.lvars
    elif isinstance(e, Tup | Call):
        yield from e.vars if isinstance(e, Tup) else e.args
        if isinstance(e, Call):
            yield from e.largs
    elif isinstance(e, TupL):
        yield from e.lvars


def subexpressions(e: Expr) -> Iterator[Expr]:
    """``e`` and every expression nested in it, iteratively (depth-first)."""
    stack: list[Expr] = [e]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(children(node))


def size(e: Expr) -> int:
    """|e|: the number of AST nodes (bindings and binders count one each), computed iteratively."""
    total = 0
    stack: list[Expr] = [e]
    while stack:
        node = stack.pop()
        total += 1
        if isinstance(node, Block):
            total += sum(1 + _binder_count(b) for b in node.bindings)
        stack.extend(children(node))
    return total


def _binder_count(b: Binding) -> int:
    if isinstance(b, LetB):
        return len(b.binders) + len(b.lbinders)
    if isinstance(b, UnpackB):
        return len(b.binders)
    if isinstance(b, UnpackLB):
        return len(b.lbinders)
    return 0


def program_size(p: Program) -> int:
    return sum(size(d.body) + len(d.params) + len(d.lparams) for d in p.defs)


def operations(p: Program) -> int:
    """The operations written in ``p``: its primitive applications and calls, each counted once where
    it is written (the work W counts a call's body at every call, and a call as nothing itself)."""
    return sum(type(e) is Prim or type(e) is Call for d in p.defs for e in subexpressions(d.body))
