"""``python -m calculi.linear_ad.bench [--max N] [--double [N]]``: the front end and the passes are
linear in the program.

For program families of growing size n (chains, fan-out, nested diamonds, calls of one helper, many
helpers, chains of helpers each calling the last, lets nested in lets, one long sum) it prints the
number of operations written in the program (``ops``: primitive applications and calls, each once
where it is written), its work W (which counts a call's body at every call and the call itself as
nothing), the program size |e|, the size ratios |J e|/|e|, |U(J e)|/|e|, |T(U(J e))|/|e|, the work
ratios W(J e)/W(e) and W(T)/W(lin), and the time per operation (µs/op) of the parser, the printer,
the checker, the evaluator and each pass, the three re-checks' time and the largest ratio of a
re-check's time to its pass's (``check/pass``). The end-to-end column times ``grad`` (``PIPELINE``) first,
in a process holding only the program's text, as a user's ``grad`` runs. All of them should stay
flat as n grows: a quadratic pass shows as µs/op growing with n. ``--double`` times each family at
n and 2n instead (best of three) and prints the ratio, which is 2 for a linear pass. The nested
families stop at ``MAX_DEPTH`` levels of nesting, where the parser refuses a program with its
position. ``--trade [N]`` prints, at n = N, the work symbolic zeros save (W(J)/W without and with
the zero pass) and what each unzip policy trades: the linear half's work W(lin) against the tape's size.

Times are processor time (``time.process_time``), which other processes on a busy machine disturb
less than wall-clock time. The garbage collector is paused while timing (as ``timeit`` does): its
full collections grow with the heap and would blur the times of the largest programs.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

from calculi.core.syntax import Source
from calculi.linear_ad.ad import linearize
from calculi.linear_ad.check import Typing, check_program
from calculi.linear_ad.eval import Evaluator, evaluate, function_work
from calculi.linear_ad.jvp import jvp_name, jvp_program
from calculi.linear_ad.names import Supply
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.pretty import show_program
from calculi.linear_ad.primitives import ADD, COS, FLOAT, MUL, SIN
from calculi.linear_ad.rename import canonical
from calculi.linear_ad.syntax import (
    MAX_DEPTH,
    Binding,
    Block,
    Call,
    Expr,
    FuncDef,
    LetB,
    Lit,
    Prim,
    Program,
    Var,
    block,
    operations,
    program_size,
    var_of,
)
from calculi.linear_ad.transpose import transpose_name, transpose_program
from calculi.linear_ad.types import REAL, Mixed
from calculi.linear_ad.unzip import POLICIES, Unzipped, lin_name, nonlin_name, unzip_program
from calculi.linear_ad.zeros import zeros_program


def _function(name: str, body: Callable[[Supply, Var, list[Binding]], Expr], arity: int = 1) -> FuncDef:
    supply = Supply()
    params = tuple(supply.binder(f"x{i}") for i in range(arity))
    bindings: list[Binding] = []
    result = body(supply, var_of(params[0]), bindings)
    return canonical(FuncDef(name, params, (REAL,) * arity, (), (), Mixed((REAL,), ()),
                             block(bindings, result)))


def _let(supply: Supply, bindings: list[Binding], rhs: Expr, hint: str = "v") -> Var:
    b = supply.binder(hint)
    bindings.append(LetB((b,), (), rhs))
    return var_of(b)


def chain(n: int) -> Program:
    """x_{i+1} = sin(x_i) × x_i: two operations per step, each variable shared twice."""

    def body(s: Supply, x: Var, out: list[Binding]) -> Var:
        for _ in range(n // 2):
            x = _let(s, out, Prim(MUL, (Prim(SIN, (x,)), x)))
        return x

    return Program((_function("f", body),))


def fan_out(n: int) -> Program:
    """y_{i+1} = y_i + x × r_i: the parameter x is used n/3 times (one dup per use)."""

    def body(s: Supply, x: Var, out: list[Binding]) -> Var:
        y = x
        for i in range(n // 3):
            y = _let(s, out, Prim(ADD, (y, Prim(MUL, (x, Lit(f"{i % 7 + 1}.5"))))))
        return y

    return Program((_function("f", body),))


def diamonds(n: int) -> Program:
    """z_{i+1} = sin(z_i) × cos(z_i) + z_i: nested diamonds of sharing."""

    def body(s: Supply, z: Var, out: list[Binding]) -> Var:
        for _ in range(n // 4):
            a = _let(s, out, Prim(SIN, (z,)))
            b = _let(s, out, Prim(COS, (z,)))
            z = _let(s, out, Prim(ADD, (Prim(MUL, (a, b)), z)))
        return z

    return Program((_function("f", body),))


def _sin_times(s: Supply, x: Var, out: list[Binding]) -> Var:
    return _let(s, out, Prim(MUL, (Prim(SIN, (x,)), x)))


def calls(n: int) -> Program:
    """x_{i+1} = g(x_i) × x_i with g(x) = sin(x) × x: n/4 calls, each with its own tape."""
    g = _function("g", _sin_times)

    def body(s: Supply, x: Var, out: list[Binding]) -> Var:
        for _ in range(max(1, n // 4)):
            c = _let(s, out, Call("g", (x,), ()), "c")
            x = _let(s, out, Prim(MUL, (c, x)))
        return x

    return Program((g, _function("f", body)))


def helpers(n: int) -> Program:
    """n/2 helpers h_i(x) = sin(x) × x, and f calling each once in turn: many small functions."""
    hs = [_function(f"h{i}", _sin_times) for i in range(max(1, n // 2))]

    def body(s: Supply, x: Var, out: list[Binding]) -> Var:
        for h in hs:
            x = _let(s, out, Call(h.name, (x,), ()), "c")
        return x

    return Program((*hs, _function("f", body)))


def call_chain(n: int) -> Program:
    """h_0(x) = sin(x), h_i(x) = h_{i-1}(x) × x: calls nested n/2 deep."""
    hs = [_function("h0", lambda s, x, out: Prim(SIN, (x,)))]

    def body(s: Supply, x: Var, out: list[Binding]) -> Expr:
        return Prim(MUL, (_let(s, out, Call(hs[-1].name, (x,), ())), x))

    for i in range(1, max(1, n // 2)):
        hs.append(_function(f"h{i}", body))
    return Program(tuple(hs))


def nested_lets(n: int) -> Program:
    """let y = (let y = (… sin(x) …) in sin(y)) in sin(y): lets nested n/2 deep in right-hand sides."""

    def body(s: Supply, x: Var, out: list[Binding]) -> Expr:
        e: Expr = Prim(SIN, (x,))
        for _ in range(max(1, n // 2)):
            b = s.binder("y")
            e = Block((LetB((b,), (), e),), Prim(SIN, (var_of(b),)))
        return e

    return Program((_function("f", body),))


def long_sum(n: int) -> Program:
    """x × 1.5 + x × 2.5 + …: one expression of n/2 terms, nested n/2 deep."""

    def body(s: Supply, x: Var, out: list[Binding]) -> Expr:
        e: Expr = x
        for i in range(max(1, n // 2)):
            e = Prim(ADD, (e, Prim(MUL, (x, Lit(f"{i % 7 + 1}.5")))))
        return e

    return Program((_function("f", body),))


FAMILIES: dict[str, Callable[[int], Program]] = {
    "chain": chain, "fan-out": fan_out, "diamonds": diamonds, "calls": calls, "helpers": helpers,
    "call-chain": call_chain, "nested-lets": nested_lets, "sum": long_sum,
}
NESTED = {"call-chain", "nested-lets", "sum"}
"""The families whose nesting grows with n (up to ``MAX_DEPTH``)."""

NESTED_PART = MAX_DEPTH // 2
"""Past this size a nested family is measured as copies of its program at this size, each called in
turn by ``f`` (see ``sized``): nesting stays under ``MAX_DEPTH`` and the size grows to 10^5."""


def _renamed(e: Expr, names: dict[str, str]) -> Expr:
    """``e`` with its calls renamed (the nested families call only in let right-hand sides)."""
    if isinstance(e, Call):
        return Call(names.get(e.func, e.func), e.args, e.largs)
    if isinstance(e, Block):
        return Block(tuple(LetB(b.binders, b.lbinders, _renamed(b.rhs, names)) if isinstance(b, LetB) else b
                           for b in e.bindings), _renamed(e.result, names))
    return e


def sized(family: str, n: int) -> Program:
    """The program of ``family`` at size n; a nested family larger than ``NESTED_PART`` is
    ``f(x) = g_k(… g_1(x))`` over k = ⌈n / ``NESTED_PART``⌉ renamed copies g_j of its program at n / k."""
    if family not in NESTED or n <= NESTED_PART:
        return FAMILIES[family](n)
    copies = -(-n // NESTED_PART)
    part = FAMILIES[family](n // copies)
    defs: list[FuncDef] = []
    for j in range(copies):
        names = {d.name: f"{d.name}_{j}" for d in part.defs}
        defs.extend(FuncDef(names[d.name], d.params, d.param_types, d.lparams, d.lparam_types, d.result,
                            _renamed(d.body, names)) for d in part.defs)
    tops = [d.name for d in defs if d.name.startswith(f"{part.defs[-1].name}_")]

    def body(s: Supply, x: Var, out: list[Binding]) -> Var:
        for top in tops:
            x = _let(s, out, Call(top, (x,), ()), "g")
        return x

    return Program((*defs, _function("f", body)))


PASSES = ("parse", "print", "check", "eval", "J", "U", "T")
PIPELINE = ("parse", "check", "J", "check J", "U", "check U", "T", "check T", "grad")
"""The stages of ``grad`` in order, each timed once on the previous one's output: the end-to-end time."""
COLUMNS = ["ops", "W", "size", "|J|/|e|", "|U|/|e|", "|T|/|e|", "W(J)/W", "W(T)/W(lin)",
           *(f"{p} µs/op" for p in PASSES), "checks µs/op", "check/pass", "grad µs/op", "e2e µs/op",
           "parse %"]


