"""Da Vinci DTR 2.2.0: R4B validation of questionnaire data, and the canonical and profile URLs.

The questionnaire data (Questionnaire, Library, ValueSet files beside the coverage rules) is
validated here because only `app/fhir/` imports `fhir.resources`; the rest of the checks (every
canonical resolves, both CQL and ELM present, ...) live in `app.documentation.catalog`.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from app.errors import Issue

logger = logging.getLogger(__name__)

DTR: Final = "http://hl7.org/fhir/us/davinci-dtr"
DTR_VERSION: Final = "2.2.0"
DTR_IG: Final = f"{DTR}/ImplementationGuide/hl7.fhir.us.davinci-dtr|{DTR_VERSION}"
DTR_PAYER_SERVICE: Final = f"{DTR}/CapabilityStatement/dtr-payer-service|{DTR_VERSION}"
OP_QUESTIONNAIRE_PACKAGE: Final = f"{DTR}/OperationDefinition/questionnaire-package"
OP_LOG_ERRORS: Final = f"{DTR}/OperationDefinition/log-questionnaire-errors"
PROFILE_PACKAGE_BUNDLE: Final = f"{DTR}/StructureDefinition/DTR-QPackageBundle"
PROFILE_QR: Final = f"{DTR}/StructureDefinition/dtr-questionnaireresponse"
PROFILE_OUTPUT: Final = f"{DTR}/StructureDefinition/dtr-qpackage-output-parameters"
EXT_QR_CONTEXT: Final = f"{DTR}/StructureDefinition/qr-context"
EXT_INFORMATION_ORIGIN: Final = f"{DTR}/StructureDefinition/information-origin"
EXT_CQF_LIBRARY: Final = "http://hl7.org/fhir/StructureDefinition/cqf-library"
DATA_TYPES: Final = ("Questionnaire", "Library", "ValueSet")
# A canonical: an absolute URI, optionally `|version` (no spaces, one bar at most).
CANONICAL: Final = re.compile(r"[a-z][a-z0-9+.-]*:[^\s|]+(\|[^\s|]+)?")


def validate_resource(document: dict[str, Any], resource_type: str) -> list[Issue]:
    """Validate `document` as an R4B `resource_type`; the failures as Issues with FHIRPath (empty when valid)."""
    if document.get("resourceType") != resource_type:
        return [Issue(f"expected a {resource_type}", "structure", expression="resourceType")]
    try:
        get_fhir_model_class(resource_type).model_validate(document)
    except ValidationError as exc:
        return [_issue(resource_type, error) for error in exc.errors(include_url=False, include_input=False)]
    except Exception as exc:  # fhir.resources raises KeyError/TypeError/... for some malformed input
        logger.info("R4B validation raised %s", type(exc).__name__)
        return [Issue(f"not a valid FHIR R4 {resource_type}", "structure", expression=resource_type)]
    return []


def _issue(root: str, error: Any) -> Issue:
    path = root
    for part in error.get("loc", ()):
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and part and part != "resource_type":
            path += f".{part}"
    message = str(error.get("msg", "invalid value")).split("\n", 1)[0].strip()
    return Issue(message, "required" if error.get("type") == "missing" else "value", expression=path)


def is_canonical(text: object) -> bool:
    """Whether `text` is a canonical URL (`url` or `url|version`)."""
    return isinstance(text, str) and CANONICAL.fullmatch(text) is not None


def split_canonical(canonical: str) -> tuple[str, str | None]:
    """`url|version` -> (url, version); a canonical without a version -> (url, None)."""
    url, bar, version = canonical.partition("|")
    return url, (version if bar else None)
