"""A whole request against its payer's rules: per-item determinations, rule decisions, findings, clocks.

Pure: `assess` takes everything it needs (the storage lookups are done by `app.authorizations.precheck`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.coverage.evaluate import Determination, PayerRules, evaluate
from app.coverage.facts import item_facts
from app.coverage.findings import Finding, FindingKind, pre_submission_findings
from app.coverage.format import OnFindings
from app.coverage.programs import PayerPrograms
from app.domain.clocks import DecisionWindows
from app.domain.codes import Priority, ReviewAction
from app.domain.facts import BundleFacts
from app.domain.model import Coding, ItemDecision, PriorAuthRequest

RULES_DISPOSITION = "Decided by the payer's published coverage rules"


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the rules say about a request, and what would likely get it denied or delayed."""

    determinations: Mapping[int, Determination]
    findings: tuple[Finding, ...]
    on_findings: OnFindings = "warn"
    reason_system: str | None = None
    rules_version: str | None = None

    def rule_decisions(self) -> dict[int, ItemDecision]:
        """Decisions the rules make without the payer: NA (no authorization needed), A3 (not covered)."""
        decisions: dict[int, ItemDecision] = {}
        for sequence, determination in self.determinations.items():
            action = determination.settled
            if action is None:
                continue
            codes: tuple[Coding, ...] = ()
            if action is ReviewAction.NOT_CERTIFIED and determination.reason_code:
                codes = (Coding(system=self.reason_system, code=determination.reason_code),)
            decisions[sequence] = ItemDecision(sequence, action, reason_codes=codes, reason_text=determination.reason)
        return decisions

    def settles(self, request: PriorAuthRequest) -> bool:
        """Whether the rules decide every item that is not cancelled (then the payer is not asked)."""
        decided = self.rule_decisions()
        active = [item for item in request.items if not item.cancelled]
        return bool(active) and all(item.sequence in decided for item in active)

    def submit_findings(self) -> list[Finding]:
        """The findings `$submit` reports (not-covered items are answered A3 instead)."""
        return [f for f in self.findings if f.kind is not FindingKind.NOT_COVERED]

    def windows(self, default: DecisionWindows) -> DecisionWindows:
        """The decision windows: the shortest a matched rule gives, else the payer's."""
        standard = [d.clocks.standard_window_days for d in self._open() if d.clocks.standard_window_days]
        expedited = [d.clocks.expedited_window_hours for d in self._open() if d.clocks.expedited_window_hours]
        return DecisionWindows(
            expedited=timedelta(hours=min(expedited)) if expedited else default.expedited,
            standard=timedelta(days=min(standard)) if standard else default.standard,
        )

    def decision_due(self, received_at: datetime, priority: Priority, default: DecisionWindows) -> datetime:
        """The earliest due time of the items still open, each timed by its kind (drug or medical service):
        its rule's window, else the provider's state's (`[[state_clocks]]`), else the rules file's
        `[defaults]`, else the payer's (payers file). No open item: the payer's medical window."""
        windows = [_item_window(d, priority, default) for d in self.determinations.values() if d.settled is None]
        return received_at + min(windows, default=default.for_priority(priority))

    def exemptions(self) -> dict[int, dict[str, str]]:
        """item sequence -> the registry exemption that made it not-required (id and citation), for the timeline."""
        return {
            sequence: {"exemption": d.exemption, "citation": d.reason or ""}
            for sequence, d in self.determinations.items()
            if d.exemption is not None
        }

    def approval_validity(self, default: timedelta) -> timedelta:
        """How long an approval without a payer period lasts: the shortest rule validity, else the payer's."""
        days = [d.clocks.validity_days for d in self._open() if d.clocks.validity_days]
        return timedelta(days=min(days)) if days else default

    def _open(self) -> list[Determination]:
        return [d for d in self.determinations.values() if d.settled is None and d.rule_id is not None]


def _item_window(determination: Determination, priority: Priority, default: DecisionWindows) -> timedelta:
    clocks, expedited = determination.clocks, priority is Priority.EXPEDITED
    if determination.drug:
        hours = clocks.drug_expedited_window_hours if expedited else clocks.drug_standard_window_hours
        return timedelta(hours=hours) if hours else default.for_item(priority, drug=True)
    if expedited:
        return timedelta(hours=clocks.expedited_window_hours) if clocks.expedited_window_hours else default.expedited
    return timedelta(days=clocks.standard_window_days) if clocks.standard_window_days else default.standard


def assess(
    payer: PayerRules | None,
    request: PriorAuthRequest,
    facts: BundleFacts,
    *,
    today: date,
    duplicates: Mapping[int, str] | None = None,
    programs: PayerPrograms | None = None,
) -> Assessment:
    """Evaluate every item of `request` (then the registry's exemptions) and collect the pre-submission findings."""
    determinations: dict[int, Determination] = {}
    for item in request.items:
        if item.cancelled:
            continue
        per_item = item_facts(request, facts, item)
        found = evaluate(payer, per_item)
        determinations[item.sequence] = programs.exempt(found, per_item) if programs is not None else found
    findings = pre_submission_findings(request, facts, determinations, today=today, duplicates=duplicates)
    book = payer.rules if payer is not None else None
    return Assessment(
        determinations=determinations,
        findings=tuple(findings),
        on_findings=book.on_findings if book else "warn",
        reason_system=book.reason_system if book else None,
        rules_version=book.version if book else None,
    )
