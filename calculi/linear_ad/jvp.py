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

from calculi.core.errors import TypeCheckError
from calculi.linear_ad.built import (
    draw,
    draws,
    new_binder,
    new_call,
    new_funcdef,
    new_letb,
    new_lvar,
    new_mixed,
    new_ret,
    new_var,
)
from calculi.linear_ad.callees import callees
from calculi.linear_ad.check import Typing, type_in
from calculi.linear_ad.jvp_sharing import Names, Sharing, Tangents, block_of
from calculi.linear_ad.names import dotted
from calculi.linear_ad.primitives import JvpRule, jvp_rules, params_dict, place
from calculi.linear_ad.rules import fire, fire_prim
from calculi.linear_ad.syntax import (
    Binder,
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
from calculi.linear_ad.types import REAL, Mixed, Real, Type


def jvp_name(name: str) -> str:
    return f"{name}.jvp"


class _Jvp(Sharing):
    """J of one function. Names are drawn in the order they are written, one past the names in
    scope, so the output is canonical as it is built (``canonical`` of it is itself): a block left
    nested in a right-hand side gives its names back when it is done, as lexical scope does.

    A tangent table (``Tangents``) handed to ``expr``, ``prim`` or ``block`` is the callee's from
    then on: the caller reads it no more, so a callee may hand it on whole where nothing is shared."""

    def __init__(self, typing: Typing, bind_scales: bool = False) -> None:
        super().__init__()
        self.typing = typing
        self.bind_scales = bind_scales
        self.sub: dict[int, Var] = {}
        self.expr_types: dict[int, Mixed] = {}
        """The types of the function being differentiated (``funcdef`` sets them)."""
        self.rules: dict[int, JvpRule] = {}

    def expr(self, e: Expr, tangents: Tangents) -> Expr:
        kind = type(e)
        if kind is Block:
            return self.block(e, tangents)  # type: ignore[arg-type]
        if kind is Var:
            if self.counting:
                fire("J(x)")
            return new_ret((self.sub[e.name],), (tangents[e.name],))  # type: ignore[attr-defined]
        if kind is Prim:
            out: list[Binding] = []
            v, dv = self.prim(e, tangents, out)  # type: ignore[arg-type]
            return block_of(out, new_ret((v,), (dv,)))
        if isinstance(e, Lit):
            if self.counting:
                fire("J(r)")
            return self.pair([], e, Zero(REAL), "r")
        if isinstance(e, Ret | Tup | Call):
            if self.counting:
                fire("J((x̄ ;))" if isinstance(e, Ret) else "J(tup)" if isinstance(e, Tup) else "J(f)")
            args = e.vars if isinstance(e, Ret | Tup) else e.args
            out = []
            parts = self.split([(v.name,) for v in args], tangents, out)
            xs = tuple([self.sub[v.name] for v in args])
            ts = tuple([part[v.name] for v, part in zip(args, parts, strict=True)])
            if isinstance(e, Ret):
                return block_of(out, new_ret(xs, ts))
            if isinstance(e, Tup):
                return self.pair(out, Tup(xs), TupL(ts), "t")
            return block_of(out, new_call(jvp_name(e.func), xs, ts, None))
        if isinstance(e, Drop):
            if self.counting:
                fire("J(drop)")
            names = self.fv(e.arg)
            return Drop(Ret(tuple(self.sub[n] for n in names), tuple(tangents[n] for n in names)))
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
        n = len(args)
        a = args[0] if n else None
        if n == 1 and type(a) is Var:
            primals: tuple[Var, ...] = (sub[a.name],)
            tans: tuple[LVar, ...] = (tangents[a.name],)
        elif n == 2 and type(a) is Var and type(b := args[1]) is Var and a.name != b.name:
            primals = (sub[a.name], sub[b.name])
            tans = (tangents[a.name], tangents[b.name])
        else:
            primals, tans = self.operands(args, tangents, out)
        expr_types = self.expr_types
        types = tuple([type_in(expr_types, a).nonlin[0] for a in args])
        pe, te = rule(primals, tans, types, params_dict(e.params) if e.params else {})
        span = e.span
        if span is not None:
            place(pe, span)
            place(te, span)
        if self.bind_scales:
            te = self.bound_scales(te, out)
        if type(pe) is Var or type(te) is LVar:
            return self.bind(out, pe, te, "y")
        supply = self.supply
        k = supply.next
        supply.next = k + 2
        out.append(new_letb((new_binder(k, "y", None),), (), pe, None))
        out.append(new_letb((), (new_binder(k + 1, "dy", None),), te, None))
        return new_var(k, "y", None), new_lvar(k + 1, "dy", None)

    def operands(self, args: tuple[Expr, ...], tangents: Tangents,
                 out: list[Binding]) -> tuple[tuple[Var, ...], tuple[LVar, ...]]:
        """J of a primitive's arguments written into ``out``: the variables of their primals and
        tangents, each argument given its own tangents (shared ones dup-ed)."""
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
        return tuple(primals), tuple(tans)

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

    def block(self, e: Block, tangents: Tangents) -> Expr:
        bindings = e.bindings
        fv = self.fv
        fvs: list[Names] = []
        count: dict[int, int] = {}
        for b in bindings:
            kind = type(b)
            if kind is LetB:
                names = fv(b.rhs)  # type: ignore[attr-defined]
            elif kind is UnpackB:
                names = (b.var.name,)  # type: ignore[attr-defined]
            else:
                raise TypeCheckError("jvp applies to non-linear programs; unpackL is linear", b.span,
                                     rule="JVP")
            fvs.append(names)
            for n in names:
                count[n] = count.get(n, 0) + 1
        for n in fv(e.result):
            count[n] = count.get(n, 0) + 1
        out: list[Binding] = []
        sub = self.sub
        supply = self.supply
        counting = self.counting
        for b, names in zip(bindings, fvs, strict=True):
            if not names:
                part: Tangents = {}
            elif len(names) == 1 and count[names[0]] == 1:  # (``_take`` of a name used here last)
                n = names[0]
                count[n] = 0
                part = {n: tangents.pop(n)}
            else:
                part = self._take(names, count, tangents, out)
            if type(b) is LetB:
                if counting:
                    fire("J(let)")
                if b.lbinders:
                    raise TypeCheckError("jvp applies to non-linear programs; this let binds linear names",
                                         b.span, rule="JVP")
                rhs = b.rhs
                binders = b.binders
                if type(rhs) is Prim and len(binders) == 1:
                    v, dv = self.prim(rhs, part, out)
                    name = binders[0].name
                    sub[name] = v
                    tangents[name] = dv
                    continue
                if type(rhs) is Call and len(binders) == 1 and (
                        len(a := rhs.args) < 2 or len({x.name for x in a}) == len(a)):
                    self.call(rhs, binders[0], part, tangents, out)
                    continue
                hints = tuple([x.hint for x in binders])
                start = supply.next
                vs, dvs = self.spliced(out, self.expr(rhs, part), hints, tuple(map(dotted, hints)), start)
                for x, v, dv in zip(binders, vs, dvs, strict=True):
                    sub[x.name] = v
                    tangents[x.name] = dv
            else:
                assert isinstance(b, UnpackB)
                if counting:
                    fire("J(unpack)")
                xs = draws(supply, tuple(x.hint for x in b.binders))
                ts = draws(supply, tuple(dotted(x.hint) for x in b.binders))
                out.append(UnpackB(xs, sub[b.var.name]))
                out.append(UnpackLB(ts, part[b.var.name]))
                for x, nb, tb in zip(b.binders, xs, ts, strict=True):
                    sub[x.name] = var_of(nb)
                    tangents[x.name] = lvar_of(tb)
        # the result is the last item: every name it uses is used there last, nothing to dup
        result = e.result
        if type(result) is Prim:
            v, dv = self.prim(result, tangents, out)
            return block_of(out, new_ret((v,), (dv,)))
        if type(result) is Var:
            if counting:
                fire("J(x)")
            return block_of(out, new_ret((sub[result.name],), (tangents[result.name],)))
        return block(out, self.expr(result, tangents))

    def call(self, e: Call, x: Binder, part: Tangents, tangents: Tangents, out: list[Binding]) -> None:
        """``let (x ; ẋ) = f.jvp(ȳ ; ẏ̄)`` in ``out`` for ``let x = f(ȳ)`` whose arguments are distinct
        (nothing to dup), ẏ̄ read from ``part`` and ẋ put in ``tangents``: what ``expr`` and
        ``spliced`` write for it, in one step."""
        if self.counting:
            fire("J(f)")
        sub = self.sub
        args = e.args
        call = new_call(jvp_name(e.func), tuple([sub[a.name] for a in args]),
                        tuple([part[a.name] for a in args]), None)
        supply = self.supply
        k = supply.next
        supply.next = k + 2
        hint = x.hint
        dhint = "d" + hint  # (``dotted``)
        out.append(new_letb((new_binder(k, hint, None),), (new_binder(k + 1, dhint, None),), call, None))
        sub[x.name] = new_var(k, hint, None)
        tangents[x.name] = new_lvar(k + 1, dhint, None)

    def funcdef(self, d: FuncDef) -> FuncDef:
        if d.lparams or d.result.lin:
            raise TypeCheckError(f"jvp applies to non-linear functions; {d.name} has linear parameters or "
                                 "results", d.span, rule="JVP")
        supply = self.supply
        start = supply.start  # (each function's names start afresh)
        self.expr_types = self.typing.of(d.name).exprs
        self.sub = sub = {}
        tangents: Tangents = {}
        ps = d.params
        k = len(ps)
        params: list[Binder] = []
        lparams: list[Binder] = []
        for i, b in enumerate(ps):
            hint = b.hint
            dhint = "d" + hint  # (``dotted``)
            params.append(new_binder(start + i, hint, None))
            lparams.append(new_binder(start + k + i, dhint, None))
            sub[b.name] = new_var(start + i, hint, None)
            tangents[b.name] = new_lvar(start + k + i, dhint, None)
        supply.next = start + 2 * k
        body = self.expr(d.body, tangents)
        nonlin = d.result.nonlin
        result = new_mixed(nonlin, _tangent_types(nonlin))
        return new_funcdef(jvp_name(d.name), tuple(params), d.param_types, tuple(lparams),
                           _tangent_types(d.param_types), result, body, d.span)


def _tangent_types(types: tuple[Type, ...]) -> tuple[Type, ...]:
    """The tangent types of ``types`` (ℝ's is ℝ itself: the tuple is handed back)."""
    for t in types:
        if type(t) is not Real:
            return tuple([t.tangent() for t in types])
    return types


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
