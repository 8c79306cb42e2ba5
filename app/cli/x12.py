"""`epa x12 encode FILE` / `epa x12 decode FILE`: the 278 a PAS request becomes, and what a 278
response says, for the people who debug X12 at 3 a.m. Nothing is sent anywhere.

The payer fields of `encode` (sender, receiver, payer id, usage) come from the `x12-278` payer
`--payer ID` of the payers file (`--payers-file`, else EPA_PAYERS_FILE).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from app.cli.common import fail, print_json
from app.errors import InvalidRequest
from app.fhir.submit import parse_submit
from app.payers import PayerConfigError
from app.payers.config import describe_validation_error, load_config
from app.payers.x12_278 import (
    Control,
    Parties,
    X12ProtocolError,
    X12Settings,
    X12SyntaxError,
    decode_response,
    encode_request,
    people_of,
    summary,
    trace_for,
)

x12_cli = typer.Typer(help="X12 278 tools: encode a PAS request, decode a 278 response.", no_args_is_help=True)


def _parties(payer: str, payers_file: Path | None) -> Parties:
    source = payers_file or (Path(os.environ["EPA_PAYERS_FILE"]) if os.environ.get("EPA_PAYERS_FILE") else None)
    if source is None:
        fail("name the payers file with --payers-file (or EPA_PAYERS_FILE)")
    try:
        config = load_config(source)
    except PayerConfigError as exc:
        fail(str(exc))
    entry = next((p for p in config.payers if p.id == payer), None)
    if entry is None or entry.adapter != "x12-278":
        fail(f"payers file {source}: no x12-278 payer {payer!r}")
    try:
        return X12Settings.model_validate(entry.settings).parties()
    except ValidationError as exc:
        fail(f"payer {payer!r}: settings.{describe_validation_error(exc)}")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path} ({exc.strerror or exc})")


@x12_cli.command("encode")
def encode(
    path: Annotated[Path, typer.Argument(help="A PAS request Bundle (JSON).")],
    payer: Annotated[str, typer.Option("--payer", help="The x12-278 payer's id in the payers file.")],
    payers_file: Annotated[Path | None, typer.Option("--payers-file", help="The payers file (TOML).")] = None,
    control: Annotated[int, typer.Option(min=1, max=999_999_999, help="ISA13 / GS06 control number.")] = 1,
) -> None:
    """Print the 278 request (one segment a line) the PAS request Bundle in FILE becomes."""
    parties = _parties(payer, payers_file)
    body = _read(path)
    try:
        parsed = parse_submit(body)
    except InvalidRequest as exc:
        first = exc.issues[0]
        fail(f"{path}: not a valid PAS request: {first.text}" + (f" at {first.expression}" if first.expression else ""))
    request = parsed.request
    trace = trace_for(request.bundle_identifier.key())
    at = datetime.now(UTC)
    text = encode_request(
        request, parties, Control(control, control, at), trace=trace, people=people_of(parsed.bundle_bytes)
    )
    typer.echo(text.replace("~", "~\n"), nl=False)


@x12_cli.command("decode")
def decode(path: Annotated[Path, typer.Argument(help="A 278 response (X12).")]) -> None:
    """Print a 278 response's decisions as JSON: per item, the review action, number, reasons, dates."""
    try:
        text = _read(path).decode("ascii")
    except UnicodeDecodeError:
        fail(f"{path}: not X12 (not ASCII)")
    try:
        print_json(summary(decode_response(text)))
    except (X12SyntaxError, X12ProtocolError) as exc:
        fail(f"{path}: {exc}")
