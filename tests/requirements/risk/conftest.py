"""The use-case fixtures: a runtime whose clock the test moves."""

from tests.support.runtime import clock, runtime

__all__ = ["clock", "runtime"]
