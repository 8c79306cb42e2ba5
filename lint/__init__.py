"""House rules that import-linter checks with contract types of our own (see `.importlinter`)."""
