"""``python -m calculi.linear_ad.bench [--max N]``: the passes are linear in the program.

For program families of growing size n (chains, fan-out, nested diamonds, chains of calls) it
prints the program size |e|, the size ratios |J e|/|e|, |U(J e)|/|e|, |T(U(J e))|/|e|, the work
ratios W(J e)/W(e) and W(T)/W(lin), and the time per operation of each pass (µs/op). All of
them should stay flat as n grows: a quadratic pass shows as µs/op growing with n. The garbage
collector is paused while timing (as ``timeit`` does): its full collections grow with the heap
and would blur the per-operation times of the largest programs.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

from calculi.linear_ad.check import check_program
from calculi.linear_ad.eval import function_work
from calculi.linear_ad.jvp import jvp_name, jvp_program
from calculi.linear_ad.names import Supply
from calculi.linear_ad.primitives import ADD, COS, MUL, SIN
from calculi.linear_ad.rename import canonical
from calculi.linear_ad.syntax import (
    Binding,
    Call,
    Expr,
    FuncDef,
    LetB,
    Lit,
    Prim,
    Program,
    Var,
    block,
    program_size,
    var_of,
)
from calculi.linear_ad.transpose import transpose_name, transpose_program
from calculi.linear_ad.types import REAL, Mixed
from calculi.linear_ad.unzip import lin_name, unzip_program


def _function(name: str, body: Callable[[Supply, Var, list[Binding]], Var], arity: int = 1) -> FuncDef:
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


def calls(n: int) -> Program:
    """x_{i+1} = g(x_i) × x_i with g(x) = sin(x) × x: n/4 calls, each with its own tape."""
    g = _function("g", lambda s, x, out: _let(s, out, Prim(MUL, (Prim(SIN, (x,)), x))))

    def body(s: Supply, x: Var, out: list[Binding]) -> Var:
        for _ in range(max(1, n // 4)):
            c = _let(s, out, Call("g", (x,), ()), "c")
            x = _let(s, out, Prim(MUL, (c, x)))
        return x

    return Program((g, _function("f", body)))


FAMILIES: dict[str, Callable[[int], Program]] = {
    "chain": chain, "fan-out": fan_out, "diamonds": diamonds, "calls": calls,
}


def measure(program: Program) -> dict[str, float]:
    """Sizes, work ratios and µs/op of each pass; the collector is paused while timing, as timeit does."""
    gc.collect()
    gc.disable()
    try:
        return _measure(program)
    finally:
        gc.enable()


def _measure(program: Program) -> dict[str, float]:
    typing = check_program(program)
    name = program.defs[-1].name
    ops = function_work(typing, name)
    t0 = time.perf_counter()
    j = jvp_program(typing, name)
    t1 = time.perf_counter()
    tj = check_program(j)
    t2 = time.perf_counter()
    u = unzip_program(tj, jvp_name(name))
    t3 = time.perf_counter()
    tu = check_program(u.program)
    t4 = time.perf_counter()
    lin = lin_name(jvp_name(name))
    t = transpose_program(tu, lin)
    t5 = time.perf_counter()
    tt = check_program(t)
    t6 = time.perf_counter()
    size = program_size(program)
    us = 1e6 / max(1, ops)
    return {
        "ops": ops, "size": size,
        "|J|/|e|": program_size(j) / size, "|U|/|e|": program_size(u.program) / size,
        "|T|/|e|": program_size(t) / size,
        "W(J)/W": function_work(tj, jvp_name(name)) / ops,
        "W(T)/W(lin)": function_work(tt, transpose_name(lin)) / function_work(tu, lin),
        "J µs/op": (t1 - t0) * us, "U µs/op": (t3 - t2) * us, "T µs/op": (t5 - t4) * us,
        "check µs/op": (t2 - t1 + t4 - t3 + t6 - t5) / 3 * us,
    }




def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calculi.linear_ad.bench", description=__doc__)
    parser.add_argument("--max", type=int, default=10_000, help="largest program, in operations")
    parser.add_argument("--families", nargs="*", default=list(FAMILIES), choices=list(FAMILIES))
    opts = parser.parse_args(argv)
    sizes = [n for n in (10, 100, 1_000, 10_000, 100_000) if n <= opts.max]
    columns = ["ops", "size", "|J|/|e|", "|U|/|e|", "|T|/|e|", "W(J)/W", "W(T)/W(lin)", "J µs/op",
               "U µs/op", "T µs/op", "check µs/op"]
    for family in opts.families:
        print(f"\n{family}")
        print("  ".join(f"{c:>11}" for c in columns))
        rows = []
        for n in sizes:
            row = measure(FAMILIES[family](n))
            rows.append(row)
            cells = (f"{row[c]:>11.0f}" if c in ("ops", "size") else f"{row[c]:>11.2f}" for c in columns)
            print("  ".join(cells))
        first, last = rows[min(1, len(rows) - 1)], rows[-1]
        growth = {c: last[c] / first[c] for c in columns[2:] if first[c]}
        print(f"  growth from {first['ops']:.0f} to {last['ops']:.0f} operations (flat is ≈ 1): " +
              ", ".join(f"{c} {g:.2f}" for c, g in growth.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
