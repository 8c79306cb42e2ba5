"""An estimate in words, for `$validate` issues, the console and the CLI (pure)."""

from __future__ import annotations

from app.requirements.risk.features import ItemFeatures
from app.requirements.risk.model import Estimate

NO_MODEL = "denial risk: no model trained yet (the worker trains one nightly; `epa risk train` trains one now)"


def reason_label(code: str) -> str:
    """A reason code without its system ("https://codesystem.x12.org/...|N" -> "N")."""
    return code.rsplit("|", 1)[-1]


def _profile(features: ItemFeatures) -> str:
    said = [
        "with documentation" if features.documentation else "without documentation",
        "with a referral" if features.referral else "without a referral",
        "with a diagnosis" if features.diagnosis else "without a diagnosis",
    ]
    return ", ".join(said)


def describe(features: ItemFeatures, estimate: Estimate, min_sample: int) -> str:
    """One sentence: the probability and the sample it rests on, the reasons, what would lower it."""
    cell = f"{features.payer}, service family {features.family}, {features.kind}"
    if estimate.probability is None:
        return f"denial risk: not enough history ({estimate.sample} decided items for {cell}; {min_sample} needed)"
    text = (
        f"denial risk {estimate.probability:.0%}: {estimate.similar} of {estimate.sample} decided items for {cell} "
        f"were sent like this one ({_profile(features)})"
    )
    if estimate.payer_rate is not None:
        text += f"; {features.payer} overall {estimate.payer_rate:.0%}"
    if estimate.reasons:
        text += "; top denial reasons: " + ", ".join(f"{reason_label(c)} ({n})" for c, n in estimate.reasons)
    for lack in estimate.lacking:
        text += (
            f"; approved items more often had {lack.factor} "
            f"({lack.approved_share:.0%} of approved, {lack.denied_share:.0%} of denied)"
        )
    if estimate.lower:
        text += "; would lower it: " + ", ".join(f"{a.factor} ({a.probability:.0%})" for a in estimate.lower)
    return text