def timed(results: dict[str, float], label: str, thunk: Callable[[], object]) -> object:
    start = time.process_time()
    value = thunk()
    results[label] = time.process_time() - start
    return value


def seconds(program: Program) -> tuple[dict[str, float], dict[str, float]]:
    """The seconds each front-end stage and pass takes on ``program``, and its sizes and work
    ratios; the collector is paused while timing, as timeit does."""
    gc.collect()
    gc.disable()
    try:
        return _seconds(program)
    finally:
        gc.enable()


def _seconds(program: Program) -> tuple[dict[str, float], dict[str, float]]:
    t: dict[str, float] = {}
    name = program.defs[-1].name
    text = str(timed(t, "print", lambda: show_program(program, unicode=False)))
    t.update(pipeline(text, name))  # (first: nothing built by the timings below is alive yet)
    parsed = timed(t, "parse", lambda: parse_program(Source(text)))
    assert isinstance(parsed, Program)
    typing = check_program(parsed)
    timed(t, "check", lambda: check_program(parsed))
    timed(t, "eval", lambda: evaluate(typing, name, [0.5]))
    j = jvp_program(typing, name)
    timed(t, "J", lambda: jvp_program(typing, name))
    tj = check_program(j)
    u = unzip_program(tj, jvp_name(name))
    timed(t, "U", lambda: unzip_program(tj, jvp_name(name)))
    tu = check_program(u.program)
    lin = lin_name(jvp_name(name))
    tt = check_program(transpose_program(tu, lin))
    timed(t, "T", lambda: transpose_program(tu, lin))
    size = program_size(program)
    shape = {"ops": float(operations(program)), "W": float(function_work(typing, name)), "size": float(size),
             "|J|/|e|": program_size(j) / size, "|U|/|e|": program_size(u.program) / size,
             "|T|/|e|": program_size(tt.program) / size,
             "W(J)/W": function_work(tj, jvp_name(name)) / function_work(typing, name),
             "W(T)/W(lin)": function_work(tt, transpose_name(lin)) / function_work(tu, lin)}
    return t, shape


