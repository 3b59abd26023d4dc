"""Triggers and trigger chains at run time (docs/triggers.md): ``spec`` (the bundle's records),
``templates`` (rendering compiled message templates), ``runner`` (``Triggers``: what a receipt or the
passing of time makes the chains do, as state changes and scheduled actions)."""
