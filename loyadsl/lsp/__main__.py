"""``python -m loyadsl.lsp``: the same server as ``loya lsp``."""

from loyadsl.lsp.server import serve

serve()
