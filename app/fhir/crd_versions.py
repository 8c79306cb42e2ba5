"""CRD version negotiation and configuration options (Da Vinci CRD 2.2.1, dev-1..dev-5, dev-14..dev-17).

Discovery declares, per service, the CRD versions it serves as an array of major.minor strings
(`davinci-crd.version`, never a patch number) and the configuration options the EHR may set
(`davinci-crd.configuration-options`, one per card type the service can return). A hook request
names the version it wants in `extension."davinci-crd.requestedVersion"`; a request that names none
comes from a client that predates versioning and is answered in 2.0.1 shapes. A version the service
does not serve is refused with 400 and an OperationOutcome naming the supported ones. The request's
`davinci-crd.configuration` is obeyed for the options declared; unknown options are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from app.errors import InvalidRequest, Issue

VERSION_EXTENSION: Final = "davinci-crd.version"
REQUESTED_VERSION_EXTENSION: Final = "davinci-crd.requestedVersion"
CONFIGURATION_OPTIONS_EXTENSION: Final = "davinci-crd.configuration-options"
CONFIGURATION_EXTENSION: Final = "davinci-crd.configuration"

CRD_2_0: Final = "2.0"
"""CRD 2.0 (2.0.1): one `doc-needed` per Coverage Information, card types in the CRD `temp` code system."""
CRD_2_2: Final = "2.2"
"""CRD 2.2 (2.2.1): repeating `doc-needed` (`clinical` and `admin` as two entries), HL7 card types."""
SUPPORTED_VERSIONS: Final = (CRD_2_0, CRD_2_2)
"""Every version each service serves, as declared in discovery (major.minor only)."""
UNVERSIONED_VERSION: Final = CRD_2_0
"""The version a request without `davinci-crd.requestedVersion` is answered in (its client predates versioning)."""


@dataclass(frozen=True, slots=True)
class ConfigurationOption:
    """One option of `davinci-crd.configuration-options`: a card type (CRD Response Types) the EHR can turn off."""

    code: str
    name: str
    description: str
    default: bool = True

    def declared(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "type": "boolean",
            "name": self.name,
            "description": self.description,
            "default": self.default,
        }


COVERAGE_INFO: Final = "coverage-info"
INSTRUCTIONS: Final = "instructions"
EXTERNAL_REFERENCE: Final = "external-reference"
OPTIONS: Final = (
    ConfigurationOption(
        COVERAGE_INFO,
        "Coverage Information",
        "Return the coverage-information systemActions (coverage, prior authorization, documentation needs).",
    ),
    ConfigurationOption(INSTRUCTIONS, "Instructions", "Return the Instructions card that sums up each order."),
    ConfigurationOption(
        EXTERNAL_REFERENCE, "External references", "Return cards linking the payer's documentation requirements."
    ),
)


def declared_extension() -> dict[str, Any]:
    """The `extension` of each service in discovery: the versions served and the configuration options."""
    return {
        VERSION_EXTENSION: list(SUPPORTED_VERSIONS),
        CONFIGURATION_OPTIONS_EXTENSION: [option.declared() for option in OPTIONS],
    }


def _extension(body: dict[str, Any]) -> dict[str, Any]:
    extension = body.get("extension")
    return extension if isinstance(extension, dict) else {}


def requested_version(body: dict[str, Any]) -> str:
    """The CRD version (major.minor) the request asks for, 2.0 when it names none; 400 for one not served.

    A patch number (`2.2.1`) is accepted and read as its major.minor.
    """
    stated = _extension(body).get(REQUESTED_VERSION_EXTENSION)
    if stated is None:
        return UNVERSIONED_VERSION
    if isinstance(stated, str):
        major_minor = ".".join(stated.split(".")[:2])
        if major_minor in SUPPORTED_VERSIONS:
            return major_minor
    supported = ", ".join(SUPPORTED_VERSIONS)
    text = f"CRD version {stated!r} is not supported; this service supports {supported}"
    raise InvalidRequest(
        text, issues=[Issue(text=text, code="not-supported", expression=f"extension.{REQUESTED_VERSION_EXTENSION}")]
    )


def configuration(body: dict[str, Any]) -> dict[str, bool]:
    """Every declared option's value for this request: the request's boolean when it sets one, else the default."""
    asked = _extension(body).get(CONFIGURATION_EXTENSION)
    asked = asked if isinstance(asked, dict) else {}
    return {
        option.code: asked[option.code] if isinstance(asked.get(option.code), bool) else option.default
        for option in OPTIONS
    }