def pipeline(text: str, name: str) -> dict[str, float]:
    """The seconds of each stage of ``grad`` at 0.5, run once in order (``PIPELINE``)."""
    t: dict[str, float] = {}
    parsed = timed(t, "parse", lambda: parse_program(Source(text)))
    assert isinstance(parsed, Program)
    typing = timed(t, "check", lambda: check_program(parsed))
    assert isinstance(typing, Typing)
    j = timed(t, "J", lambda: jvp_program(typing, name))
    assert isinstance(j, Program)
    tj = timed(t, "check J", lambda: check_program(j))
    assert isinstance(tj, Typing)
    u = timed(t, "U", lambda: unzip_program(tj, jvp_name(name)))
    assert isinstance(u, Unzipped)
    tu = timed(t, "check U", lambda: check_program(u.program))
    assert isinstance(tu, Typing)
    lin = lin_name(jvp_name(name))
    tp = timed(t, "T", lambda: transpose_program(tu, lin))
    assert isinstance(tp, Program)
    tt = timed(t, "check T", lambda: check_program(tp))
    assert isinstance(tt, Typing)

    def grad() -> object:
        tape = Evaluator(tu, FLOAT).call(nonlin_name(jvp_name(name)), [0.5])[0][-1]
        return Evaluator(tt, FLOAT).call(transpose_name(lin), [tape], [1.0])

    timed(t, "grad", grad)
    return {"checks": t["check J"] + t["check U"] + t["check T"], "grad": t["grad"],
            "check/pass": max(t[f"check {p}"] / t[p] for p in ("J", "U", "T")),
            "e2e": sum(t.values()), "e2e parse": t["parse"]}


