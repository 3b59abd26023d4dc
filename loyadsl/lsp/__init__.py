"""``loya lsp``: the language server that editors talk to (docs/editor.md).

``analysis`` answers the questions (what is declared where, what a name means, what may come next)
from the toolchain's own parser and checker, with no editor protocol in sight; ``server`` speaks
the Language Server Protocol (pygls, the ``lsp`` extra) and turns those answers into its messages.
"""
