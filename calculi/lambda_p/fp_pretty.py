"""Fp AST → text that re-parses to the same AST (ASCII; round trip is a property)."""

from __future__ import annotations

from calculi.lambda_p import fp_syntax as f

# expression levels: 0 open forms and sequences, 1 coercion, 2 ++, 3 + -, 4 *, 5 ==, 6 application,
# 7 projection, 8 atoms
_BINOP = {"++": (2, 3, 2), "+": (3, 3, 4), "-": (3, 3, 4), "*": (4, 4, 5), "==": (5, 6, 6)}


def _paren(text: str, level: int, needed: int) -> str:
    return f"({text})" if level < needed else text


def show_kind(k: f.Kind, atomic: bool = False) -> str:
    if isinstance(k, f.KStar):
        return "*"
    if isinstance(k, f.KEff):
        return "eff"
    text = f"{show_kind(k.dom, True)} -> {show_kind(k.cod)}"
    return f"({text})" if atomic else text


def show_row(r: f.Row) -> str:
    tail = f"| {r.tail}" if r.tail is not None else ""
    return f"<{', '.join(r.labels)}{' ' if tail and r.labels else ''}{tail}>"


def _binder(name: str, k: f.Kind) -> str:
    return name if isinstance(k, f.KStar) else f"{name}:{show_kind(k, True)}"


def show_type(t: f.Type, need: int = 0) -> str:
    """Types at levels 0 (arrows, ∀, λ, arrays), 1 (applications), 2 (atoms)."""
    match t:
        case f.Row():
            return show_row(t)
        case f.TVar(name):
            return name
        case f.TCon("Tuple", args):
            return "(" + ", ".join(show_type(a) for a in args) + ")"
        case f.TCon(name, ()):
            return name
        case f.TCon(name, args):
            return _paren(" ".join([name, *(show_type(a, 2) for a in args)]), 1, need)
        case f.TFin(bound):
            return f"Fin {show(bound)}"
        case f.TArray(bound, elem):
            return _paren(f"Fin {show(bound)} => {show_type(elem)}", 0, need)
        case f.TApp(fn, arg):
            return _paren(f"{show_type(fn, 1)} {show_type(arg, 2)}", 1, need)
        case f.TArrow(binder, dom, row, cod):
            left = f"({binder}:{show_type(dom)})" if binder is not None else show_type(dom, 1)
            mid = "" if row == f.PURE else show_row(row) + " "
            return _paren(f"{left} -> {mid}{show_type(cod)}", 0, need)
        case f.TForall(name, kind, body):
            return _paren(f"forall {_binder(name, kind)}. {show_type(body)}", 0, need)
        case f.TLam(name, kind, body):
            return _paren(f"\\{_binder(name, kind)}. {show_type(body)}", 0, need)
    raise TypeError(f"not an Fp type: {t!r}")


def _string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def show(t: f.Term, need: int = 0) -> str:
    """An expression printed to be read at level ``need`` or looser."""
    match t:
        case f.Lit(value):
            return _string(value) if isinstance(value, str) else str(value)
        case f.Var(name) | f.Global(name):
            return name
        case f.Arr(items):
            return "<" + ", ".join(show(i) for i in items) + ">"
        case f.Con("Tuple", args):
            return "(" + ", ".join(show(a) for a in args) + ")"
        case f.Con(tag, (), None):
            return tag
        case f.Con(tag, (arg,), other) if other is not None:
            return f"{tag}[{show_type(other)}] {show(arg, 8)}"
        case f.Perform(op, row, targs):
            text = f"perform {op}" + ("" if row is None else "^" + show_row(row))
            return text + ("[" + ", ".join(show_type(a) for a in targs) + "]" if targs else "")
        case f.Lam(name, ty, row, body):
            mid = "" if row == f.PURE else show_row(row) + " "
            return _paren(f"\\{mid}({name}:{show_type(ty)}). {show(body)}", 0, need)
        case f.TAbs(name, kind, body):
            return _paren(f"/\\{_binder(name, kind)}. {show(body)}", 0, need)
        case f.For(name, bound, body):
            return _paren(f"for {name}:Fin {show(bound)}. {show(body)}", 0, need)
        case f.If(c, a, b):
            return _paren(f"if {show(c)} then {show(a)} else {show(b)}", 0, need)
        case f.Let(name, rhs, body):
            head = "" if name == "_" else f"{name} <- "
            return _paren(f"{head}{show(rhs, 1)}; {show(body)}", 0, need)
        case f.Coerce(term, ty):
            return _paren(f"{show(term, 2)} |> {show_type(ty, 2)}", 1, need)
        case f.Prim(op, (arg,)):
            return _paren(f"{op} {show(arg, 7)}", 6, need)
        case f.Prim(op, (a, b)):
            level, left, right = _BINOP[op]
            return _paren(f"{show(a, left)} {op} {show(b, right)}", level, need)
        case f.App(fn, arg):
            return _paren(f"{show(fn, 6)} {show(arg, 7)}", 6, need)
        case f.TyApp(fn, ty):
            return _paren(f"{show(fn, 6)} @{show_type(ty, 2)}", 6, need)
        case f.Index(array, index):
            return _paren(f"{show(array, 7)}.{show(index, 8)}", 7, need)
        case f.Handle(answer, param_ty, handler, param, body):
            clauses = ", ".join(f"{name} -> {show(v)}" for name, v in handler.clauses)
            head = f"handle[{show_type(answer)}, {show_type(param_ty)}]"
            text = f"{head} {{{clauses}}} {show(param, 7)} {show(body, 7)}"
            return _paren(text, 6, need)
    raise TypeError(f"not an Fp term: {t!r}")


def show_item(item: f.Item) -> str:
    if isinstance(item, f.Definition):
        return f"def {item.name} = {show(item.value)}"
    if isinstance(item, f.Effect):
        sig: f.Type = f.TArrow(None, item.arg, f.PURE, item.result)
        for name, kind in reversed(item.params):
            sig = f.TForall(name, kind, sig)
        return f"effect {item.label} : {show_type(sig)}"
    if isinstance(item, f.Constant):
        return f"const {item.name} : {show_type(item.ty)} :={item.text}"
    return show(item)
