"""Units and visits used, counted against what an approval authorized (`exhausting`, `exhausted`), and the
concurrent review prefilled from the count.

A sub-room of the lifecycle: it imports the room's core, never another sub-room.
"""

from app.authorizations.usage.service import (
    UsageEntry,
    UsageInput,
    UsageLine,
    UsageReport,
    UsageSummary,
    extension_bundle,
    record_charge_item,
    record_usage,
    usage_summary,
)

__all__ = [
    "UsageEntry",
    "UsageInput",
    "UsageLine",
    "UsageReport",
    "UsageSummary",
    "extension_bundle",
    "record_charge_item",
    "record_usage",
    "usage_summary",
]
