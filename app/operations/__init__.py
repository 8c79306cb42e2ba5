"""The operations room: the read side behind the operations API, the console and the CLI.

Worklists and one authorization in full (with its timeline, appeals and documents) from read
models of its own (`worklist`, `queries`); after a lifecycle change (cancel, follow up now, an
appeal, an import), the change is the lifecycle's and this room shows the result.
"""

from app.operations.appeal_views import AppealDocumentView, AppealView
from app.operations.exchange_views import ExchangeList, ExchangeView, exchanges_of
from app.operations.queries import (
    MAX_PAGE,
    OPEN_STATUSES,
    AuthorizationFilter,
    WorklistRow,
    status_counts,
    worklist_rows,
)
from app.operations.schemas import (
    AttachmentList,
    AttachmentView,
    AuthorizationDetail,
    AuthorizationPage,
    AuthorizationSummary,
    CancelResult,
    FollowUpView,
    RefreshResult,
)
from app.operations.service import (
    DetailAnswer,
    attachments_of,
    cancel,
    detail,
    import_carried_over,
    read,
    refresh,
    show,
    worklist,
)

__all__ = [
    "MAX_PAGE",
    "OPEN_STATUSES",
    "AppealDocumentView",
    "AppealView",
    "AttachmentList",
    "AttachmentView",
    "AuthorizationDetail",
    "AuthorizationFilter",
    "AuthorizationPage",
    "AuthorizationSummary",
    "CancelResult",
    "DetailAnswer",
    "ExchangeList",
    "ExchangeView",
    "FollowUpView",
    "RefreshResult",
    "WorklistRow",
    "attachments_of",
    "cancel",
    "detail",
    "exchanges_of",
    "import_carried_over",
    "read",
    "refresh",
    "show",
    "status_counts",
    "worklist",
    "worklist_rows",
]
