"""The width-aware printer: groups break only when they do not fit; deep documents do not recurse."""

from __future__ import annotations

from calculi.core.pretty import Doc, group, join, line, nest, render, text


def call(name: str, args: list[Doc]) -> Doc:
    return group(text(name) + "(" + nest(2, join(text(",") + line(), args)) + ")")


def test_fits_on_one_line() -> None:
    assert render(call("f", [text("a"), text("b")]), 80) == "f(a, b)"


def test_breaks_when_too_wide() -> None:
    doc = call("f", [text("alpha"), text("beta"), text("gamma")])
    assert render(doc, 12) == "f(alpha,\n  beta,\n  gamma)"


def test_inner_group_stays_flat_when_it_fits() -> None:
    doc = call("outer", [call("g", [text("x")]), text("y" * 20)])
    assert render(doc, 20) == "outer(g(x),\n  yyyyyyyyyyyyyyyyyyyy)"


def test_ten_thousand_levels_render_without_recursion() -> None:
    doc: Doc = text("x")
    for _ in range(10_000):
        doc = group(text("(") + nest(1, doc) + ")")
    out = render(doc, 80)
    assert out.count("(") == 10_000
    assert out.replace("\n", "").replace(" ", "") == "(" * 10_000 + "x" + ")" * 10_000


def test_left_nested_groups_render_in_linear_time() -> None:
    doc: Doc = text("1")
    for _ in range(3_000):
        doc = group(doc + line() + text("+ 1"))
    out = render(doc, 80)
    assert out.replace("\n", " ").split() == ["1", *["+", "1"] * 3_000]
