"""Fp's typing judgements (ICFP'24 Fig. 2, App. B): value typing ``Γ ⊢v v : τ``, expression
typing ``Γ ⊢ e : τ | ε`` and handler typing ``Γ ⊢h h : l | ε | ρ`` (parameterized: the clauses
take the parameter, of type τ, first).

``infer(ctx, e, ε)`` gives the type of e in a context whose effect row is ε; a value's type does
not depend on ε (t-val), except for ``perform op`` written without its row, which takes the row
of its context. Each rule reports its firing to ``calculi.core.coverage`` under ``fp``, and every
type error names the rule (``fp_kinds.fail``) and points at the culprit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from calculi.core.syntax import Span
from calculi.lambda_p import fp_syntax as f
from calculi.lambda_p import fp_types as ty
from calculi.lambda_p.fp_kinds import (
    PRIMS,
    Context,
    UnhandledEffect,
    check_bound,
    expect_kind,
    fail,
    fire,
    kind_of,
)
from calculi.lambda_p.fp_pretty import show, show_row, show_type
from calculi.lambda_p.fp_subst import rename_value, subst_type_in_term, term_names

# -- values and expressions ----------------------------------------------------------------------


def infer(ctx: Context, e: f.Term, row: f.Row) -> f.Type:
    """Γ ⊢ e : τ | ε (for a value, Γ ⊢v v : τ by t-val); a rule that matches on a type's form
    puts its head in normal form first (``whnf``)."""
    rule = EXPRESSION_RULES.get(type(e))
    if rule is None:
        raise TypeError(f"not an Fp term: {e!r}")
    return rule(ctx, e, row)


def _var(ctx: Context, e: f.Var, row: f.Row) -> f.Type:
    if e.name not in ctx.types:
        raise fail("t-var", f"{e.name} is not in scope", e.span)
    fire("t-var")
    return ctx.types[e.name]


def _global(ctx: Context, e: f.Global, row: f.Row) -> f.Type:
    if e.name not in ctx.globals:
        raise fail("t-global", f"{e.name} is not defined", e.span)
    fire("t-global")
    return ctx.globals[e.name][0]


def _lit(ctx: Context, e: f.Lit, row: f.Row) -> f.Type:
    fire("t-lit")
    return f.INT if isinstance(e.value, int) else f.STRING


def _lam(ctx: Context, e: f.Lam, row: f.Row) -> f.Type:
    """t-abs: Γ, x:τ1 ⊢ e : τ2 | ε gives Γ ⊢v λ^ε x:τ1. e : (x:τ1) →^ε τ2"""
    expect_kind(ctx, e.ty, f.STAR, "t-abs")
    kind_of(ctx, e.row)
    name, body = e.name, e.body
    if depended_on(ctx, name, e.ty):  # a new x must not capture the x of a Fin x in Γ
        name = ty.fresh_name(name, set(ctx.types) | term_names(body))
        body = rename_value(body, e.name, name)
    cod = infer(ctx.with_value(name, e.ty), body, e.row)
    fire("t-abs")
    return f.TArrow(name if name in ty.free_values(cod) else None, e.ty, e.row, cod)


def depended_on(ctx: Context, name: str, *types: f.Type) -> bool:
    """Whether a type in Γ, or one of ``types`` (the new binder's own), mentions the variable
    ``name`` (in a ``Fin name``): a new binder of the name must then be renamed, or it would
    capture that mention."""
    return name in ctx.types and any(name in ty.free_values(t) for t in (*ctx.types.values(), *types))


def _tabs(ctx: Context, e: f.TAbs, row: f.Row) -> f.Type:
    """t-tabs: Γ, a:κ ⊢v v : τ gives Γ ⊢v Λa:κ. v : ∀a:κ. τ (v a value)"""
    if not f.is_value(e.body):
        raise fail("t-tabs", "the body of Λ must be a value (the value restriction)", e.body.span)
    name, body = e.name, e.body
    mentioned = ty.free_tvars(row).union(*(ty.free_tvars(t) for t in ctx.types.values()))
    if name in ctx.kinds and name in mentioned:
        name = ty.fresh_name(name, set(ctx.kinds) | term_names(body))
        body = subst_type_in_term(body, e.name, f.TVar(name))
    inner = infer(ctx.with_type(name, e.kind), body, row)
    fire("t-tabs")
    return f.TForall(name, e.kind, inner)


def _arr(ctx: Context, e: f.Arr, row: f.Row) -> f.Type:
    """t-array: ⊢v vi : τ for each i < n gives ⊢v ⟨v0, …⟩ : Fin n ⇒ τ"""
    if not e.items:
        raise fail("t-array", "an empty array needs its element type; write it as for i:Fin 0. …", e.span)
    elem: f.Type | None = None
    for item in e.items:
        if not f.is_value(item):
            raise fail("t-array", "array items must be values (bind them first: x <- e; <x>)", item.span)
        t = infer(ctx, item, row)
        if elem is None:
            elem = t
        elif not ty.equal(t, elem):
            raise fail("t-array", f"item of type {show_type(t)} in an array of {show_type(elem)}", item.span)
    assert elem is not None
    fire("t-array")
    return f.TArray(f.Lit(len(e.items)), elem)


def _con(ctx: Context, e: f.Con, row: f.Row) -> f.Type:
    for arg in e.args:
        if not f.is_value(arg):
            raise fail("t-con", f"the components of {e.tag} must be values (bind them first)", arg.span)
    args = tuple(infer(ctx, a, row) for a in e.args)
    fire("t-con")
    if e.tag == "Tuple":
        return f.TCon("Tuple", args)
    if e.tag in ("True", "False"):
        return f.BOOL
    assert e.other is not None
    expect_kind(ctx, e.other, f.STAR, "t-con")
    pair = (args[0], e.other) if e.tag == "Left" else (e.other, args[0])
    return f.TCon("Either", pair)


def _perform(ctx: Context, e: f.Perform, row: f.Row) -> f.Type:
    """t-perform: Σ(l) = {op : ∀ā:κ̄. σ1 → σ2} gives ⊢v perform op^ε τ̄ : (σ1 →^⟨l|ε⟩ σ2)[ā:=τ̄]"""
    sig = ctx.sigma.get(e.op)
    if sig is None:
        raise fail("t-perform", f"unknown operation {e.op} (declare it: effect {e.op} : σ1 -> σ2)", e.span)
    if len(e.targs) != len(sig.params):
        reason = f"{e.op} takes {len(sig.params)} type argument(s), given {len(e.targs)}"
        raise fail("t-perform", reason, e.span)
    if e.row is None:
        if e.op not in row.labels:
            reason = f"unhandled operation {e.op}: the row of its context {show_row(row)} lacks it"
            raise UnhandledEffect(reason,
                                  e.span, "t-perform", [e.op], row)
        rest = list(row.labels)
        rest.remove(e.op)
        full = f.Row((e.op, *rest), row.tail)
    else:
        kind_of(ctx, e.row)
        full = f.Row((e.op, *e.row.labels), e.row.tail)
    arg, result = sig.arg, sig.result
    for (name, kind), targ in zip(sig.params, e.targs, strict=True):
        expect_kind(ctx, targ, kind, "t-perform")
        arg, result = ty.subst(arg, name, targ), ty.subst(result, name, targ)
    fire("t-perform")
    return f.TArrow(None, arg, full, result)


def _fin(ctx: Context, e: f.Coerce, row: f.Row) -> f.Type:
    """t-fin: 0 ≤ i < n gives ⊢v (i ⊳ Fin n) : Fin n;  t-int: e : Fin n gives e ⊳ Int : Int | ε"""
    if isinstance(e.ty, f.TFin):
        bound = e.ty.bound
        if not (isinstance(e.term, f.Lit) and isinstance(e.term.value, int)):
            raise fail("t-fin", "only an integer literal can be coerced to Fin n", e.term.span)
        if not (isinstance(bound, f.Lit) and isinstance(bound.value, int)):
            raise fail("t-fin", f"i ⊳ Fin n needs a literal bound, not {show(bound)}", bound.span)
        if not 0 <= e.term.value < bound.value:
            reason = f"{e.term.value} is not below {bound.value}: not an index of Fin {bound.value}"
            raise fail("t-fin", reason, e.span)
        fire("t-fin")
        return e.ty
    if not ty.equal(e.ty, f.INT):
        raise fail("t-int", f"a coercion goes between Fin n and Int, not to {show_type(e.ty)}", e.ty.span)
    t = ty.whnf(infer(ctx, e.term, row))
    if not isinstance(t, f.TFin):
        raise fail("t-int", f"only an index of type Fin n can be coerced to Int, not {show_type(t)}",
                   e.term.span)
    fire("t-int")
    return f.INT


def _app(ctx: Context, e: f.App, row: f.Row) -> f.Type:
    """t-app1: e1 : τ1 →^ε τ2 | ε and e2 : τ1 | ε give e1 e2 : τ2 | ε;
    t-app2: e1 : (x:τ1) →^ε τ2 | ε and v : τ1 give e1 v : τ2[x:=v] | ε"""
    fn = ty.whnf(infer(ctx, e.fn, row))
    if not isinstance(fn, f.TArrow):
        raise fail("t-app1", f"applying a value of type {show_type(fn)}, not a function", e.fn.span)
    dependent = fn.binder is not None and fn.binder in ty.free_values(fn.cod)
    rule = "t-app2" if dependent else "t-app1"
    check_row(fn.row, row, rule, e.span, "the function's")
    arg = infer(ctx, e.arg, row)
    if not ty.equal(arg, fn.dom):
        raise fail(rule, f"argument of type {show_type(arg)}, expected {show_type(fn.dom)}", e.arg.span)
    fire(rule)
    if not dependent:
        return fn.cod
    assert fn.binder is not None
    return ty.subst_value(fn.cod, fn.binder, bound_value(ctx, e.arg, rule))


def bound_value(ctx: Context, v: f.Term, rule: str) -> f.Term:
    """The argument of a dependent function: a value of type Int (a definition unfolded)."""
    while isinstance(v, f.Global) and ctx.globals.get(v.name, (None, None))[1] is not None:
        value = ctx.globals[v.name][1]
        assert value is not None
        v = value
    if isinstance(v, f.Lit | f.Var):
        return v
    raise fail(rule, "the argument of a dependent function must be a value (bind it first: n <- e; f n)",
               v.span)


def check_row(row: f.Row, context: f.Row, rule: str, span: Span | None, whose: str) -> None:
    if ty.row_equiv(row, context):
        return
    missing = ty.missing_labels(row, context)
    reason = f"{whose} effect row {show_row(row)} is not the row of its context {show_row(context)}"
    if missing and context.tail == row.tail:
        ops = ", ".join(missing)
        raise UnhandledEffect(f"unhandled operation {ops}: {reason}", span, rule, missing, context)
    raise fail(rule, reason, span)


def _tapp(ctx: Context, e: f.TyApp, row: f.Row) -> f.Type:
    """t-tapp: e : ∀a:κ. τ | ε and ⊢wf σ : κ give e σ : τ[a:=σ] | ε"""
    fn = ty.whnf(infer(ctx, e.fn, row))
    if not isinstance(fn, f.TForall):
        raise fail("t-tapp", f"type application of a term of type {show_type(fn)}, not ∀", e.span)
    expect_kind(ctx, e.ty, fn.kind, "t-tapp")
    fire("t-tapp")
    return ty.subst(fn.body, fn.name, e.ty)


def _for(ctx: Context, e: f.For, row: f.Row) -> f.Type:
    """t-for: Γ, x:Fin n ⊢ e : τ | ε gives Γ ⊢ for x:Fin n. e : Fin n ⇒ τ | ε"""
    check_bound(ctx, e.bound, "t-for")
    name, body = e.name, e.body
    if depended_on(ctx, name, f.TFin(e.bound)):
        name = ty.fresh_name(name, set(ctx.types) | term_names(body))
        body = rename_value(body, e.name, name)
    elem = infer(ctx.with_value(name, f.TFin(e.bound)), body, row)
    if name in ty.free_values(elem):
        raise fail("t-for", f"the body's type {show_type(elem)} mentions the index {name}", body.span)
    fire("t-for")
    return f.TArray(e.bound, elem)


def _index(ctx: Context, e: f.Index, row: f.Row) -> f.Type:
    """t-prj: e1 : Fin n ⇒ τ | ε and e2 : Fin n | ε give e1.e2 : τ | ε"""
    arr = ty.whnf(infer(ctx, e.array, row))
    if not isinstance(arr, f.TArray):
        raise fail("t-prj", f"projection from a term of type {show_type(arr)}, not an array", e.array.span)
    index = infer(ctx, e.index, row)
    if not ty.equal(index, f.TFin(arr.bound)):
        raise fail("t-prj", f"index of type {show_type(index)}, expected {show_type(f.TFin(arr.bound))}",
                   e.index.span)
    fire("t-prj")
    return arr.elem


def _let(ctx: Context, e: f.Let, row: f.Row) -> f.Type:
    """x ← e1; e2 ≜ (λ^ε x:τ1. e2) e1, τ1 the type of e1 (t-app1 or t-app2 with t-abs)."""
    rhs = infer(ctx, e.rhs, row)
    name, body = e.name, e.body
    if depended_on(ctx, name, rhs):
        name = ty.fresh_name(name, set(ctx.types) | term_names(body))
        body = rename_value(body, e.name, name)
    result = infer(ctx.with_value(name, rhs), body, row)
    fire("t-let")
    if name not in ty.free_values(result):
        return result
    return ty.subst_value(result, name, bound_value(ctx, e.rhs, "t-let"))


def _if(ctx: Context, e: f.If, row: f.Row) -> f.Type:
    cond = infer(ctx, e.cond, row)
    if not ty.equal(cond, f.BOOL):
        raise fail("t-if", f"condition of type {show_type(cond)}, expected Bool", e.cond.span)
    a, b = infer(ctx, e.then, row), infer(ctx, e.orelse, row)
    if not ty.equal(a, b):
        raise fail("t-if", f"branches of types {show_type(a)} and {show_type(b)}", e.span)
    fire("t-if")
    return a


def _prim(ctx: Context, e: f.Prim, row: f.Row) -> f.Type:
    if e.op in ("fst", "snd"):
        pair = ty.whnf(infer(ctx, e.args[0], row))
        if not (isinstance(pair, f.TCon) and pair.name == "Tuple" and len(pair.args) == 2):
            raise fail("t-prim", f"{e.op} takes a pair, given {show_type(pair)}", e.args[0].span)
        fire("t-prim")
        return pair.args[0 if e.op == "fst" else 1]
    params, result = PRIMS[e.op]
    for arg, want in zip(e.args, params, strict=True):
        got = infer(ctx, arg, row)
        if not ty.equal(got, want):
            raise fail("t-prim", f"{e.op} takes {show_type(want)}, given {show_type(got)}", arg.span)
    fire("t-prim")
    return result


def clause_types(ctx: Context, e: f.Handle, row: f.Row) -> tuple[f.Effect, dict[str, f.Type]]:
    """The label handled and the type each clause must have (t-handler, parameterized; τ the
    parameter's type, ρ the answer type constructor, ε the row of the context):

        f_r : ∀a. τ →ε a →ε ρ a
        f_p : ∀ā. ∀b. τ →ε σ1 →ε (τ →ε σ2 →ε ρ b) →ε ρ b
        f_t : ∀a b. (n:Int) →ε τ →ε (Fin n ⇒ (τ →ε ρ a)) →ε (τ →ε (Fin n ⇒ a) →ε ρ b) →ε ρ b
    """
    ops = e.handler.ops()
    if len(ops) != 1:
        raise fail("t-handler", f"a handler has exactly one operation clause (found {len(ops)})",
                   e.handler.span)
    sig = ctx.sigma.get(ops[0])
    if sig is None:
        raise fail("t-handler", f"unknown operation {ops[0]} (declare it: effect {ops[0]} : σ1 -> σ2)",
                   e.handler.span)
    for name in ("return", "traverse"):
        if e.handler.clause(name) is None:
            raise fail("t-handler", f"the handler lacks its {name} clause", e.handler.span)
    expect_kind(ctx, e.answer, f.KArrow(f.STAR, f.STAR), "t-handler")
    expect_kind(ctx, e.param_ty, f.STAR, "t-handler")
    avoid = set(ctx.kinds) | ty.free_tvars(e.answer) | ty.free_tvars(e.param_ty) | ty.free_tvars(row)
    avoid |= {n for n, _ in sig.params} | ty.free_tvars(sig.arg) | ty.free_tvars(sig.result)
    a, b = ty.fresh_name("a", avoid), ty.fresh_name("b", avoid | {"a"})
    n = ty.fresh_name("n", set(ctx.types))
    tau, rho = e.param_ty, e.answer

    def arrow(dom: f.Type, cod: f.Type, binder: str | None = None) -> f.Type:
        return f.TArrow(binder, dom, row, cod)

    def answer(x: str) -> f.Type:
        return f.TApp(rho, f.TVar(x))

    f_r = f.TForall(a, f.STAR, arrow(tau, arrow(f.TVar(a), answer(a))))
    k = arrow(tau, arrow(sig.result, answer(b)))
    f_p: f.Type = f.TForall(b, f.STAR, arrow(tau, arrow(sig.arg, arrow(k, answer(b)))))
    for name, kind in reversed(sig.params):
        f_p = f.TForall(name, kind, f_p)
    bodies = f.TArray(f.Var(n), arrow(tau, answer(a)))
    k_t = arrow(tau, arrow(f.TArray(f.Var(n), f.TVar(a)), answer(b)))
    clauses = arrow(f.INT, arrow(tau, arrow(bodies, arrow(k_t, answer(b)))), n)
    f_t = f.TForall(a, f.STAR, f.TForall(b, f.STAR, clauses))
    return sig, {"return": f_r, sig.label: f_p, "traverse": f_t}


def check_handle(ctx: Context, e: f.Handle, row: f.Row) -> f.Type:
    """t-handle: ⊢h h : l | ε | ρ, e1 : τ | ε and e2 : σ | ⟨l | ε⟩ give handle h e1 e2 : ρ σ | ε"""
    sig, expected = clause_types(ctx, e, row)
    for name, clause in e.handler.clauses:
        if not f.is_value(clause):
            raise fail("t-handler", f"the {name} clause must be a value", clause.span)
        got = infer(ctx, clause, row)
        if not ty.equal(got, expected[name]):
            raise fail("t-handler", f"the {name} clause has type {show_type(got)}, expected "
                       f"{show_type(ty.normalize(expected[name]))}", clause.span)
    fire("t-handler")
    param = infer(ctx, e.param, row)
    if not ty.equal(param, e.param_ty):
        raise fail("t-handle", f"parameter of type {show_type(param)}, expected {show_type(e.param_ty)}",
                   e.param.span)
    body = infer(ctx, e.body, f.Row((sig.label, *row.labels), row.tail))
    fire("t-handle")
    return f.TApp(e.answer, body)


def infer_closed(ctx: Context, e: f.Term, row: f.Row | None = None) -> tuple[f.Type, f.Row]:
    """``• ⊢ e : τ | ε``; without ``row``, the least closed row it needs (labels added one by
    one as the unhandled operations are found)."""
    if row is not None:
        kind_of(ctx, row)
        return ty.normalize(infer(ctx, e, row)), row
    found = f.Row()
    for _ in range(len(ctx.sigma) + 1):
        try:
            return ty.normalize(infer(ctx, e, found)), found
        except UnhandledEffect as err:
            if err.context is not found or any(label not in ctx.sigma for label in err.labels):
                raise
            found = f.Row(found.labels + tuple(err.labels))
    return ty.normalize(infer(ctx, e, found)), found


EXPRESSION_RULES: dict[type, Callable[[Context, Any, f.Row], f.Type]] = {
    f.Var: _var,
    f.Global: _global,
    f.Lit: _lit,
    f.Lam: _lam,
    f.TAbs: _tabs,
    f.Arr: _arr,
    f.Con: _con,
    f.Perform: _perform,
    f.Coerce: _fin,
    f.App: _app,
    f.TyApp: _tapp,
    f.For: _for,
    f.Index: _index,
    f.Let: _let,
    f.If: _if,
    f.Prim: _prim,
    f.Handle: check_handle,
}
