"""Shipped coverage rules files (TOML); see docs/coverage-rules.md."""
