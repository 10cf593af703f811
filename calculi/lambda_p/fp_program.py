"""An Fp program: the effect signature Σ, top-level definitions and trusted constants, checked
item by item (the REPL's ``:type`` and the typed examples go through here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources

from calculi.core.errors import TypeCheckError
from calculi.core.syntax import Source
from calculi.lambda_p import fp_syntax as f
from calculi.lambda_p import syntax as lp
from calculi.lambda_p.fp_check import infer, infer_closed
from calculi.lambda_p.fp_erase import erase
from calculi.lambda_p.fp_kinds import Context, expect_kind, kind_of
from calculi.lambda_p.fp_parse import parse_item
from calculi.lambda_p.fp_types import normalize
from calculi.lambda_p.parse import parse_term
from calculi.lambda_p.program import items, prelude


@dataclass(slots=True)
class FpProgram:
    ctx: Context = field(default_factory=Context)
    defs: dict[str, f.Term] = field(default_factory=dict)
    trusted: dict[str, lp.Term] = field(default_factory=dict)

    @staticmethod
    def with_prelude() -> FpProgram:
        program = FpProgram()
        program.load(Source(resources.files(__package__).joinpath("fp_prelude.fp").read_text(encoding="utf-8"),
                            "fp_prelude.fp"))
        return program

    def load(self, source: Source) -> list[tuple[f.Term, f.Type, f.Row]]:
        """Every item of a file in turn; the expressions with their types and rows."""
        return [typed for chunk in items(source) if (typed := self.add(chunk)) is not None]

    def parse(self, source: Source) -> f.Item:
        return parse_item(source, self.ctx.globals)

    def add(self, source: Source) -> tuple[f.Term, f.Type, f.Row] | None:
        """Check one item and enter what it defines; an expression's type and least row."""
        item = self.parse(source)
        if isinstance(item, f.Effect):
            scope = Context(self.ctx.sigma, kinds=dict(item.params))
            expect_kind(scope, item.arg, f.STAR, "k-arrow")
            expect_kind(scope, item.result, f.STAR, "k-arrow")
            self.ctx.sigma[item.label] = item
            return None
        if isinstance(item, f.Constant):
            kind_of(self.ctx, item.ty)
            impl = parse_term(Source(item.text, source.filename, source.first_line), prelude())
            self.ctx.globals[item.name] = (item.ty, None)
            self.trusted[item.name] = impl
            return None
        if isinstance(item, f.Definition):
            if not f.is_value(item.value):
                raise TypeCheckError("a definition's body must be a value", item.value.span, rule="t-val")
            t = normalize(infer(self.ctx, item.value, f.PURE))
            self.ctx.globals[item.name] = (t, item.value)
            self.defs[item.name] = item.value
            return None
        t, row = infer_closed(self.ctx, item)
        return item, t, row

    def erase(self, term: f.Term) -> lp.Term:
        return erase(term, self.defs, self.trusted)
