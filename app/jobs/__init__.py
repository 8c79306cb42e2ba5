"""The job queue and the worker loop: every piece of background work is a row of `jobs`.

- `repository`: the queue's statements (enqueue in the caller's transaction, claim with
  `FOR UPDATE SKIP LOCKED`, leases and heartbeats, backoff, dead letters). Nothing here commits.
- `planning`: the one helper for "plan, move or settle the job of this kind for this authorization".
- `contract`: what a handler sees (`JobContext`) and may answer (`Reschedule`, `Completed`, `JobError`).
- `outcomes`: what a run's end writes (completion, reschedule, or the failure in its own transaction).
- `loop`: the `Worker` (claims, runs handlers with bounded concurrency, heartbeats, stops gracefully).
- `wakeups`: workers woken at once by new due jobs (in-process doorbell; LISTEN/NOTIFY on PostgreSQL).
- `queries`: the operations read side (list, show, retry a dead job).

Rooms bring their own handlers (their face's `handlers(deps)`); `app.worker` merges them.
"""

from app.jobs.contract import Completed, Handler, JobContext, JobError, JobOutcome, Reschedule
from app.jobs.repository import Clock, JobState, enqueue, utc_now

__all__ = [
    "Clock",
    "Completed",
    "Handler",
    "JobContext",
    "JobError",
    "JobOutcome",
    "JobState",
    "Reschedule",
    "enqueue",
    "utc_now",
]
