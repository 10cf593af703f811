"""Make ``import backend`` mean the package, not this test directory.

pytest puts ``tests/`` on ``sys.path`` (its rootdir-relative import mode), where the directory
``tests/backend`` would be found as a namespace package named ``backend`` before the installed
package; the project root goes first instead, as ``python -m pytest`` would arrange.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
for name in [m for m in sys.modules if m == "backend" or m.startswith("backend.")]:
    if getattr(sys.modules[name], "__file__", None) is None:
        del sys.modules[name]
