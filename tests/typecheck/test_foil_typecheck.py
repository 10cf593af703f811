"""Static enforcement: mypy --strict rejects the ill-scoped snippets and accepts the well-scoped ones.

Each line of foil_ill_scoped.py that must fail carries ``# type: ignore[code]``. Two runs:
1. the files as they are, with --warn-unused-ignores: no error at all (so every mark is used,
   i.e. mypy does reject that line, and the well-scoped twins type-check);
2. a copy with the marks removed: errors exactly at the marked lines, with the marked codes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ILL = HERE / "foil_ill_scoped.py"
WELL = HERE / "foil_well_scoped.py"
MARK = re.compile(r"\s*# type: ignore\[([a-z-]+)\]\s*$")
ERROR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")

pytestmark = pytest.mark.typecheck


def test_marked_lines_fail_and_well_scoped_code_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    expected: set[tuple[int, str]] = set()
    stripped: list[str] = []
    for lineno, line in enumerate(ILL.read_text().splitlines(), start=1):
        mark = MARK.search(line)
        if mark:
            expected.add((lineno, mark.group(1)))
            line = line[: mark.start()]
        stripped.append(line)
    assert len(expected) >= 10
    copy = tmp_path / "foil_ill_scoped_unmarked.py"
    copy.write_text("\n".join(stripped) + "\n")
    out, err, status = mypy_api.run(
        ["--strict", "--warn-unused-ignores", "--no-error-summary", "--show-error-codes",
         str(ILL), str(WELL), str(copy)]
    )
    errors = [m for m in map(ERROR.match, (out + err).splitlines()) if m is not None]
    assert status == 1, out + err
    assert not [m.group(0) for m in errors if Path(m["file"]).name != copy.name], out + err
    found = {(int(m["line"]), m["code"]) for m in errors}
    assert found == expected, out + err