def best_of(program: Program, rounds: int = 3) -> tuple[dict[str, float], dict[str, float]]:
    runs = [seconds(program) for _ in range(rounds)]
    return {p: min(r[0][p] for r in runs) for p in (*PASSES, "e2e")}, runs[0][1]


def measure(program: Program) -> dict[str, float]:
    """Sizes, work ratios and µs/op of each stage and pass (one run)."""
    t, shape = seconds(program)
    us = 1e6 / max(1.0, shape["ops"])
    return {**shape, **{f"{p} µs/op": t[p] * us for p in (*PASSES, "checks", "grad", "e2e")},
            "check/pass": t["check/pass"], "parse %": 100 * t["e2e parse"] / t["e2e"]}


def doubling(family: str, n: int) -> str:
    """Each stage's best-of-three time at n and 2n, and the ratio (2 for a linear stage)."""
    (small, _), (large, _) = best_of(sized(family, n)), best_of(sized(family, 2 * n))
    cells = "  ".join(f"{p} {small[p] * 1e3:.1f}→{large[p] * 1e3:.1f} ms ×{large[p] / small[p]:.2f}"
                      for p in (*PASSES, "e2e"))
    return f"{family:<12} n={n:<6} {cells}"


TRADE_POLICIES = ("save-all", "recompute-all", "save-coefficients")


def trade(family: str, n: int) -> str:
    """Work saved by symbolic zeros, W(J)/W without and with the zero pass Z, and the pullback's
    trade under each policy: the linear half's work W(lin) against the tape's size |t|."""
    typing = check_program(sized(family, n))
    name = typing.program.defs[-1].name
    work, jn = function_work(typing, name), jvp_name(name)
    tj = check_program(jvp_program(typing, name))
    tz = check_program(zeros_program(tj))
    cells = [f"W(J)/W {function_work(tj, jn) / work:.3f}", f"W(Z∘J)/W {function_work(tz, jn) / work:.3f}"]
    for policy in TRADE_POLICIES:
        _, tu, report = linearize(typing, name, POLICIES[policy])
        cells.append(f"{policy}: W(lin) {function_work(tu, lin_name(jn))} |t| {report.tape_size[jn]}")
    return f"{family:<12} n={n:<6} W {work:<6} " + "  ".join(cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calculi.linear_ad.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max", type=int, default=10_000, help="largest program, in operations")
    parser.add_argument("--families", nargs="*", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument("--double", type=int, nargs="?", const=4_000, metavar="N",
                        help="time each stage at n = N and 2N (nested families: at most "
                             f"{MAX_DEPTH // 4} and twice that)")
    parser.add_argument("--trade", type=int, nargs="?", const=1_000, metavar="N",
                        help="at n = N: W(J)/W without and with symbolic zeros, and W(lin) and the tape "
                             f"under {', '.join(TRADE_POLICIES)}")
    opts = parser.parse_args(argv)
    if opts.trade:
        for family in opts.families:
            print(trade(family, opts.trade), flush=True)
        return 0
    if opts.double:
        for family in opts.families:
            print(doubling(family, opts.double), flush=True)
        return 0
    for family in opts.families:
        sizes = [n for n in (10, 100, 1_000, 10_000, 100_000) if n <= opts.max]
        print(f"\n{family}")
        print("  ".join(f"{c:>11}" for c in COLUMNS))
        rows = []
        for n in sizes:
            row = measure(sized(family, n))
            rows.append(row)
            cells = (f"{row[c]:>11.0f}" if c in ("ops", "W", "size") else f"{row[c]:>11.2f}" for c in COLUMNS)
            print("  ".join(cells), flush=True)
        first, last = rows[min(1, len(rows) - 1)], rows[-1]
        growth = {c: last[c] / first[c] for c in COLUMNS[3:] if first[c]}
        print(f"  growth from {first['ops']:.0f} to {last['ops']:.0f} operations (flat is ≈ 1): " +
              ", ".join(f"{c} {g:.2f}" for c, g in growth.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
