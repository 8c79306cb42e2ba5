"""Operations routes of the coverage rules: what is in force, and reload without a restart.

`POST /coverage-rules/reload` re-reads the rules directory in the process that receives it; a
broken file answers 422 naming the file, line and reason, and the rules in force stay. With
several API processes, call it on each (or restart them), as for any per-process setting.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from app.api.deps import RuntimeDep
from app.api.security import require
from app.coverage.book import read_rules
from app.coverage.loader import RulesError
from app.errors import Issue, Unprocessable
from app.security.principal import AUTHORIZATIONS_READ, AUTHORIZATIONS_WRITE, Principal

router = APIRouter(prefix="/coverage-rules", tags=["Coverage rules"])


@router.get("", summary="The coverage rules in force, per payer, and the exemptions and routing registry files")
async def rules_in_force(
    runtime: RuntimeDep, _principal: Annotated[Principal, require(AUTHORIZATIONS_READ)]
) -> dict[str, Any]:
    return {"payers": runtime.coverage.current.summary(), "programs": runtime.programs.summary()}


@router.post("/reload", summary="Re-read the coverage rules files (the old rules stay if one is broken)")
async def reload_rules(
    runtime: RuntimeDep, _principal: Annotated[Principal, require(AUTHORIZATIONS_WRITE)]
) -> dict[str, Any]:
    try:
        runtime.questionnaires.reload(read_rules(runtime.coverage.directory))  # DTR data checked against the new rules
        fresh = runtime.coverage.reload()
    except RulesError as exc:
        raise Unprocessable(
            f"coverage rules not reloaded: {exc}",
            issues=[Issue(text=str(exc), code="invalid", expression=f"{exc.file}:{exc.line or 1}")],
        ) from None
    return {"payers": fresh.summary()}
