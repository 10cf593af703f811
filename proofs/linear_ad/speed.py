"""The fast paths of the pipeline answer to their references, on generated programs.

``renumber`` (canonical names by counting, keeping unchanged sub-trees) is checked against the
foil-based ``rename.canonical`` on every function a pass hands it, and on unzip's halves as written before
the linear half's binders are named (every binding of it renamed). Unzip writes its halves with their
canonical names as it builds them (``unzip_names``) and renumbers only a half checkpointing removed code
from: checked against ``canonical`` under every policy, with a seeded bug that misnames the linear half's
binders. The printer, which writes a body's flat bindings directly, is checked against rendering its
document, at every width.
(The fast evaluator answers to the small-step semantics in ``linear_ad.semantics.agrees_with_eval``.)
"""

from __future__ import annotations

from contextlib import ExitStack

from calculi.core.mutants import Mutant, patch
from calculi.core.pretty import render
from calculi.linear_ad import jvp as jvp_module
from calculi.linear_ad import transpose as transpose_module
from calculi.linear_ad import unzip as unzip_module
from calculi.linear_ad.ad import jvp, stages
from calculi.linear_ad.freevars import free_vars
from calculi.linear_ad.jvp import jvp_name
from calculi.linear_ad.liveness import add_used
from calculi.linear_ad.pretty import Printer, show_program
from calculi.linear_ad.rename import canonical
from calculi.linear_ad.renumber import renumber
from calculi.linear_ad.strategies import show
from calculi.linear_ad.syntax import Block, FuncDef, LetB, Program
from calculi.linear_ad.unzip import POLICIES, recompute_all, save_all, unzip_program
from calculi.linear_ad.unzip_names import Lin
from proofs.linear_ad.fixtures import NONLIN, YOLO, main_of
from proofs.registry import register_mutants, theorem


def _binders_unnamed(lin: Lin, residuals: int) -> None:
    """U's linear half as written, before its binders are named: a non-canonical input for renumber."""


@theorem("linear_ad.renumber_is_canonical", paper=YOLO, section="§2 (the passes' output)", label="derived",
         statement="renumber(d) = canonical(d), printed hints included, for every function J, U "
                   "(recomputing) and T write, and for U's halves as written before the linear half's "
                   "binders are named (every binding of the linear half renamed); and renumber(d) is d "
                   "itself when d is canonical already",
         given=NONLIN, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    seen: list[FuncDef] = []

    def spy(d: FuncDef) -> FuncDef:
        fast, reference = renumber(d), canonical(d)
        assert fast == reference, f"renumber ≠ canonical on {d.name}"
        shown = show_program(Program((fast,)))
        assert shown == show_program(Program((reference,))), f"renumber's hints differ on {d.name}"
        assert renumber(reference) is reference, f"a canonical {d.name} was rebuilt"
        seen.append(fast)
        return fast

    with ExitStack() as stack:
        for module in (jvp_module, unzip_module, transpose_module):
            if hasattr(module, "renumber"):  # (a pass that writes canonical names calls it less, or not)
                stack.enter_context(patch(module, "renumber", spy))
        st = stages(typing, name, recompute_all)
    with patch(Lin, "name_binders", _binders_unnamed):
        written = unzip_program(st.jvp, jvp_name(name), save_all).program
    for d in written.defs:
        spy(d)
    assert seen


SAVING = ("save-all", "save-coefficients")
"""The policies that remove nothing from either half: U renames nothing after writing them."""


@theorem("linear_ad.unzip_writes_canonical_names", paper=YOLO, section="§2 (the passes' output)",
         label="derived",
         statement="canonical(d) = d, printed hints included, for both halves of every function U writes "
                   "(helpers and calls included) under every policy, on J and on Z∘J; under save-all "
                   "and save-coefficients U writes them so (no renaming walk)",
         given=NONLIN, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    renamed: list[str] = []

    def spy(d: FuncDef) -> FuncDef:
        renamed.append(d.name)
        return renumber(d)

    for policy, zeros in [*((p, False) for p in POLICIES), ("save-all", True)]:
        j = jvp(typing, name, getattr(POLICIES[policy], "bind_scales", False), zeros)
        renamed.clear()
        with patch(unzip_module, "renumber", spy):
            out = unzip_program(j, jvp_name(name), POLICIES[policy]).program
        assert policy not in SAVING or not renamed, f"{policy}: U renamed {renamed}"
        for d in out.defs:
            reference = canonical(d)
            assert d == reference, f"{policy}: {d.name} is not canonical"
            shown = show_program(Program((d,)))
            assert shown == show_program(Program((reference,))), f"{policy}: {d.name}'s hints differ"


_name_binders = Lin.name_binders


def _binders_one_late(lin: Lin, residuals: int) -> None:
    _name_binders(lin, residuals + 1)


register_mutants([
    Mutant("linear_ad.unzip_names_one_late", "linear_ad",
           "unzip names the linear half's binders one past their canonical names (well-typed, same meaning)",
           lambda: patch(Lin, "name_binders", _binders_one_late), theorems="linear_ad.unzip_writes"),
])


def rendered(program: Program, unicode: bool, width: int) -> str:
    """The printer's reference layout: its whole document, rendered."""
    printer = Printer(unicode)
    return "\n\n".join(render(printer.funcdef(d), width) for d in program.defs)


@theorem("linear_ad.printer_fast_is_render", paper=YOLO, section="§2 (concrete syntax)", label="derived",
         statement="show_program, which writes the flat bindings of a body directly, is the rendering of "
                   "the printer's document (in Unicode at width 100, in ASCII at width 6), for the "
                   "source and every stage J, U and T write",
         given=NONLIN, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    st = stages(typing, name)
    for p in (program, st.jvp.program, st.unzipped.program, st.transposed.program):
        for unicode, width in ((True, 100), (False, 6)):
            assert show_program(p, unicode, width) == rendered(p, unicode, width), (width, unicode)


@theorem("linear_ad.liveness_reads_free_variables", paper=YOLO, section="P5 (unzip's residuals)",
         label="derived",
         statement="the liveness walk's reading of a right-hand side U writes is FV_nl of it, for every "
                   "binding of both halves under save-all and recompute-all",
         given=NONLIN, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    for policy in (save_all, recompute_all):
        for d in stages(typing, name, policy).unzipped.program.defs:
            for b in d.body.bindings if isinstance(d.body, Block) else ():
                if isinstance(b, LetB):
                    live: set[int] = set()
                    add_used(b.rhs, live)
                    assert live == set(free_vars(b.rhs)[0]), d.name
