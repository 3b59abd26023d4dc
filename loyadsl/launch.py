"""The `loya` entry point: names the extra to install when the toolchain is missing.

`pip install loyadsl` installs the till's runtime alone; the command line needs `loyadsl[cli]` (and
`loya simulate` needs `loyadsl[simulate]`). Without them, `loya` says so instead of a traceback.
"""

from __future__ import annotations

import sys

# the toolchain's third-party imports, and the extra that installs each
_EXTRA = {"lark": "cli", "jinja2": "cli", "typer": "cli", "rich": "cli", "yaml": "cli",
          "pyarrow": "simulate"}


def main() -> None:
    try:
        from loyadsl.cli import main as cli_main
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing not in _EXTRA:
            raise
        sys.stderr.write(f"error[LOY730]: the `loya` command needs the toolchain, and {missing} is not installed; "
                         f"install it with: pip install 'loyadsl[{_EXTRA[missing]}]' "
                         f"(`pip install loyadsl` alone is the till's runtime)\n")
        raise SystemExit(2) from None
    cli_main()
