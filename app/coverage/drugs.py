"""Which items are medical-benefit drugs, timed by the drug decision clocks (24 h expedited / 72 h standard).

An item is a drug when its productOrService is
- an NDC (`http://hl7.org/fhir/sid/ndc`) or RxNorm code,
- a HCPCS Level II J-code (J0000-J9999: drugs administered other than by mouth, chemotherapy), or
- any code whose item category is an X12 1365 pharmacy service type (88 pharmacy, 89 free-standing
  prescription drug, 90 mail-order prescription drug, 91 brand-name, 92 generic prescription drug).
Pure functions only; docs/coverage-rules.md ("Decision clocks") says the same.
"""

from __future__ import annotations

import re
from typing import Final

from app.coverage.codes import family_of
from app.domain.model import ServiceItem

NDC: Final = "http://hl7.org/fhir/sid/ndc"
RXNORM: Final = "http://www.nlm.nih.gov/research/umls/rxnorm"
X12_SERVICE_TYPE: Final = "https://codesystem.x12.org/005010/1365"
PHARMACY_SERVICE_TYPES: Final = frozenset({"88", "89", "90", "91", "92"})
_J_CODE = re.compile(r"^J[0-9]{4}$")


def is_drug(item: ServiceItem) -> bool:
    """Whether `item` is a drug: an NDC or RxNorm code, a HCPCS J-code, or a pharmacy service type."""
    product = item.product_or_service
    if product.system in (NDC, RXNORM):
        return True
    if family_of(product.system) == "hcpcs" and _J_CODE.match(product.code.upper()):
        return True
    category = item.category
    return (
        category is not None and category.system in (None, X12_SERVICE_TYPE) and category.code in PHARMACY_SERVICE_TYPES
    )
