"""Hypothesis generators of well-typed Fp programs, built from the typing rules: each form is
drawn for a goal type in a context Γ and a row ε only where its rule can conclude that goal
(t-app1 with the function's row the context's, t-perform only for a label of ε, t-handle around
a body typed in ⟨l | ε⟩, t-for with the index at ``Fin n``, t-tapp at a ∀ over types or rows).

The handlers are parameterized and constant-free (reader, counter state, an accumulator with
ρ a = (a, Int), a two-way choice with ρ a = (a, a), and an operation polymorphic in its type),
so that the typed machine runs every program; their clauses are Fp text, read once per row.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from hypothesis import strategies as st

from calculi.core.syntax import Source
from calculi.lambda_p import fp_syntax as f
from calculi.lambda_p.fp_kinds import Context
from calculi.lambda_p.fp_parse import parse_expr, parse_item
from calculi.lambda_p.fp_pretty import show, show_row

SIGNATURE = """effect ask : () -> Int
effect tick : Int -> Int
effect accum : Int -> ()
effect flip : () -> Bool
effect pick : forall a. (Fin 2 => a) -> a"""

LABELS = ("ask", "tick", "accum", "flip", "pick")


@cache
def context() -> Context:
    """Σ of the generated programs."""
    ctx = Context()
    for line in SIGNATURE.splitlines():
        item = parse_item(Source(line))
        assert isinstance(item, f.Effect)
        ctx.sigma[item.label] = item
    return ctx


_TRAVERSE_ID = ("/\\a b. \\<E> (n:Int) (s:P) (l:Fin n => (P -> <E> a)) (k:P -> <E> (Fin n => a) -> <E> b). "
                "k {next} (for i:Fin n. l.i {inner})")
_TRAVERSE_PAIR = ("/\\a b. \\<E> (n:Int) (s:P) (l:Fin n => (P -> <E> R a)) "
                  "(k:P -> <E> (Fin n => a) -> <E> R b). "
                  "pairs <- (for i:Fin n. l.i {inner}); k {next} (for i:Fin n. fst pairs.i)")
HANDLERS: dict[str, tuple[str, str, str, str, str]] = {
    # label: (ρ, parameter type, return clause body, operation clause, traverse clause)
    "ask": ("\\x. x", "Int", "x", "/\\b. \\<E> (s:P) (u:()) (k:P -> <E> Int -> <E> R b). k s s",
            _TRAVERSE_ID.format(next="s", inner="s")),
    "tick": ("\\x. x", "Int", "x", "/\\b. \\<E> (s:P) (x:Int) (k:P -> <E> Int -> <E> R b). k (s + x) s",
             _TRAVERSE_ID.format(next="(s + n)", inner="(s * 2)")),
    "accum": ("\\x. (x, Int)", "Int", "(x, s)",
              "/\\b. \\<E> (s:P) (x:Int) (k:P -> <E> () -> <E> R b). k (s + x) ()",
              _TRAVERSE_PAIR.format(next="(s + n)", inner="0")),
    "flip": ("\\x. (x, x)", "()", "(x, x)",
             "/\\b. \\<E> (s:P) (u:()) (k:P -> <E> Bool -> <E> R b). r1 <- k () True; r2 <- k () False; "
             "a1 <- fst r1; a2 <- snd r2; (a1, a2)", _TRAVERSE_PAIR.format(next="()", inner="()")),
    "pick": ("\\x. x", "Int", "x",
             "/\\c b. \\<E> (s:P) (opts:Fin 2 => c) (k:P -> <E> c -> <E> R b). k (s + 1) opts.(1 |> Fin 2)",
             _TRAVERSE_ID.format(next="s", inner="(s + 1)")),
}
PAIR = f.TCon("Tuple", (f.INT, f.INT))


@cache
def handle_template(label: str, row: f.Row) -> f.Handle:
    """``handle[ρ, τ] h 0 ()`` for ``label`` in a context of row ``row`` (parameter and body to
    be replaced)."""
    rho, param, ret, op, trav = HANDLERS[label]
    clauses = {
        "return": f"/\\a. \\<E> (s:P) (x:a). {ret}",
        label: op,
        "traverse": trav,
    }
    text_row = show_row(row)[1:-1]
    body = ", ".join(f"{name} -> {c}" for name, c in clauses.items())
    body = body.replace("<E>", f"<{text_row}>").replace("(s:P)", f"(s:{param})")
    body = body.replace("P ->", f"{param} ->")
    body = body.replace("R a", f"(({rho}) a)").replace("R b", f"(({rho}) b)")
    value = "()" if param == "()" else "0"
    term = parse_expr(f"handle[{rho}, {param}] {{{body}}} {value} ()")
    assert isinstance(term, f.Handle)
    return term


def answer(label: str, body: f.Type) -> f.Type:
    rho = HANDLERS[label][0]
    return body if rho == "\\x. x" else (f.TCon("Tuple", (body, f.INT)) if label == "accum" else
                                         f.TCon("Tuple", (body, body)))


Env = tuple[tuple[str, f.Type], ...]
Form = Callable[[f.Type, Env, f.Row, int], f.Term]
"""A rule drawn for a goal type: ``form(goal, Γ, ε, depth)``."""
LET_TYPES: list[f.Type] = [f.INT, f.UNIT, f.TFin(f.Lit(2)), f.TArray(f.Lit(2), f.INT)]
ARGUMENT_TYPES: list[f.Type] = [f.INT, f.BOOL, f.TFin(f.Lit(3))]
LOOP_TYPES: list[f.Type] = [f.INT, f.UNIT]


class Gen:
    """One program's drawing: fresh names, and the goal-directed rules."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.count = 0

    def fresh(self, base: str) -> str:
        self.count += 1
        return f"{base}{self.count}"

    def pick(self, options: list[str]) -> str:
        return str(self.draw(st.sampled_from(options)))

    def int_lit(self) -> f.Term:
        return f.Lit(self.draw(st.integers(0, 9)))

    def value(self, goal: f.Type, env: Env) -> f.Term:
        """A value of type ``goal`` (t-lit, t-fin, t-con, t-array, t-var)."""
        names = [x for x, t in env if t == goal]
        if names and bool(self.draw(st.booleans())):
            return f.Var(self.pick(names))
        match goal:
            case f.TFin(f.Lit(int(n))):
                return f.Coerce(f.Lit(self.draw(st.integers(0, n - 1))), goal)
            case f.TArray(f.Lit(int(n)), elem):
                return f.Arr(tuple(self.value(elem, env) for _ in range(n)))
            case f.TCon("Tuple", args):
                return f.Con("Tuple", tuple(self.value(a, env) for a in args))
            case f.TCon("Bool"):
                return f.Con(self.pick(["True", "False"]))
        return self.int_lit()

    def expr(self, goal: f.Type, env: Env, row: f.Row, depth: int) -> f.Term:
        if depth <= 0:
            performs = goal in (f.INT, f.BOOL, f.UNIT) and any(self.returns(x, goal) for x in row.labels)
            if performs and self.draw(st.booleans()):
                return self.perform(goal, env, row, 0)
            return self.value(goal, env)
        forms: list[Form] = [self.let, self.app, self.poly, *self.specific(goal, row)]
        form: Form | None = self.draw(st.sampled_from([None, *forms]))
        return self.value(goal, env) if form is None else form(goal, env, row, depth - 1)

    def specific(self, goal: f.Type, row: f.Row) -> list[Form]:
        forms: list[Form] = []
        if goal == f.INT:
            forms += [self.prim, self.index, self.coerce, self.fst]
        if goal == f.BOOL:
            forms += [self.compare]
        if isinstance(goal, f.TArray):
            forms += [self.loop, self.loop]
        if goal in (f.INT, f.BOOL, f.UNIT):
            forms += [self.perform] * 6 if any(self.returns(label, goal) for label in row.labels) else []
        if goal in (f.INT, f.BOOL, f.UNIT, PAIR) or isinstance(goal, f.TArray):
            forms += [self.handle] * 3
        if goal in (f.INT, f.UNIT):
            forms += [self.cond]
        return forms

    @staticmethod
    def returns(label: str, goal: f.Type) -> bool:
        return {"ask": f.INT, "tick": f.INT, "accum": f.UNIT, "flip": f.BOOL, "pick": f.INT}[label] == goal

    def let(self, goal: f.Type, env: Env, row: f.Row, depth: int) -> f.Term:
        """x ← e1; e2 (t-app1 and t-abs)."""
        first: f.Type = self.draw(st.sampled_from(LET_TYPES))
        x = self.fresh("x")
        return f.Let(x, self.expr(first, env, row, depth), self.expr(goal, (*env, (x, first)), row, depth))

    def app(self, goal: f.Type, env: Env, row: f.Row, depth: int) -> f.Term:
        """(λ^ε x:τ. e) e' (t-app1, t-abs)."""
        x = self.fresh("y")
        dom: f.Type = self.draw(st.sampled_from(ARGUMENT_TYPES))
        lam = f.Lam(x, dom, row, self.expr(goal, (*env, (x, dom)), row, depth))
        return f.App(lam, self.expr(dom, env, row, depth))

    def poly(self, goal: f.Type, env: Env, row: f.Row, depth: int) -> f.Term:
        """(Λr:eff. Λa. λ^⟨|r⟩ x:a. x) @ε @τ e (t-tabs, t-tapp over a row and a type)."""
        r, a, x = self.fresh("r"), self.fresh("a"), self.fresh("z")
        ident = f.TAbs(r, f.EFF, f.TAbs(a, f.STAR, f.Lam(x, f.TVar(a), f.Row((), r), f.Var(x))))
        return f.App(f.TyApp(f.TyApp(ident, row), goal), self.expr(goal, env, row, depth))

    def prim(self, goal: f.Type, env: Env, row: f.Row, depth: int) -> f.Term:
        args = (self.expr(f.INT, env, row, depth), self.expr(f.INT, env, row, depth))
        return f.Prim(self.pick(["+", "-", "*"]), args)

    def compare(self, goal: f.Type, env: Env, row: f.Row, depth: int) -> f.Term:
        return f.Prim("==", (self.expr(f.INT, env, row, depth), self.expr(f.INT, env, row, depth)))

    def fst(self, goal: f.Type, env: Env, row: f.Row, depth: int) -> f.Term:
        return f.Prim(self.pick(["fst", "snd"]), (self.expr(PAIR, env, row, depth),))

    def cond(self, goal: f.Type, env: Env, row: f.Row, depth: int) -> f.Term:
        return f.If(self.expr(f.BOOL, env, row, depth), self.expr(goal, env, row, depth),
                    self.expr(goal, env, row, depth))

    def index(self, goal: f.Type, env: Env, row: f.Row, depth: int) -> f.Term:
        """e1.e2 (t-prj)."""
        n = f.Lit(self.draw(st.integers(1, 3)))
        return f.Index(self.expr(f.TArray(n, goal), env, row, depth), self.expr(f.TFin(n), env, row, depth))

    def coerce(self, goal: f.Type, env: Env, row: f.Row, depth: int) -> f.Term:
        """e ⊳ Int (t-int)."""
        fins = [t for _, t in env if isinstance(t, f.TFin)]
        fin = self.draw(st.sampled_from(fins)) if fins else f.TFin(f.Lit(3))
        return f.Coerce(self.expr(fin, env, row, depth), f.INT)

    def loop(self, goal: f.Type, env: Env, row: f.Row, depth: int) -> f.Term:
        """for x:Fin n. e (t-for)."""
        assert isinstance(goal, f.TArray)
        x = self.fresh("i")
        return f.For(x, goal.bound, self.expr(goal.elem, (*env, (x, f.TFin(goal.bound))), row, depth))

    def perform(self, goal: f.Type, env: Env, row: f.Row, depth: int) -> f.Term:
        """perform op^ε' τ̄ e (t-perform, t-app1): op's label in ε = ⟨l | ε'⟩."""
        label = self.pick([x for x in row.labels if self.returns(x, goal)])
        rest = list(row.labels)
        rest.remove(label)
        explicit = self.draw(st.booleans())
        targs: tuple[f.Type, ...] = (f.INT,) if label == "pick" else ()
        op = f.Perform(label, f.Row(tuple(rest), row.tail) if explicit else None, targs)
        arguments: dict[str, f.Type] = {"tick": f.INT, "accum": f.INT, "pick": f.TArray(f.Lit(2), f.INT)}
        arg_type = arguments.get(label, f.UNIT)
        return f.App(op, self.expr(arg_type, env, row, depth))

    def handle(self, goal: f.Type, env: Env, row: f.Row, depth: int) -> f.Term:
        """handle h e1 e2 (t-handle, t-handler): the body drawn for ρ⁻¹(goal) in ⟨l | ε⟩."""
        body_goal: f.Type
        if goal == PAIR:
            label, body_goal = self.pick(["accum", "flip"]), f.INT
        else:
            label, body_goal = self.pick(["ask", "tick", "pick"]), goal
        template = handle_template(label, row)
        inner = f.Row((label, *row.labels), row.tail)
        param = self.expr(f.UNIT if label == "flip" else f.INT, env, row, depth - 1)
        body = self.expr(body_goal, env, inner, depth)
        if self.draw(st.booleans()):  # a loop in the handled computation, seen by (traverse)
            i, xs = self.fresh("i"), self.fresh("xs")
            n = f.Lit(self.draw(st.integers(1, 3)))
            elem: f.Type = self.draw(st.sampled_from(LOOP_TYPES))
            loop = f.For(i, n, self.expr(elem, (*env, (i, f.TFin(n))), inner, depth))
            body = f.Let(xs, loop, self.expr(body_goal, (*env, (xs, f.TArray(n, elem))), inner, depth))
        return f.Handle(template.answer, template.param_ty, template.handler, param, body)


GOALS: list[f.Type] = [f.INT, f.INT, f.BOOL, PAIR, f.TArray(f.Lit(2), f.INT), f.UNIT]


@st.composite
def programs(draw: st.DrawFn, row: f.Row | None = None, depth: int = 4) -> tuple[f.Term, f.Type, f.Row]:
    """A closed program, the type it was drawn for, and the row of its context (``row``, or a
    draw of up to two labels left unhandled, a label possibly twice)."""
    if row is None:
        labels = draw(st.lists(st.sampled_from(LABELS), max_size=2))
        row = f.Row(tuple(labels))
    goal: f.Type = draw(st.sampled_from(GOALS))
    gen = Gen(draw)
    return gen.expr(goal, (), row, depth), goal, row


def show_program(value: object) -> str:
    if isinstance(value, tuple) and len(value) == 3:
        term, goal, row = value
        from calculi.lambda_p.fp_pretty import show_type

        return f"{show(term)}  :  {show_type(goal)} | {show_row(row)}"
    return repr(value)
