"""JVP (forward mode): J turns a non-linear function into one that is structurally linear in
its tangents.

    def f(x̄ : τ̄ ;) → (τ̄' ;)   ↦   def f.jvp(x̄ : τ̄ ; ẋ̄ : τ̄) → (τ̄' ; τ̄')

    J(x)                    = (x ; ẋ)
    J(r)                    = let z = r in let (; ż) = 0 in (z ; ż)
    J(tup x̄)                = (tup x̄ ; tupL ẋ̄)
    J(let (x̄ ;) = e1 in e2) = let (x̄ ; ẋ̄) = J(e1) in J(e2)
    J(let (x̄) = unpack y in e) = let (x̄) = unpack y in let (ẋ̄) = unpackL ẏ in J(e)
    J(f(x̄ ;))               = f.jvp(x̄ ; ẋ̄)
    J(p(e1, …, en))         = let (v1 ; v̇1) = J(e1) in … in jvp_rules[p](v̄, v̇̄)
    J(drop e)               = drop((x̄ ; ẋ̄))           where x̄ = FV(e)

Sharing (the prototype's ``splitTangents``): when sub-terms e1 and e2 both mention ``x``, J emits
``let (; ẋ1, ẋ2) = dup(ẋ)`` and gives each its own copy: the implicit contraction of a
non-linear variable becomes an explicit linear ``dup``.
"""

from __future__ import annotations

from calculi.core import coverage
from calculi.core.errors import TypeCheckError
from calculi.linear_ad.built import draw, draws, new_funcdef, new_mixed
from calculi.linear_ad.check import Typing
from calculi.linear_ad.freevars import FV, free_vars
from calculi.linear_ad.names import Supply, dotted
from calculi.linear_ad.parse_tokens import new_binder, new_letb, new_lvar, new_var
from calculi.linear_ad.primitives import JvpRule, jvp_rules, params_dict, place
from calculi.linear_ad.rules import fire, fire_prim
from calculi.linear_ad.syntax import (
    Binding,
    Block,
    Call,
    Drop,
    Dup,
    Expr,
    FuncDef,
    LetB,
    Lit,
    LVar,
    Prim,
    Program,
    Ret,
    Tup,
    TupL,
    UnpackB,
    UnpackLB,
    Var,
    Zero,
    block,
    lvar_of,
    var_of,
)
from calculi.linear_ad.types import REAL

Tangents = dict[int, LVar]


def jvp_name(name: str) -> str:
    return f"{name}.jvp"


