"""Phase 6, ageing: the clocks of every customer who stayed this month.

Stayers get one month older as customers and one month further from the last personal
contact; a running contract term gets one month shorter (a term ends in the month its clock
shows 1; what follows, renewal or re-contracting, is the contract program's rule)::

    tenure_months += 1
    months_since_personal_contact += 1
    contract_months_left -= 1            (where > 0)

Leavers keep the values of the month they left.
"""

from __future__ import annotations

import numpy as np


def age(model) -> None:
    """Advance the clocks of active customers by one month."""
    pop = model.population
    # Adding the mask adds 1 to exactly the stayers, without gathering them.
    pop.tenure_months[:] += pop.active
    pop.months_since_personal_contact[:] += pop.active
    running = np.flatnonzero(pop.contract_months_left > 0)
    running = running[pop.active[running]]
    pop.contract_months_left[running] -= 1
