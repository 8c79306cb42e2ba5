"""The `epa` command (typer): one module per command group, their shared helpers in `common.py`.

`epa = "app.cli:main"` (pyproject.toml) and `python -m app` both start `main`; tests invoke `cli`.
"""

from app.cli.root import cli, main

__all__ = ["cli", "main"]
