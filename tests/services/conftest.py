"""Kept for the operator command tests only, which import these names from here while they are moved to
tests/cli/ in parallel: the helpers are tests.support.clock.MovableClock and the fixtures of
tests.support.runtime. Delete this package once those tests import them from there."""

from tests.support.clock import MovableClock
from tests.support.runtime import clock, runtime

__all__ = ["MovableClock", "clock", "runtime"]
