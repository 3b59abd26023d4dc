"""Static analysis of compiled programmes: which campaigns can meet on one receipt (docs/collisions.md)."""
