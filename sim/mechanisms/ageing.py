"""Phase 6, ageing: the clocks of every customer who stayed this month.

Stayers get one month older as customers and one month further from the last personal
contact::

    tenure_months += 1
    months_since_personal_contact += 1

Leavers keep the values of the month they left. Programs advance the clocks of their own
columns in their ``age`` hook, in the same phase (the lock-in program's contract term).
"""

from __future__ import annotations


def age(model) -> None:
    """Advance the clocks of active customers by one month."""
    pop = model.population
    # Adding the mask adds 1 to exactly the stayers, without gathering them.
    pop.tenure_months[:] += pop.active
    pop.months_since_personal_contact[:] += pop.active
