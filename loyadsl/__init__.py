"""loyadsl: loyalty programmes as code.

The repository keeps ``runtime/``, ``grammar/``, ``stdlib_mechanics/`` and ``cli.py`` at the top
level; symbolic links inside this package make them ``loyadsl.runtime`` and friends, for the
checkout, an editable install and the wheel alike, so no bare ``runtime`` or ``cli`` import name
ever exists.
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"


def resource_dir(name: str) -> Path:
    """Where a data folder of the package (``grammar``, ``stdlib_mechanics``) lives."""
    return Path(__file__).resolve().parent / name
