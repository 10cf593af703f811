"""The fast paths of the pipeline answer to their references, on generated programs.

``renumber`` (canonical names by counting, keeping unchanged sub-trees) is checked against the
foil-based ``rename.canonical`` on every function each pass writes: J, unzip (recomputing every binding, the
policy that moves most code), and transpose. The printer, which writes a body's flat bindings directly, is
checked against rendering its document, at every width. (The fast evaluator answers to the small-step
semantics in ``linear_ad.semantics.agrees_with_eval``.)
"""

from __future__ import annotations

from contextlib import ExitStack

from calculi.core.mutants import patch
from calculi.core.pretty import render
from calculi.linear_ad import jvp as jvp_module
from calculi.linear_ad import transpose as transpose_module
from calculi.linear_ad import unzip as unzip_module
from calculi.linear_ad.ad import stages
from calculi.linear_ad.freevars import free_vars
from calculi.linear_ad.liveness import add_used
from calculi.linear_ad.pretty import Printer, show_program
from calculi.linear_ad.rename import canonical
from calculi.linear_ad.renumber import renumber
from calculi.linear_ad.strategies import show
from calculi.linear_ad.syntax import Block, FuncDef, LetB, Program
from calculi.linear_ad.unzip import recompute_all, save_all
from proofs.linear_ad.fixtures import NONLIN, YOLO, main_of
from proofs.registry import theorem


@theorem("linear_ad.renumber_is_canonical", paper=YOLO, section="§2 (the passes' output)", label="derived",
         statement="renumber(d) = canonical(d), printed hints included, for every function J, U "
                   "(recomputing, so that both halves are rebuilt) and T write; and renumber(d) is d "
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
            stack.enter_context(patch(module, "renumber", spy))
        stages(typing, name, recompute_all)
    assert seen


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
