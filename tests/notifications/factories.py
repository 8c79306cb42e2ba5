"""Moved to tests/support/rows.py; kept while the operator command tests (moving to tests/cli/) still import it."""

from tests.support.rows import add_authorizations as add_authorizations
from tests.support.rows import make_authorization as make_authorization
