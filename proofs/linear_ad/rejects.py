"""Negative type checks: programs the checker must reject, each with the reason it must give; and the
fast checker against the reference one, on generated programs and on ill-typed variants of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import fields
from functools import partial
from typing import Any

from hypothesis import strategies as st

from calculi.core.errors import TypeCheckError
from calculi.core.syntax import Node, Source
from calculi.linear_ad.ad import stages
from calculi.linear_ad.check import Typing, check_program
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.strategies import linear_programs, nonlinear_programs, show
from calculi.linear_ad.syntax import Block, Call, FuncDef, LVar, Program, Ret, Tup, TupL, Var
from calculi.linear_ad.transpose import transpose_program
from calculi.linear_ad.types import Mixed, TupleType
from proofs.linear_ad.fixtures import YOLO, main_of
from proofs.registry import theorem

REJECTED = {
    "implicit linear dup": ("def f(x: R ; dx: R) -> (R ; R, R) = (x ; dx, dx)", "used twice (use dup)"),
    "implicit linear drop": ("def f(x: R ; dx: R) -> (R ;) = (x ;)", "never used (use drop)"),
    "implicit non-linear drop": ("def f(x: R, y: R) -> R = x", "y never used (use drop)"),
    "product of two linear values": ("def f(; dx: R, dy: R) -> (; R) = dx * dy", "applied to a linear"),
    "sin of a linear value": ("def f(; dx: R) -> (; R) = sin(dx)", "sin applied to a linear value"),
    "dup in an application": ("def g(; a: R, b: R) -> (; R) = a (+) b\n"
                              "def f(; x: R) -> (; R) = g(; x, x)", "used twice (use dup)"),
    "non-linear value added linearly": ("def f(x: R) -> (; R) = x (+) x", "applied to a non-linear value"),
}


@theorem("linear_ad.types.rejects", paper=YOLO, section="§3 (typing)", label="derived",
         statement="the checker rejects implicit linear dup and drop, implicit non-linear drop, products "
                   "of linear values, sin of a linear value, and transposing non-linear results")
def _() -> None:
    for what, (text, message) in REJECTED.items():
        err = rejection(partial(check_program_text, text))
        assert err is not None, f"accepted {what}: {text}"
        assert message in err.reason and err.span is not None, f"{what}: {err.reason}"
    typing = check_program(parse_program(Source("def f(x: R ; dx: R) -> (R ; R) = (x ; dx)")))
    err = rejection(lambda: transpose_program(typing, "f"))
    assert err is not None and "non-linear results" in err.reason


def check_program_text(text: str) -> Typing:
    return check_program(parse_program(Source(text)))


def rejection(action: Callable[[], object]) -> TypeCheckError | None:
    try:
        action()
    except TypeCheckError as err:
        return err
    return None


# -- the fast checker against the reference ----------------------------------------------------------

Verdict = tuple[object, ...]


def verdict(program: Program, reference: bool) -> Verdict:
    """What a checker makes of ``program``: every table of its ``Typing`` (each function's types in
    its own), or its error."""
    try:
        t = check_program(program, reference=reference)
    except TypeCheckError as err:
        return "rejected", err.reason, err.rule, err.span
    except Exception as err:  # (a crash must be the same crash)
        return "raised", type(err).__name__, str(err)
    return "accepted", t.tables, t.depths, t.calls, list(t.signatures)


def occurrences(node: object) -> list[Node]:
    """The variable occurrences (``Var``, ``LVar``) and calls under ``node``, in the order of its fields."""
    return [n for n in _nodes(node) if isinstance(n, Var | LVar | Call)]


def _children(value: object) -> list[object]:
    if isinstance(value, Node):
        return [value]
    if isinstance(value, tuple):
        return [v for v in value if isinstance(v, Node)]
    return []


def replaced(node: Any, old: Node, new: Node) -> Any:
    """``node`` with the occurrence ``old`` (by identity) replaced by ``new``; the rest shared."""
    if node is old:
        return new
    if not isinstance(node, Node | Program):
        return node
    changes: dict[str, object] = {}
    for f in fields(node):
        value = getattr(node, f.name)
        if isinstance(value, Node):
            changed = replaced(value, old, new)
            if changed is not value:
                changes[f.name] = changed
        elif isinstance(value, tuple):
            items = tuple(replaced(v, old, new) for v in value)
            if any(a is not b for a, b in zip(items, value, strict=True)):
                changes[f.name] = items
    if not changes:
        return node
    copy = object.__new__(type(node))
    for f in fields(node):
        object.__setattr__(copy, f.name, changes.get(f.name, getattr(node, f.name)))
    return copy


def perturbed(program: Program, picks: list[int]) -> Program:
    """One variable occurrence replaced by another name of the program (of either kind, bound or not,
    used elsewhere or not), one call redirected to another function (or to none), or one parameter
    of a function given another type (its own type in a one-tuple)."""
    sites = occurrences(program)
    if picks[2] % 3 == 2 and program.defs:
        d = program.defs[picks[0] % len(program.defs)]
        types = [*d.param_types, *d.lparam_types]
        if types:
            i = picks[1] % len(types)
            types[i] = TupleType((types[i],))
            n = len(d.params)
            retyped = FuncDef(d.name, d.params, tuple(types[:n]), d.lparams, tuple(types[n:]), d.result,
                              d.body, span=d.span)
            return replaced(program, d, retyped)  # type: ignore[no-any-return]
    if not sites:
        return program
    site = sites[picks[0] % len(sites)]
    if isinstance(site, Call):
        funcs = [d.name for d in program.defs] + ["nowhere"]
        call = Call(funcs[picks[1] % len(funcs)], site.args, site.largs, span=site.span)
        return replaced(program, site, call)  # type: ignore[no-any-return]
    names = sorted({v.name for v in sites if isinstance(v, Var | LVar)} | {10**6})
    name = names[picks[1] % len(names)]
    assert isinstance(site, Var | LVar)
    kind = Var if picks[2] % 3 else LVar
    return replaced(program, site, kind(name, site.hint, span=site.span))  # type: ignore[no-any-return]


@theorem("linear_ad.types.fast_checker_agrees", paper=YOLO, section="§3 (typing)", label="derived",
         statement="the fast checker (the common nodes inlined into their parents) and the reference "
                   "checker (every node through its rule) fill the same Typing (the type of every "
                   "expression and binding, in its function's tables, the drops, depths and calls) or "
                   "reject with the same reason, rule and place: "
                   "on the source, J, U and T of generated programs and a generated linear program, each as "
                   "it is and three times perturbed: a variable occurrence replaced (used twice, out of "
                   "scope, of the other kind or type), a call redirected or a parameter retyped; and "
                   "with a result variable moved to the other side",
         given={"program": nonlinear_programs(), "linear": linear_programs(),
                "picks": st.lists(st.integers(0, 2**16), min_size=45, max_size=45)}, show=show)
def _(program: Program, linear: Program, picks: list[int]) -> None:
    for q in variants(program, linear, picks):
        fast, reference = verdict(q, False), verdict(q, True)
        assert fast == reference, f"fast {fast[:4]} ≠ reference {reference[:4]}\n{show(q)}"


def variants(program: Program, linear: Program, picks: list[int]) -> Iterator[Program]:
    """The source, J, U and T of ``program``, and ``linear``: each as it is, three times
    ``perturbed`` (by ``picks``) and ``crossed``."""
    typing, name = main_of(program)
    s = stages(typing, name)
    for i, p in enumerate((program, s.jvp.program, s.unzipped.program, s.transposed.program, linear)):
        yield p
        yield from (perturbed(p, picks[9 * i + k:9 * i + k + 3]) for k in (0, 3, 6))
        yield from crossed(p)


def misplaced_variables(program: Program) -> list[Var | LVar]:
    """The variable occurrences of the other kind than their position: a call's arguments and a
    result's or tuple's variables are non-linear (``Var``), its linear ones linear (``LVar``)."""
    wrong: list[Var | LVar] = []
    for node in _nodes(program):
        groups: list[tuple[tuple[Any, ...], type]] = []
        if isinstance(node, Call):
            groups = [(node.args, Var), (node.largs, LVar)]
        elif isinstance(node, Ret):
            groups = [(node.vars, Var), (node.lvars, LVar)]
        elif isinstance(node, Tup):
            groups = [(node.vars, Var)]
        elif isinstance(node, TupL):
            groups = [(node.lvars, LVar)]
        wrong += [v for vs, kind in groups for v in vs if type(v) is not kind]
    return wrong


def crossed(program: Program) -> list[Program]:
    """The last function with one variable of its result moved to the other side (a linear one among
    the non-linear results, or the other way round) and its declared result changed to match: every
    variable is still bound and used once, only out of place."""
    if not program.defs:
        return []
    d = program.defs[-1]
    ret = d.body.result if isinstance(d.body, Block) else d.body
    if not isinstance(ret, Ret):
        return []
    out: list[Program] = []
    if ret.lvars:
        moved = Ret((*ret.vars, ret.lvars[0]), ret.lvars[1:], span=ret.span)  # type: ignore[arg-type]
        result = Mixed((*d.result.nonlin, d.result.lin[0]), d.result.lin[1:])
        out.append(_with_result(program, d, ret, moved, result))
    if ret.vars:
        moved = Ret(ret.vars[1:], (*ret.lvars, ret.vars[0]), span=ret.span)  # type: ignore[arg-type]
        result = Mixed(d.result.nonlin[1:], (*d.result.lin, d.result.nonlin[0]))
        out.append(_with_result(program, d, ret, moved, result))
    return out


def _with_result(program: Program, d: FuncDef, ret: Ret, moved: Ret, result: Mixed) -> Program:
    body = replaced(d.body, ret, moved)
    new = FuncDef(d.name, d.params, d.param_types, d.lparams, d.lparam_types, result, body, span=d.span)
    return Program((*program.defs[:-1], new))


def _nodes(node: object) -> list[Node]:
    """Every node under ``node`` (itself included), in the order of its fields."""
    found: list[Node] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Node):
            found.append(n)
        if isinstance(n, Node | Program):
            stack.extend(reversed([c for f in fields(n) for c in _children(getattr(n, f.name))]))
    return found


@theorem("linear_ad.types.kinds_in_place", paper=YOLO, section="§3 (typing)", label="derived",
         statement="a program the checker accepts has every variable of the kind of its position (a "
                   "call's, result's or tuple's non-linear places hold non-linear variables, their linear "
                   "places linear ones), on generated programs and their stages, each perturbed as in "
                   "fast_checker_agrees (programs built in code, which the parser cannot write)",
         given={"program": nonlinear_programs(), "linear": linear_programs(),
                "picks": st.lists(st.integers(0, 2**16), min_size=45, max_size=45)}, show=show)
def _(program: Program, linear: Program, picks: list[int]) -> None:
    for q in variants(program, linear, picks):
        for reference in (False, True):
            if rejection(partial(check_program, q, reference=reference)) is None:
                wrong = misplaced_variables(q)
                assert not wrong, f"accepted with {wrong[0].hint} out of place\n{show(q)}"
