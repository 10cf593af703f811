"""T's forward part: the non-linear bindings of linear code (recomputed values, unpacking of the
tape) are replayed forward, in their original order, before the linear code runs backwards.

``replay_top`` replays the top block's; ``hoist`` enters, besides, every block nested in the linear
code (in right-hand sides, in the arguments of linear primitives, under dup) and keeps each one's
new names (``scopes``): a block that ends gives its names back and a later binding may take them,
so the backward pass puts a block's names back when it reaches it.
"""

from __future__ import annotations

from calculi.core import coverage
from calculi.core.errors import TypeCheckError
from calculi.linear_ad.built import new_binder, new_letb, new_prim, new_var
from calculi.linear_ad.names import Supply
from calculi.linear_ad.rules import fire
from calculi.linear_ad.syntax import (
    Binder,
    Binding,
    Block,
    Call,
    Drop,
    Dup,
    Expr,
    LetB,
    Lit,
    Prim,
    Ret,
    Tup,
    UnpackB,
    Var,
)

NESTING = (Block, Prim, Dup)
"""The linear constructs that may hold non-linear bindings for ``hoist`` to replay."""


class Replay:
    """The forward replay of one function's non-linear bindings, to ``forward``, each name of the
    input mapped to its output variable in ``sub``."""

    def __init__(self) -> None:
        self.supply = Supply()
        self.sub: dict[int, Var] = {}
        self.forward: list[Binding] = []
        self.counting = coverage.active()
        self.scopes: dict[int, dict[int, Var]] = {}

    def copy(self, e: Expr) -> Expr:
        """A non-linear expression with its names moved to the output."""
        if type(e) is Var:
            return self.sub[e.name]
        if type(e) is Prim:
            sub = self.sub
            args = tuple([sub[a.name] if type(a) is Var else self.copy(a) for a in e.args])
            return new_prim(e.prim, args, (), e.params, e.span)
        if isinstance(e, Lit):
            return e
        if isinstance(e, Ret):
            if e.lvars:
                raise TypeCheckError("a linear value in non-linear code", e.span, rule="Transpose")
            return Ret(tuple(self.sub[v.name] for v in e.vars), ())
        if isinstance(e, Tup):
            return Tup(tuple(self.sub[v.name] for v in e.vars))
        if isinstance(e, Call):
            return Call(e.func, tuple(self.sub[v.name] for v in e.args), ())
        if isinstance(e, Prim):
            return new_prim(e.prim, tuple([self.copy(a) for a in e.args]), (), e.params, e.span)
        if isinstance(e, Drop):
            return Drop(self.copy(e.arg))
        if isinstance(e, Block):
            start = self.supply.next
            out: list[Binding] = []
            for b in e.bindings:
                if isinstance(b, LetB):
                    rhs = self.copy(b.rhs)
                    out.append(new_letb(self.rebind(b.binders), (), rhs, None))
                elif isinstance(b, UnpackB):
                    src = self.sub[b.var.name]
                    out.append(UnpackB(self.rebind(b.binders), src))
            copied = Block(tuple(out), self.copy(e.result))
            self.supply.next = start  # its names are its own: the binders after it are named from start
            return copied
        raise TypeCheckError(f"a linear {type(e).__name__} in non-linear code", e.span, rule="Transpose")

    def rebind(self, binders: tuple[Binder, ...]) -> tuple[Binder, ...]:
        """New binders for ``binders``, drawn in order (a binder that keeps its name and has no span
        is kept: a binder is a value), and ``sub`` of their names."""
        supply = self.supply
        name = supply.next
        supply.next = name + len(binders)
        sub = self.sub
        out = []
        kept = True
        for b in binders:
            hint = b.hint
            if b.name == name and b.span is None:
                out.append(b)
            else:
                out.append(new_binder(name, hint, None))
                kept = False
            sub[b.name] = new_var(name, hint, None)
            name += 1
        return binders if kept else tuple(out)

    def replay_top(self, bindings: tuple[Binding, ...]) -> None:
        """The shortcut's pre-pass: the top block's non-linear bindings, in order (its linear
        right-hand sides are not entered)."""
        forward = self.forward
        for b in bindings:
            if type(b) is LetB:
                if b.binders:
                    if b.lbinders:
                        raise TypeCheckError("transpose applies to linear code; this let binds both "
                                             "non-linear and linear names", b.span, rule="Transpose")
                    rhs = self.copy(b.rhs)
                    forward.append(new_letb(self.rebind(b.binders), (), rhs, None))
            elif type(b) is UnpackB:
                src = self.sub[b.var.name]
                forward.append(UnpackB(self.rebind(b.binders), src))

    def hoist(self, e: Expr) -> None:
        """Pre-pass, forward: copy every non-linear binding of the linear code to ``forward`` (the
        backward pass skips them: a let of non-linear names, an unpack). Only blocks, applications
        and dups can hold bindings: variables, results and the rest are not entered. A nested
        block's new names are kept for the backward pass (``scopes``): blocks that end give their
        names back, and a later binding may take them."""
        while True:
            kind = type(e)
            if kind is Block:
                assert isinstance(e, Block)
                self.replay(e.bindings)
                self.scopes[id(e)] = self.bound(e.bindings)
                e = e.result
            elif kind is Prim:
                assert isinstance(e, Prim)
                for a in e.largs:
                    if type(a) in NESTING:
                        self.hoist(a)
                return
            elif kind is Dup:
                assert isinstance(e, Dup)
                e = e.arg
            else:
                return

    def replay(self, bindings: tuple[Binding, ...]) -> None:
        """``hoist`` of a block's bindings, in order."""
        forward = self.forward
        for b in bindings:
            if type(b) is LetB:
                assert isinstance(b, LetB)
                if b.binders:
                    if b.lbinders:
                        raise TypeCheckError("transpose applies to linear code; this let binds both "
                                             "non-linear and linear names", b.span, rule="Transpose")
                    if self.counting:
                        fire("T(replay)")
                    rhs = self.copy(b.rhs)
                    forward.append(new_letb(self.rebind(b.binders), (), rhs, None))
                else:
                    rhs = b.rhs
                    if type(rhs) is Prim:  # (inline: an application ``s ⊙ ẏ`` of variables is not entered)
                        assert isinstance(rhs, Prim)
                        for a in rhs.largs:
                            if type(a) in NESTING:
                                self.hoist(a)
                    elif type(rhs) in NESTING:
                        self.hoist(rhs)
            elif type(b) is UnpackB:
                assert isinstance(b, UnpackB)
                if self.counting:
                    fire("T(unpack)")
                src = self.sub[b.var.name]
                forward.append(UnpackB(self.rebind(b.binders), src))

    def bound(self, bindings: tuple[Binding, ...]) -> dict[int, Var]:
        """The output variables of the non-linear names ``bindings`` bind, once replayed."""
        sub = self.sub
        return {x.name: sub[x.name] for b in bindings if type(b) is LetB or type(b) is UnpackB
                for x in b.binders}
