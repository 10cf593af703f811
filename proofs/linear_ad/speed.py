"""The fast paths of the pipeline answer to their references, on generated programs.

``renumber`` (canonical names by counting, keeping unchanged sub-trees) is checked against the
foil-based ``rename.canonical`` on every function each pass writes: J, unzip (recomputing every binding, the
policy that moves most code), and transpose. (The fast evaluator answers to the small-step semantics in
``linear_ad.semantics.agrees_with_eval``.)
"""

from __future__ import annotations

from contextlib import ExitStack

from calculi.core.mutants import patch
from calculi.linear_ad import jvp as jvp_module
from calculi.linear_ad import transpose as transpose_module
from calculi.linear_ad import unzip as unzip_module
from calculi.linear_ad.ad import stages
from calculi.linear_ad.pretty import show_program
from calculi.linear_ad.rename import canonical
from calculi.linear_ad.renumber import renumber
from calculi.linear_ad.strategies import show
from calculi.linear_ad.syntax import FuncDef, Program
from calculi.linear_ad.unzip import recompute_all
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
