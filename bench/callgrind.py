"""Instructions counted by valgrind's callgrind, for the benchmarks that print them beside their times: the
same on any machine and whatever else runs (run.py ``--callgrind``, load.py ``--callgrind``)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path


def environment() -> dict[str, str]:
    """The children's environment: one hash seed, and ``.pyc`` files written (a child that compiles its
    modules counts that too)."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def instructions(command: list[str], out: Path, env: dict[str, str]) -> int:
    """The instructions ``command`` runs under callgrind (its output written to ``out``, then removed)."""
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *command],
                   check=True, capture_output=True, env=env)
    found = re.search(r"^(?:summary|totals): (\d+)", out.read_text("utf-8", "replace"), re.MULTILINE)
    out.unlink()
    if found is None:
        raise SystemExit(f"no total in {out}")
    return int(found.group(1))
