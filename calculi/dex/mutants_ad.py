"""Seeded bugs in reverse mode's rules for pairs, ``case`` and the effects, each killed by a
theorem of ``proofs.dex.ad``:

* ``pair_swapped``: T((a, b), c) sends ``snd c`` to ``a`` and ``fst c`` to ``b``.
* ``case_first_alternative``: the transpose of a ``case`` runs the first alternative's
  transpose whatever the label.
* ``reader_tangent_dropped``: J(with_reader v \\r. e) reads a zero tangent: v̇ is lost.
* ``accum_transposed_as_state``: the cotangent of ``ṙ!i += a`` is read from a ``State``
  reference (``get q!i``) rather than a reader, so the transposed ``for`` turns sequential.
* ``state_forwards``: the transpose of a State loop runs it forwards, not backwards.
* ``put_keeps_cotangent``: T(ṡ := a) hands the state's cotangent to ``a`` but leaves it in the
  state instead of clearing it.
"""

from __future__ import annotations

from calculi.core.mutants import Mutant, patch
from calculi.dex import jvp, spine, transpose
from calculi.dex.cotangents import RefTree
from calculi.dex.jvp_effects import RefInfo
from calculi.dex.syntax import (
    Accum,
    App,
    Case,
    Expr,
    For,
    Handle,
    Index,
    Pair,
    Put,
    Seq,
    Type,
    UnitLit,
    Var,
)
from calculi.dex.tangents import Binding


class _PairSwapped(transpose.Transposer):
    def step(self, e: Expr, ct: Expr, refs: dict[str, RefTree]) -> Expr:
        if isinstance(e, Pair):
            return self.atom(ct, lambda c: Seq(self.go(e.fst, App(Var("snd"), c), refs),
                                               self.go(e.snd, App(Var("fst"), c), refs)))
        return super().step(e, ct, refs)


class _CaseFirst(transpose.Transposer):
    def step(self, e: Expr, ct: Expr, refs: dict[str, RefTree]) -> Expr:
        if isinstance(e, Case):
            first = e.alts[0][1]
            return super().step(Case(e.scrutinee, tuple((lab, first) for lab, _ in e.alts)),
                                ct, refs)
        return super().step(e, ct, refs)


class _AccumAsState(transpose.Transposer):
    def step(self, e: Expr, ct: Expr, refs: dict[str, RefTree]) -> Expr:
        if isinstance(e, Handle) and e.handler == "run_accum":
            reader = self.names.fresh("q")
            self.readers[e.ref] = reader
            return self.atom(ct, lambda c: App(Var("fst"), Handle(
                "run_state", App(Var("snd"), c), None, reader,
                self.go(e.body, App(Var("fst"), c), refs))))
        if isinstance(e, Accum):
            return self.go(e.value, App(Var("get"), self.reader(e.ref)), refs)
        return super().step(e, ct, refs)


class _ReaderDropped(jvp._Jvp):
    def effect(self, e: Expr, out: list[Binding]) -> tuple[Expr, Expr | None, Type] | None:
        if isinstance(e, Handle) and e.handler == "with_reader" and e.init is not None:
            pv, _, tv = self.go(e.init, out)
            self.refs[e.ref] = RefInfo("Read", self.primal(out, "v", pv), None, tv)
            return self.go(e.body, out)
        return super().effect(e, out)


class _StateForwards(transpose.Transposer):
    def backwards(self, loop: For, ct: Expr, refs: dict[str, RefTree]) -> Expr:
        i, n, body = loop.index, loop.type, loop.body
        if isinstance(ct, UnitLit):
            return For(i, n, self.go(body, ct, refs))
        return self.atom(ct, lambda c: For(i, n, self.go(body, Index(c, Var(i)), refs)))


def _put_keeps(self: spine.Spine, e: Expr, ct: Expr) -> None:
    if isinstance(e, Put):
        ref, _ = self.machine.state_ref(e.ref)
        self.send(e.value, self.emit("ct", App(Var("get"), ref)))
        return
    _send(self, e, ct)


_send = spine.Spine.send


MUTANTS = [
    Mutant("dex.ad.pair_swapped", "dex", "T((a, b), c) swaps the projections of c",
           lambda: patch(transpose, "Transposer", _PairSwapped), "dex.ad."),
    Mutant("dex.ad.case_first_alternative", "dex",
           "the transpose of a case takes its first alternative's",
           lambda: patch(transpose, "Transposer", _CaseFirst), "dex.ad."),
    Mutant("dex.ad.reader_tangent_dropped", "dex", "J(with_reader v \\r. e) drops v̇",
           lambda: patch(jvp, "_Jvp", _ReaderDropped), "dex.ad."),
    Mutant("dex.ad.accum_transposed_as_state", "dex",
           "the cotangent of r!i += a is read from a State reference",
           lambda: patch(transpose, "Transposer", _AccumAsState), "dex.ad.transpose_parallel"),
    Mutant("dex.ad.state_forwards", "dex", "the transpose of a State loop runs it forwards",
           lambda: patch(transpose, "Transposer", _StateForwards), "dex.ad."),
    Mutant("dex.ad.put_keeps_cotangent", "dex", "T(s := a) leaves the state's cotangent in place",
           lambda: patch(spine.Spine, "send", _put_keeps), "dex.ad."),
]
