"""The transition table over every pair of statuses, generated from the written spec.

The spec (`app.domain.transitions.SPEC`) is the one source: this test reads its rows with a parser of
its own and checks the lifecycle's compiled tables against them for every (status, status) pair and
every (status, event, status) triple, so a table that drifts from the spec fails here. Whether each
row is *right* is pinned by the end-to-end tests in tests/authorizations/, which drive every transition
through HTTP (a row deleted from the spec makes one of them fail: see `bench/mutate.py`).
"""

from __future__ import annotations

import itertools

import pytest

from app.domain.codes import AuthorizationStatus as S
from app.domain.lifecycle import (
    Event,
    InvalidTransition,
    accepts_updates,
    allows,
    can_transition,
    check_transition,
    compile_spec,
)
from app.domain.transitions import SPEC


def _rows() -> set[tuple[str, str, str]]:
    rows = set()
    for line in SPEC.strip().splitlines():
        source, event, target, why = line.split(maxsplit=3)
        assert why.strip(), f"the spec row {line!r} gives no reason"
        rows.add((source, event, target))
    return rows


ROWS = _rows()
PAIRS = {(source, target) for source, _event, target in ROWS}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)), ids=lambda s: s.value)
def test_every_pair_of_statuses_follows_the_spec(current: S, target: S) -> None:
    expected = current == target or (current.value, target.value) in PAIRS
    assert can_transition(current, target) is expected
    if expected:
        check_transition(current, target)
    else:
        with pytest.raises(InvalidTransition):
            check_transition(current, target)


@pytest.mark.parametrize(("current", "event"), list(itertools.product(S, Event)), ids=lambda s: s.value)
def test_every_event_from_every_status_follows_the_spec(current: S, event: Event) -> None:
    for target in S:
        assert allows(current, event, target) is ((current.value, event.value, target.value) in ROWS)


@pytest.mark.parametrize("status", list(S), ids=lambda s: s.value)
def test_updates_are_accepted_where_the_spec_has_a_replaced_row(status: S) -> None:
    assert accepts_updates(status) is ((status.value, "replaced", status.value) in ROWS)


def test_the_spec_names_only_known_statuses_and_events_and_replacing_keeps_the_status() -> None:
    statuses, events = {s.value for s in S}, {e.value for e in Event}
    for source, event, target in ROWS:
        assert {source, target} <= statuses
        assert event in events
        if event == "replaced":
            assert source == target
    assert {event for _s, event, _t in ROWS} == events


def test_final_statuses_have_no_way_out() -> None:
    """Cancelled, expired and a denial upheld on appeal are final: resubmit, never change them (a denial
    changes only by an appeal)."""
    sources = {source for source, _event, _target in ROWS}
    assert {s.value for s in S} - sources == {"cancelled", "expired", "appeal-denied"}
    assert {(event, target) for source, event, target in ROWS if source == "denied"} == {
        ("appealed", "appeal-submitted")
    }


def test_a_malformed_spec_line_is_refused_with_its_number() -> None:
    with pytest.raises(ValueError, match="line 2"):
        compile_spec("received answered approved why\npended answered")