class _Jvp:
    """J of one function. Names are drawn in the order they are written, one past the names in
    scope, so the output is canonical as it is built (``canonical`` of it is itself): a block left
    nested in a right-hand side gives its names back when it is done, as lexical scope does."""

    def __init__(self, typing: Typing, bind_scales: bool = False) -> None:
        self.typing = typing
        self.bind_scales = bind_scales
        self.supply = Supply()
        self.sub: dict[int, Var] = {}
        self.fv_cache: dict[int, FV] = {}
        self.expr_types = typing.expr_types
        self.rules: dict[int, JvpRule] = {}
        self.counting = coverage.active()

    def fv(self, e: Expr) -> frozenset[int]:
        if type(e) is Var:
            return frozenset((e.name,))
        hit = self.fv_cache.get(id(e))
        return hit[0] if hit is not None else free_vars(e, self.fv_cache)[0]

    def split(self, uses: list[frozenset[int]], tangents: Tangents, out: list[Binding]) -> list[Tangents]:
        """Give each of ``uses`` its own tangent for every variable it mentions, dup-ing shared ones."""
        count: dict[int, int] = {}
        for fv in uses:
            for v in fv:
                count[v] = count.get(v, 0) + 1
        return [self._take(fv, count, tangents, out) for fv in uses]

    def bind(self, out: list[Binding], primal: Expr, tangent: Expr, hint: str) -> tuple[Var, LVar]:
        """(primal ; tangent) as variables, binding each side in ``out`` unless it is a variable."""
        supply = self.supply
        if type(primal) is Var:
            p = primal
        else:
            n = supply.next
            supply.next = n + 1
            out.append(new_letb((new_binder(n, hint, None),), (), primal, None))
            p = new_var(n, hint, None)
        if type(tangent) is LVar:
            t = tangent
        else:
            n = supply.next
            supply.next = n + 1
            dhint = "d" + hint  # (``dotted``)
            out.append(new_letb((), (new_binder(n, dhint, None),), tangent, None))
            t = new_lvar(n, dhint, None)
        return p, t

    def pair(self, out: list[Binding], primal: Expr, tangent: Expr, hint: str = "v") -> Expr:
        """(primal ; tangent) as a Ret of variables, binding each side unless it is a variable."""
        p, t = self.bind(out, primal, tangent, hint)
        return block(out, Ret((p,), (t,)))

    def expr(self, e: Expr, tangents: Tangents) -> Expr:
        if type(e) is Block:
            return self.block(e, tangents)
        if isinstance(e, Var):
            if self.counting:
                fire("J(x)")
            return Ret((self.sub[e.name],), (tangents[e.name],))
        if isinstance(e, Prim):
            out: list[Binding] = []
            v, dv = self.prim(e, tangents, out)
            return block(out, Ret((v,), (dv,)))
        if isinstance(e, Lit):
            if self.counting:
                fire("J(r)")
            return self.pair([], e, Zero(REAL), "r")
        if isinstance(e, Ret | Tup | Call):
            if self.counting:
                fire("J((x̄ ;))" if isinstance(e, Ret) else "J(tup)" if isinstance(e, Tup) else "J(f)")
            args = e.vars if isinstance(e, Ret | Tup) else e.args
            out = []
            parts = self.split([frozenset((v.name,)) for v in args], tangents, out)
            xs = tuple(self.sub[v.name] for v in args)
            ts = tuple(part[v.name] for v, part in zip(args, parts, strict=True))
            if isinstance(e, Ret):
                return block(out, Ret(xs, ts))
            if isinstance(e, Tup):
                return self.pair(out, Tup(xs), TupL(ts), "t")
            return block(out, Call(jvp_name(e.func), xs, ts))
        if isinstance(e, Drop):
            if self.counting:
                fire("J(drop)")
            names = sorted(self.fv(e.arg))
            return Drop(Ret(tuple(self.sub[n] for n in names), tuple(tangents[n] for n in names)))
        if isinstance(e, Block):
            return self.block(e, tangents)
        if isinstance(e, LVar | Zero | TupL | Dup):
            raise TypeCheckError("jvp applies to non-linear programs; this expression is linear", e.span,
                                 rule="JVP")
        raise TypeCheckError(f"jvp has no rule for {type(e).__name__}", e.span, rule="JVP")

    def prim(self, e: Prim, tangents: Tangents, out: list[Binding]) -> tuple[Var, LVar]:
        """J(p(e1, …, en)) written into ``out``: the variables of its primal and its tangent."""
        p = e.prim
        if p.linear or e.largs:
            raise TypeCheckError(f"jvp applies to non-linear programs; {p.name} is linear", e.span,
                                 rule="JVP")
        rule = self.rules.get(id(p))  # (read once per primitive: a primitive's hash is its fields')
        if rule is None:
            rule = self.rule_of(e)
        if self.counting:
            fire_prim("J", p)
        args = e.args
        sub = self.sub
        primals: list[Var] = []
        tans: list[LVar] = []
        # one argument, or distinct variables: nothing is shared, each tangent is handed over
        if len(args) == 1:
            parts = [tangents]
        elif all(type(a) is Var for a in args) and len({a.name for a in args}) == len(args):  # type: ignore[attr-defined]
            parts = [tangents] * len(args)
        else:
            parts = self.split([self.fv(a) for a in args], tangents, out)
        for a, part in zip(args, parts, strict=True):
            if type(a) is Var:
                primals.append(sub[a.name])
                tans.append(part[a.name])
            elif type(a) is Prim:
                v, dv = self.prim(a, part, out)
                primals.append(v)
                tans.append(dv)
            else:
                start = self.supply.next
                (v,), (dv,) = self.spliced(out, self.expr(a, part), ("v",), ("dv",), start)
                primals.append(v)
                tans.append(dv)
        expr_types = self.expr_types
        types = tuple([expr_types[id(a)].nonlin[0] for a in args])
        pe, te = rule(tuple(primals), tuple(tans), types, params_dict(e.params))
        span = e.span
        if span is not None:
            place(pe, span)
            place(te, span)
        if self.bind_scales:
            te = self.bound_scales(te, out)
        return self.bind(out, pe, te, "y")

    def rule_of(self, e: Prim) -> JvpRule:
        """The JVP rule of ``e``'s primitive (remembered for the pass), or why there is none."""
        rule = jvp_rules.get(e.prim)
        if rule is None:
            raise TypeCheckError(f"no JVP rule for primitive {e.prim.name}", e.span, rule="JVP")
        self.rules[id(e.prim)] = rule
        return rule

    def bound_scales(self, e: Expr, out: list[Binding]) -> Expr:
        """``p(s̄ ; ė̄)`` with each non-atomic scale expression ``s`` bound first, ``let c = s in``, so
        that unzipping decides by its policy whether ``c`` is saved or recomputed (inline, it would
        always be recomputed in the linear half)."""
        if not (isinstance(e, Prim) and e.prim.linear):
            return e
        args = []
        for a in e.args:
            if not isinstance(a, Var | Lit):
                b = draw(self.supply, "c")
                out.append(LetB((b,), (), a))
                a = var_of(b)
            args.append(a)
        largs = tuple(self.bound_scales(la, out) for la in e.largs)
        return Prim(e.prim, tuple(args), largs, e.params, span=e.span)

    def spliced(self, out: list[Binding], e: Expr, hints: tuple[str, ...], lhints: tuple[str, ...],
                start: int) -> tuple[tuple[Var, ...], tuple[LVar, ...]]:
        """Bind the mixed result of ``e`` (whose names were drawn from ``start`` on) in ``out``; a
        block ending in ``(x̄ ; ẏ̄)`` is spliced in, so J's output stays one flat chain. A block
        left nested gives its names back: the binders after it are named from ``start``."""
        if isinstance(e, Block) and isinstance(e.result, Ret):
            out.extend(e.bindings)
            e = e.result
        if isinstance(e, Ret):
            return e.vars, e.lvars
        self.supply.next = start
        xs = draws(self.supply, hints)
        ys = draws(self.supply, lhints)
        out.append(new_letb(xs, ys, e, None))
        return tuple(map(var_of, xs)), tuple(map(lvar_of, ys))

    def block(self, e: Block, tangents: Tangents) -> Expr:
        items: list[Expr] = []
        for b in e.bindings:
            if isinstance(b, LetB):
                items.append(b.rhs)
            elif isinstance(b, UnpackB):
                items.append(b.var)
            else:
                raise TypeCheckError("jvp applies to non-linear programs; unpackL is linear", b.span,
                                     rule="JVP")
        items.append(e.result)
        out: list[Binding] = []
        fvs = [self.fv(i) for i in items]
        count: dict[int, int] = {}
        for fv in fvs:
            for n in fv:
                count[n] = count.get(n, 0) + 1
        sub = self.sub
        for idx, b in enumerate(e.bindings):
            part = self._take(fvs[idx], count, tangents, out)
            if self.counting:
                fire("J(let)" if isinstance(b, LetB) else "J(unpack)")
            if isinstance(b, LetB):
                if b.lbinders:
                    raise TypeCheckError("jvp applies to non-linear programs; this let binds linear names",
                                         b.span, rule="JVP")
                rhs = b.rhs
                if type(rhs) is Prim and len(b.binders) == 1:
                    v, dv = self.prim(rhs, part, out)
                    name = b.binders[0].name
                    sub[name] = v
                    tangents[name] = dv
                    continue
                hints = tuple(x.hint for x in b.binders)
                start = self.supply.next
                vs, dvs = self.spliced(out, self.expr(rhs, part), hints, tuple(map(dotted, hints)), start)
                for x, v, dv in zip(b.binders, vs, dvs, strict=True):
                    sub[x.name] = v
                    tangents[x.name] = dv
            else:
                assert isinstance(b, UnpackB)
                xs = draws(self.supply, tuple(x.hint for x in b.binders))
                ts = draws(self.supply, tuple(dotted(x.hint) for x in b.binders))
                out.append(UnpackB(xs, sub[b.var.name]))
                out.append(UnpackLB(ts, part[b.var.name]))
                for x, nb, tb in zip(b.binders, xs, ts, strict=True):
                    sub[x.name] = var_of(nb)
                    tangents[x.name] = lvar_of(tb)
        part = self._take(fvs[-1], count, tangents, out)
        if type(e.result) is Prim:
            v, dv = self.prim(e.result, part, out)
            return block(out, Ret((v,), (dv,)))
        return block(out, self.expr(e.result, part))

    def _take(self, fv: frozenset[int], count: dict[int, int], tangents: Tangents,
              out: list[Binding]) -> Tangents:
        """The tangents one item of a block needs, dup-ing those that later items need too."""
        part: Tangents = {}
        for v in sorted(fv) if len(fv) > 1 else fv:
            n = count[v] - 1
            count[v] = n
            if n > 0:
                if self.counting:
                    fire("J(share)")
                t = tangents[v]
                a = draw(self.supply, t.hint)
                b = draw(self.supply, t.hint)
                out.append(new_letb((), (a, b), Dup(t), None))
                part[v], tangents[v] = lvar_of(a), lvar_of(b)
            else:
                part[v] = tangents.pop(v)
        return part

    def funcdef(self, d: FuncDef) -> FuncDef:
        if d.lparams or d.result.lin:
            raise TypeCheckError(f"jvp applies to non-linear functions; {d.name} has linear parameters or "
                                 "results", d.span, rule="JVP")
        self.supply.next = self.supply.start  # (each function's names start afresh)
        self.sub = {}
        tangents: Tangents = {}
        params = draws(self.supply, tuple(b.hint for b in d.params))
        lparams = draws(self.supply, tuple(dotted(b.hint) for b in d.params))
        for b, nb, tb in zip(d.params, params, lparams, strict=True):
            self.sub[b.name] = var_of(nb)
            tangents[b.name] = lvar_of(tb)
        body = self.expr(d.body, tangents)
        tangent_types = tuple([t.tangent() for t in d.param_types])
        result = new_mixed(d.result.nonlin, tuple([t.tangent() for t in d.result.nonlin]))
        return new_funcdef(jvp_name(d.name), params, d.param_types, lparams, tangent_types, result, body,
                           d.span)


