"""Prometheus metrics: in-process counters for what one process sees, database reads for the rest.

    instruments.py   the in-process metric families (HTTP, $submit, payer calls, finished jobs)
    middleware.py    HTTP requests by route template and status, durations
    payers.py        a payer adapter wrapper that times every call and counts its errors
    database.py      a collector that reads queue, delivery and clock figures from the database at scrape
    queries.py       the statements those figures (and `/readyz`'s worker status) are read with
    readiness.py     what `/readyz` answers: database reachable, schema current, how the worker is doing
    exposition.py    renders one scrape (multi-process aware)

Figures that several processes share (jobs, deliveries, overdue authorizations) are read from
the database when `/metrics` is scraped, so every API process answers the same, whatever number
of workers run. Labels are bounded: route templates, payer ids from the configuration, job
kinds, states and error classes; never an id, a member id or anything a client chose freely.
"""

from app.metrics.instruments import Instruments

__all__ = ["Instruments"]
