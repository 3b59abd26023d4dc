"""loyadsl: loyalty programmes as code.

In a source checkout (and an editable install) the runtime, the grammar, the standard mechanics and
the CLI live in top-level folders next to this package; the wheel moves them inside it. Extending
``__path__`` makes ``loyadsl.runtime`` and friends resolve the same way in both cases, without ever
exposing a bare ``runtime`` or ``cli`` import name.
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

_checkout_root = Path(__file__).resolve().parent.parent
if (_checkout_root / "runtime" / "__init__.py").is_file() and not (
    Path(__file__).resolve().parent / "runtime"
).exists():
    __path__.append(str(_checkout_root))  # noqa: F821  (module __path__ exists at import time)


def resource_dir(name: str) -> Path:
    """Where a data folder (``grammar``, ``stdlib_mechanics``) lives, installed or in a checkout."""
    inside = Path(__file__).resolve().parent / name
    return inside if inside.is_dir() else _checkout_root / name