def callees(typing: Typing, name: str) -> list[str]:
    """``name`` and every function it calls, transitively, in definition order (from the calls the
    checker recorded; a function it did not check is walked)."""
    wanted = {name}
    calls = typing.calls
    for d in reversed(typing.program.defs):
        if d.name in wanted:
            called = calls.get(d.name)
            wanted |= _calls_in(d.body) if called is None else called
    return [d.name for d in typing.program.defs if d.name in wanted]


def _calls_in(body: Expr) -> set[str]:
    found: set[str] = set()
    stack: list[Expr] = [body]
    while stack:
        e = stack.pop()
        if isinstance(e, Call):
            found.add(e.func)
        if isinstance(e, Block):
            stack.extend(b.rhs for b in e.bindings if isinstance(b, LetB))
            stack.append(e.result)
        elif isinstance(e, Prim):
            stack.extend((*e.args, *e.largs))
        elif isinstance(e, Dup | Drop):
            stack.append(e.arg)
    return found


def jvp_program(typing: Typing, name: str, bind_scales: bool = False) -> Program:
    """J of ``name`` and of everything it calls: functions ``g.jvp`` for each ``g``. With
    ``bind_scales`` the scale expressions of the rules are let-bound (A-normal form), which puts
    them under the unzip policy; the paper's and the prototype's J keeps them inline."""
    program = typing.program
    j = _Jvp(typing, bind_scales)
    defs = []
    for g in callees(typing, name):
        d = program.get(g)
        assert d is not None
        defs.append(j.funcdef(d))
    return Program(tuple(defs))
