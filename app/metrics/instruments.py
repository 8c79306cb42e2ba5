"""The metric families counted in this process, on a registry of their own (one per app)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

# Seconds; from a fast database read to a payer at the end of the sync budget.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
PAYER_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0)


class Instruments:
    """The in-process families, registered on `registry` (this app's, never the global default)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "epa_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "epa_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=HTTP_BUCKETS,
            registry=self.registry,
        )
        self.submit_outcomes = Counter(
            "epa_submit_outcomes",
            "Claim/$submit answers by payer and the request's status after the answer.",
            ["payer", "decision"],
            registry=self.registry,
        )
        self.payer_calls = Histogram(
            "epa_payer_call_duration_seconds",
            "Time of one payer adapter call, by payer and operation (submit, inquire, cancel).",
            ["payer", "operation"],
            buckets=PAYER_BUCKETS,
            registry=self.registry,
        )
        self.payer_errors = Counter(
            "epa_payer_call_errors",
            "Payer adapter calls that raised, by payer, operation and error class.",
            ["payer", "operation", "error_class"],
            registry=self.registry,
        )
        self.jobs_finished = Counter(
            "epa_jobs_finished",
            "Job runs finished by this process's workers, by kind and outcome (done, rescheduled, retry, dead).",
            ["kind", "outcome"],
            registry=self.registry,
        )

    def observe_job(self, kind: str, outcome: str) -> None:
        """A worker's observer (`app.jobs.loop.JobObserver`)."""
        self.jobs_finished.labels(kind, outcome).inc()
