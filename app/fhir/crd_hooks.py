"""The CDS Hooks 2.0 hooks CRD answers: the context fields each hook defines, their checks, prefetch templates.

A hook request whose `context` is missing, not an object, or whose order fields are not of the
hook's shape is refused with one OperationOutcome naming each bad field (CRD 2.2.1 makes an
OperationOutcome a must for errors). Prefetch templates use only context fields the hook defines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from app.errors import InvalidRequest, Issue

CRD_VERSION: Final = "2.2.1"
"""The newest CRD version the services implement (app.fhir.crd_versions negotiates 2.0 or 2.2 per request)."""

_PATIENT = {
    "patient": "Patient/{{context.patientId}}",
    "coverage": "Coverage?patient={{context.patientId}}&status=active",
}
_ENCOUNTER = {"encounter": "Encounter/{{context.encounterId}}"}


@dataclass(frozen=True, slots=True)
class HookShape:
    """One hook: its context fields (required, optional), which hold Bundles and which hold reference lists."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    bundles: tuple[str, ...] = ()
    string_lists: tuple[str, ...] = ()
    one_of: tuple[str, ...] = ()
    prefetch: tuple[tuple[str, str], ...] = ()

    @property
    def fields(self) -> frozenset[str]:
        return frozenset((*self.required, *self.optional, *self.one_of))

    def templates(self) -> dict[str, str]:
        return {**_PATIENT, **dict(self.prefetch)}


HOOKS: Final = {
    "order-sign": HookShape(
        required=("userId", "patientId", "draftOrders"), optional=("encounterId",), bundles=("draftOrders",)
    ),
    "order-select": HookShape(
        required=("userId", "patientId", "selections", "draftOrders"),
        optional=("encounterId",),
        bundles=("draftOrders",),
        string_lists=("selections",),
    ),
    "appointment-book": HookShape(
        required=("userId", "patientId", "appointments"), optional=("encounterId",), bundles=("appointments",)
    ),
    # dispatchedOrders (hook 1.0 as CDS Hooks 2.0 publishes it), or the earlier `order` with `task` and `performer`.
    "order-dispatch": HookShape(
        required=("patientId",),
        optional=("performer", "fulfillmentTasks", "task"),
        string_lists=("dispatchedOrders",),
        one_of=("dispatchedOrders", "order"),
        prefetch=(
            ("dispatchedOrders", "ServiceRequest?_id={{context.dispatchedOrders.ServiceRequest.id}}"),
            ("order", "{{context.order}}"),
        ),
    ),
    "encounter-start": HookShape(required=("userId", "patientId", "encounterId"), prefetch=tuple(_ENCOUNTER.items())),
    "encounter-discharge": HookShape(
        required=("userId", "patientId", "encounterId"),
        prefetch=(
            *_ENCOUNTER.items(),
            ("serviceOrders", "ServiceRequest?patient={{context.patientId}}&encounter={{context.encounterId}}"),
            ("deviceOrders", "DeviceRequest?patient={{context.patientId}}&encounter={{context.encounterId}}"),
        ),
    ),
}


def _issue(field: str, text: str, code: str = "invalid") -> Issue:
    return Issue(text=text, code=code, expression=f"context.{field}" if field else "context")


def check_context(hook: str, context: Any) -> dict[str, Any]:
    """The hook's context, or InvalidRequest (400) listing every field that breaks the hook's shape."""
    if not isinstance(context, dict):
        what = "missing" if context is None else "not an object"
        raise InvalidRequest(f"the hook request's context is {what}", issues=[_issue("", f"context is {what}")])
    shape = HOOKS[hook]
    issues: list[Issue] = []
    for field in shape.required:
        if context.get(field) in (None, "", [], {}):
            issues.append(_issue(field, f"{hook} needs context.{field}", "required"))
    if shape.one_of and not any(context.get(field) for field in shape.one_of):
        names = " or ".join(f"context.{f}" for f in shape.one_of)
        issues.append(_issue(shape.one_of[0], f"{hook} needs {names}", "required"))
    for field in ("userId", "patientId", "encounterId", "performer", "order"):
        if field in shape.fields and field in context and not isinstance(context[field], str):
            issues.append(_issue(field, f"context.{field} must be a string"))
    for field in shape.bundles:
        value = context.get(field)
        if value is not None and (not isinstance(value, dict) or value.get("resourceType") != "Bundle"):
            issues.append(_issue(field, f"context.{field} must be a FHIR Bundle"))
    for field in shape.string_lists:
        value = context.get(field)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            issues.append(_issue(field, f"context.{field} must be a list of references (strings)"))
    if issues:
        raise InvalidRequest(f"the {hook} context is not valid", issues=issues)
    return context
