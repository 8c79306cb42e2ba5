"""Operator commands of `epa`: authorizations, jobs, webhooks, payers, db history/downgrade.

Each runs one unit of work against the configured database as operations (every client's rows),
prints ids, codes and states only (never PHI), and stops with one `epa: ...` line on an error.
"""
