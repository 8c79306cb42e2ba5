"""The shipped sample registry of exemptions and program routing (data only; see docs/coverage-rules.md)."""
