"""`epa carried-over import`: an active authorization from the patient's previous plan, honoured by the
new payer for the transition window (the same use case as `POST /authorizations/carried-over`)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.authorizations.carry_over import CarryOverBody, Window, carry_over_of, insurer_of
from app.cli.common import fail, print_json, run
from app.jobs import utc_now
from app.operations import AuthorizationDetail, import_carried_over
from app.payers import PayerConfigError
from app.payers.config import describe_validation_error, load_config
from app.settings import Settings

carry_over_cli = typer.Typer(help="Authorizations carried over from a patient's previous plan.", no_args_is_help=True)


def _service(text: str) -> dict[str, Any]:
    """`code`, `system|code`, either with `=quantity`."""
    coded, _, quantity = text.partition("=")
    system, _, code = coded.rpartition("|")
    service: dict[str, Any] = {"code": code}
    if system:
        service["system"] = system
    if quantity:
        service["quantity"] = quantity
    return service


@carry_over_cli.command("import")
def import_(
    client: Annotated[str, typer.Option(help="The client (EHR) the authorization belongs to.")],
    payer: Annotated[str, typer.Option(help="The new payer's id (as configured).")],
    previous_payer: Annotated[str, typer.Option(help="The patient's previous plan.")],
    member: Annotated[str, typer.Option(help="The member id at the new plan.")],
    number: Annotated[str, typer.Option(help="The previous plan's authorization number.")],
    start: Annotated[str, typer.Option(help="First day the previous plan authorized (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option(help="Last day the previous plan authorized (YYYY-MM-DD).")],
    service: Annotated[list[str], typer.Option(help="code, system|code, with =units; repeat for more.")],
    provider: Annotated[str | None, typer.Option(help='The requesting provider, "system|value".')] = None,
) -> None:
    """Import it approved until the earlier of its end and the transition window's; print it as JSON."""
    try:
        body = CarryOverBody.model_validate(
            {
                "payer": payer,
                "previous_payer": previous_payer,
                "member": member,
                "authorization_number": number,
                "period": {"start": start, "end": end},
                "services": [_service(s) for s in service],
                "provider": provider,
            }
        )
    except ValidationError as exc:
        fail(describe_validation_error(exc))

    async def work(session: AsyncSession, settings: Settings) -> AuthorizationDetail:
        try:
            configured = {p.id: p for p in load_config(settings.payers_file).payers}
        except PayerConfigError as exc:
            fail(f"payer configuration: {exc}")
        if body.payer not in configured:
            fail(f"no payer {body.payer!r} is configured")
        patterns = [(p.system, p.value) for p in configured[body.payer].patterns]
        return await import_carried_over(
            session,
            carry_over_of(body),
            client_id=client,
            insurer=insurer_of(body.payer, patterns),
            now=utc_now(),
            window=Window.of_days(settings.carry_over_window_days, settings.carry_over_warning_days),
            base_url=settings.base_url,
        )

    print_json(run(work))
