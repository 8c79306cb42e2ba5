"""Documentation Templates and Rules (Da Vinci DTR 2.2.0): the payer's questionnaires as data.

The face of the room: the questionnaires in force (`CatalogHolder`, held by the Runtime and
reloaded with the coverage rules), for `epa rules check` `read_catalog`, and the
`$questionnaire-package` use case. docs/dtr.md.
"""

from app.documentation.adaptive import answer_next_question
from app.documentation.catalog import Catalog, CatalogHolder, Package, PayerQuestionnaires, read_catalog
from app.documentation.checks import QuestionnaireDataError
from app.documentation.error_reports import log_questionnaire_errors, questionnaire_error_reports
from app.documentation.packages import PackageDeps, questionnaire_package
from app.documentation.responses import (
    asked_questionnaire_findings,
    check_submitted_answers,
    graded_findings,
    questionnaire_findings,
)
from app.documentation.terminology import expand_value_set

__all__ = [
    "Catalog",
    "CatalogHolder",
    "Package",
    "PackageDeps",
    "PayerQuestionnaires",
    "QuestionnaireDataError",
    "answer_next_question",
    "asked_questionnaire_findings",
    "check_submitted_answers",
    "expand_value_set",
    "graded_findings",
    "log_questionnaire_errors",
    "questionnaire_error_reports",
    "questionnaire_findings",
    "questionnaire_package",
    "read_catalog",
]
