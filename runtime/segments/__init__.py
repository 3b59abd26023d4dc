"""Profile fields, purchase history and segments (docs/segments.md).

``decls``: what the bundle declares (``state.segments``); ``history``: the bounded purchase history a
customer state keeps and its typed changes; ``metrics``: the values segment code reads at a moment;
``engine``: segment membership before and after a receipt, and its events. A programme without
profile fields or segments has ``StateDecls.segments`` None and pays nothing for any of it."""
