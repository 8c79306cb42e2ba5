"""The aggregate's information requests: an answer that pends and asks for documents, the documents
arriving, the payer deciding after them, and the due clock's event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.authorization import Authorization, Change
from app.domain.codes import AuthorizationStatus as S
from app.domain.codes import ReviewAction as A
from app.domain.lifecycle import InvalidTransition
from app.domain.model import Coding, InformationRequest, ItemDecision, PayerReply, ServiceItem

NOW = datetime(2030, 1, 2, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
DUE = NOW + timedelta(days=7)
VALIDITY = timedelta(days=90)
NOTE = Coding("http://loinc.org", "11506-3")


def _new() -> Authorization:
    authorization, _ = Authorization.received(
        [ServiceItem(1, Coding("https://hcpcs", "E0470"))], now=NOW, due_at=NOW + timedelta(days=7)
    )
    return authorization


def _answer(authorization: Authorization, action: A, asked: InformationRequest | None = None) -> Change:
    reply = PayerReply((ItemDecision(1, action),), information_request=asked)
    return authorization.answer(
        {1: ItemDecision(1, action)}, now=LATER, timeline_type="payer-answered", approval_validity=VALIDITY, reply=reply
    )


def test_a_pending_answer_that_asks_for_documents_is_info_requested_with_its_due_time() -> None:
    authorization = _new()
    change = _answer(authorization, A.PENDED, InformationRequest((NOTE,), "send notes", DUE))

    assert authorization.status is S.INFO_REQUESTED
    assert authorization.info_due_at == DUE
    assert [e.type for e in change.timeline] == ["payer-answered", "info-requested"]
    assert change.timeline[1].detail == {
        "codes": ["http://loinc.org|11506-3"],
        "due_at": DUE.isoformat(),
        "text": "send notes",
    }
    assert change.notifications == ("authorization.info-requested",)
    assert change.info_due_moved is True
    assert authorization.status.is_open
    assert authorization.decided_at is None


def test_a_later_plain_pend_keeps_the_request_open_and_its_due_time() -> None:
    authorization = _new()
    _answer(authorization, A.PENDED, InformationRequest((NOTE,), None, DUE))

    change = _answer(authorization, A.PENDED)

    assert authorization.status is S.INFO_REQUESTED
    assert authorization.info_due_at == DUE
    assert change.notifications == ()
    assert change.info_due_moved is False


def test_documents_send_it_back_to_review_and_the_decision_settles_it() -> None:
    authorization = _new()
    _answer(authorization, A.PENDED, InformationRequest((NOTE,), None, DUE))

    attached = authorization.attach(2, now=LATER)

    assert (attached.before, attached.after) == (S.INFO_REQUESTED, S.PENDED)
    assert attached.timeline[0].type == "attachments-received"
    assert attached.timeline[0].detail == {"count": 2}
    assert attached.notifications == ("authorization.pended",)
    assert authorization.info_due_at is None
    _answer(authorization, A.CERTIFIED)
    assert authorization.status is S.APPROVED
    assert authorization.decided_at == LATER


def test_the_payer_may_decide_without_the_documents() -> None:
    authorization = _new()
    _answer(authorization, A.PENDED, InformationRequest((NOTE,), None, DUE))

    _answer(authorization, A.NOT_CERTIFIED)

    assert authorization.status is S.DENIED
    assert authorization.info_due_at is None


def test_documents_while_the_payer_reviews_anyway_keep_the_status() -> None:
    authorization = _new()
    _answer(authorization, A.PENDED)

    change = authorization.attach(1, now=LATER)

    assert (change.before, change.after, change.notifications) == (S.PENDED, S.PENDED, ())
    assert change.timeline[0].type == "attachments-received"


@pytest.mark.parametrize("action", [A.CERTIFIED, A.NOT_CERTIFIED])
def test_documents_for_a_decided_request_are_refused(action: A) -> None:
    authorization = _new()
    _answer(authorization, action)

    with pytest.raises(InvalidTransition):
        authorization.attach(1, now=LATER)


def test_the_due_time_passing_is_an_event_and_a_notification_the_status_stays() -> None:
    authorization = _new()
    _answer(authorization, A.PENDED, InformationRequest((NOTE,), None, DUE))
    version = authorization.version

    change = authorization.information_overdue(now=DUE)

    assert authorization.status is S.INFO_REQUESTED
    assert change.timeline[0].type == "info-overdue"
    assert change.timeline[0].detail == {"due_at": DUE.isoformat()}
    assert change.notifications == ("authorization.info-overdue",)
    assert authorization.version == version + 1


def test_the_payer_repeating_its_request_is_no_news_a_new_due_time_is() -> None:
    authorization = _new()
    _answer(authorization, A.PENDED, InformationRequest((NOTE,), None, DUE))

    repeated = _answer(authorization, A.PENDED, InformationRequest((NOTE,), None, DUE))
    moved = _answer(authorization, A.PENDED, InformationRequest((NOTE,), None, DUE + timedelta(days=3)))

    assert [e.type for e in repeated.timeline] == ["payer-answered"]
    assert repeated.info_due_moved is False
    assert [e.type for e in moved.timeline] == ["payer-answered", "info-requested"]
    assert moved.info_due_moved is True
    assert authorization.info_due_at == DUE + timedelta(days=3)
