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

from collections import Counter

from calculi.core import coverage
from calculi.core.errors import TypeCheckError
from calculi.linear_ad.check import Typing
from calculi.linear_ad.freevars import FV, free_vars
from calculi.linear_ad.names import Supply, dotted
from calculi.linear_ad.primitives import jvp_rules, located, params_dict
from calculi.linear_ad.renumber import renumber
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
from calculi.linear_ad.types import REAL, Mixed

Tangents = dict[int, LVar]


def jvp_name(name: str) -> str:
    return f"{name}.jvp"


class _Jvp:
    def __init__(self, typing: Typing, bind_scales: bool = False) -> None:
        self.typing = typing
        self.bind_scales = bind_scales
        self.supply = Supply()
        self.sub: dict[int, Var] = {}
        self.hints: dict[int, str] = {}
        self.fv_cache: dict[int, FV] = {}
        self.counting = coverage.active()

    def fv(self, e: Expr) -> frozenset[int]:
        return free_vars(e, self.fv_cache)[0]

    def split(self, uses: list[frozenset[int]], tangents: Tangents, out: list[Binding]) -> list[Tangents]:
        """Give each of ``uses`` its own tangent for every variable it mentions, dup-ing shared ones."""
        if len(uses) == 1:  # (nothing is shared: each tangent is handed over)
            return [{v: tangents.pop(v) for v in sorted(uses[0])}]
        count: Counter[int] = Counter()
        for fv in uses:
            count.update(fv)
        return [self._take(fv, count, tangents, out) for fv in uses]

    def pair(self, out: list[Binding], primal: Expr, tangent: Expr, hint: str = "v") -> Expr:
        """(primal ; tangent) as a Ret of variables, binding each side unless it is a variable."""
        if isinstance(primal, Var):
            p = primal
        else:
            pb = self.supply.binder(hint)
            out.append(LetB((pb,), (), primal))
            p = var_of(pb)
        if isinstance(tangent, LVar):
            t = tangent
        else:
            tb = self.supply.binder(dotted(hint))
            out.append(LetB((), (tb,), tangent))
            t = lvar_of(tb)
        return block(out, Ret((p,), (t,)))

    def expr(self, e: Expr, tangents: Tangents) -> Expr:
        if isinstance(e, Var):
            if self.counting:
                fire("J(x)")
            return Ret((self.sub[e.name],), (tangents[e.name],))
        if isinstance(e, Lit):
            if self.counting:
                fire("J(r)")
            return self.pair([], e, Zero(REAL), "r")
        if isinstance(e, Ret | Tup | Call):
            if self.counting:
                fire("J((x̄ ;))" if isinstance(e, Ret) else "J(tup)" if isinstance(e, Tup) else "J(f)")
            args = e.vars if isinstance(e, Ret | Tup) else e.args
            out: list[Binding] = []
            parts = self.split([frozenset((v.name,)) for v in args], tangents, out)
            xs = tuple(self.sub[v.name] for v in args)
            ts = tuple(part[v.name] for v, part in zip(args, parts, strict=True))
            if isinstance(e, Ret):
                return block(out, Ret(xs, ts))
            if isinstance(e, Tup):
                return self.pair(out, Tup(xs), TupL(ts), "t")
            return block(out, Call(jvp_name(e.func), xs, ts))
        if isinstance(e, Prim):
            return self.prim(e, tangents)
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

    def prim(self, e: Prim, tangents: Tangents) -> Expr:
        if e.prim.linear or e.largs:
            raise TypeCheckError(f"jvp applies to non-linear programs; {e.prim.name} is linear", e.span,
                                 rule="JVP")
        rule = jvp_rules.get(e.prim)
        if rule is None:
            raise TypeCheckError(f"no JVP rule for primitive {e.prim.name}", e.span, rule="JVP")
        if self.counting:
            fire_prim("J", e.prim)
        out: list[Binding] = []
        parts = self.split([self.fv(a) for a in e.args], tangents, out)
        primals: list[Var] = []
        tans: list[LVar] = []
        for a, part in zip(e.args, parts, strict=True):
            if isinstance(a, Var):
                primals.append(self.sub[a.name])
                tans.append(part[a.name])
                continue
            (v,), (dv,) = self.spliced(out, self.expr(a, part), ("v",), ("dv",))
            primals.append(v)
            tans.append(dv)
        expr_types = self.typing.expr_types
        types = tuple([expr_types[id(a)].nonlin[0] for a in e.args])
        pe, te = (located(x, e.span) for x in rule(tuple(primals), tuple(tans), types, params_dict(e.params)))
        if self.bind_scales:
            te = self.bound_scales(te, out)
        return self.pair(out, pe, te, "y")

    def bound_scales(self, e: Expr, out: list[Binding]) -> Expr:
        """``p(s̄ ; ė̄)`` with each non-atomic scale expression ``s`` bound first, ``let c = s in``, so
        that unzipping decides by its policy whether ``c`` is saved or recomputed (inline, it would
        always be recomputed in the linear half)."""
        if not (isinstance(e, Prim) and e.prim.linear):
            return e
        args = []
        for a in e.args:
            if not isinstance(a, Var | Lit):
                b = self.supply.binder("c")
                out.append(LetB((b,), (), a))
                a = var_of(b)
            args.append(a)
        largs = tuple(self.bound_scales(la, out) for la in e.largs)
        return Prim(e.prim, tuple(args), largs, e.params, span=e.span)

    def spliced(self, out: list[Binding], e: Expr, hints: tuple[str, ...],
                lhints: tuple[str, ...]) -> tuple[tuple[Var, ...], tuple[LVar, ...]]:
        """Bind the mixed result of ``e`` in ``out``; a block ending in ``(x̄ ; ẏ̄)`` is spliced in
        (its names are distinct in the whole output), so J's output stays one flat chain."""
        if isinstance(e, Block) and isinstance(e.result, Ret):
            out.extend(e.bindings)
            e = e.result
        if isinstance(e, Ret):
            return e.vars, e.lvars
        xs = self.supply.binders(hints)
        ys = self.supply.binders(lhints)
        out.append(LetB(xs, ys, e))
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
        count: Counter[int] = Counter()
        fvs = [self.fv(i) for i in items]
        for fv in fvs:
            count.update(fv)
        for idx, b in enumerate(e.bindings):
            part = self._take(fvs[idx], count, tangents, out)
            if self.counting:
                fire("J(let)" if isinstance(b, LetB) else "J(unpack)")
            if isinstance(b, LetB):
                if b.lbinders:
                    raise TypeCheckError("jvp applies to non-linear programs; this let binds linear names",
                                         b.span, rule="JVP")
                hints = tuple(x.hint for x in b.binders)
                vs, dvs = self.spliced(out, self.expr(b.rhs, part), hints, tuple(map(dotted, hints)))
                for x, v, dv in zip(b.binders, vs, dvs, strict=True):
                    self.sub[x.name] = v
                    tangents[x.name] = dv
            else:
                assert isinstance(b, UnpackB)
                xs, ts = [], []
                for x in b.binders:
                    nb = self.supply.binder(x.hint)
                    tb = self.supply.binder(dotted(x.hint))
                    self.sub[x.name] = var_of(nb)
                    tangents[x.name] = lvar_of(tb)
                    xs.append(nb)
                    ts.append(tb)
                out.append(UnpackB(tuple(xs), self.sub[b.var.name]))
                out.append(UnpackLB(tuple(ts), part[b.var.name]))
        result = self.expr(e.result, self._take(fvs[-1], count, tangents, out))
        return block(out, result)

    def _take(self, fv: frozenset[int], count: Counter[int], tangents: Tangents,
              out: list[Binding]) -> Tangents:
        """The tangents one item of a block needs, dup-ing those that later items need too."""
        part: Tangents = {}
        for v in sorted(fv):
            count[v] -= 1
            if count[v] > 0:
                if self.counting:
                    fire("J(share)")
                a = self.supply.binder(tangents[v].hint)
                b = self.supply.binder(tangents[v].hint)
                out.append(LetB((), (a, b), Dup(tangents[v])))
                part[v], tangents[v] = lvar_of(a), lvar_of(b)
            else:
                part[v] = tangents.pop(v)
        return part

    def funcdef(self, d: FuncDef) -> FuncDef:
        if d.lparams or d.result.lin:
            raise TypeCheckError(f"jvp applies to non-linear functions; {d.name} has linear parameters or "
                                 "results", d.span, rule="JVP")
        params, lparams = [], []
        tangents: Tangents = {}
        for b in d.params:
            nb = self.supply.binder(b.hint)
            self.sub[b.name] = var_of(nb)
            params.append(nb)
        for b in d.params:
            tb = self.supply.binder(dotted(b.hint))
            tangents[b.name] = lvar_of(tb)
            lparams.append(tb)
        body = self.expr(d.body, tangents)
        tangent_types = tuple(t.tangent() for t in d.param_types)
        result = Mixed(d.result.nonlin, tuple(t.tangent() for t in d.result.nonlin))
        return renumber(FuncDef(jvp_name(d.name), tuple(params), d.param_types, tuple(lparams),
                                 tangent_types, result, body, span=d.span))


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
    defs = []
    for g in callees(typing, name):
        d = program.get(g)
        assert d is not None
        defs.append(_Jvp(typing, bind_scales).funcdef(d))
    return Program(tuple(defs))
