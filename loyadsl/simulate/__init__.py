"""`loya simulate`: replay a history of receipts through a programme (docs/simulate.md)."""
