"""Do two models agree in distribution? Outcomes of many seeds of each, compared with stated margins.

Each side is a list of run summaries (``RunResult.summary()`` or ``ReferenceModel.run()``), one
per seed; the two sides use independent random numbers, so differences of means are compared
with Welch standard errors (no pairing). Three outcomes are checked:

- cohort loss: ``|mean_a - mean_b| <= Z_EACH * se``;
- churn by reason: each reason's share of all exits, per run, the same test;
- monthly churn curve: the churn rate of every month, ``max_m |diff_m| / se_m <= Z_CURVE``.

``Z_EACH = 3.29`` is the two-sided 0.1% point of the normal distribution and ``Z_CURVE = 4.0``
keeps the chance that any of 60 months exceeds it by chance below 0.5%, so two equivalent
models pass with about 99% probability; with 30 runs of 1,000 customers a side, a difference
of about 1.3 percentage points in cohort loss fails.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.population import EXIT_REASONS

Z_EACH = 3.29
Z_CURVE = 4.0


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Difference of means along axis 0 and its standard error."""
    difference = a.mean(axis=0) - b.mean(axis=0)
    se = np.sqrt(a.var(axis=0, ddof=1) / len(a) + b.var(axis=0, ddof=1) / len(b))
    return difference, se


def reason_shares(summary: dict) -> np.ndarray:
    counts = np.array([summary["churn_by_reason"][r] for r in EXIT_REASONS], dtype=float)
    return counts / max(1.0, counts.sum())


def disagreements(a: Sequence[dict], b: Sequence[dict], customers: int | None = None) -> list[str]:
    """The outcomes on which runs ``a`` and ``b`` disagree beyond the margins (empty: they agree).

    ``customers`` (the initial cohort of every run) puts a binomial floor under the standard error
    of each month's churn rate: in a month with one or two exits per run (the first month of a
    lock-in, when only life events take anyone) the sample variance of a few seeds is mostly
    luck, and many runs with no exit at all make it far too small.
    """
    if min(len(a), len(b)) < 5:
        raise ValueError("need at least 5 runs a side for standard errors")
    found = []

    def check(name: str, difference: float, se: float, z: float) -> None:
        if abs(difference) > z * se + 1e-12:
            found.append(f"{name}: difference {difference:+.4f}, margin {z} x se {se:.4f}")

    loss = [np.array([s["cohort_loss"] for s in side]) for side in (a, b)]
    check("cohort_loss", *_welch(*loss), Z_EACH)

    shares = [np.array([reason_shares(s) for s in side]) for side in (a, b)]
    differences, ses = _welch(*shares)
    for reason, difference, se in zip(EXIT_REASONS, differences, ses, strict=True):
        check(f"share of exits for {reason}", difference, se, Z_EACH)

    curves = [np.array([s["monthly_churn"] for s in side]) for side in (a, b)]
    differences, ses = _welch(*curves)
    if customers:
        pooled = np.concatenate(curves).mean(axis=0)
        ses = np.maximum(ses, np.sqrt(pooled * (1 - pooled) / customers * (1 / len(a) + 1 / len(b))))
    worst = int(np.argmax(np.abs(differences) / np.maximum(ses, 1e-12)))
    check(f"monthly churn in month {worst + 1}", differences[worst], ses[worst], Z_CURVE)
    return found

