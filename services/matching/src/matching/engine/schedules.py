"""Every clinician's best schedule at given prices, compiled (numba): the inner loop of the
Lagrangian bound, run hundreds of times per solve over every eligible pair.

Weighted interval scheduling by dynamic programming, one clinician after another: pairs come
in clinician order and, within a clinician, by busy end (shift end plus rest); `pred` names the
last earlier pair of the same clinician that ends, with rest, by the pair's start (-1 for
none). A pair's weight is its gain less its shift's price and its weeks' prices per hour.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@njit(cache=True, nogil=True)
def best_schedules(
    gain: Floats,
    shift: Ints,
    lam: Floats,
    week: Ints,
    hours: Floats,
    mu: Floats,
    pred: Ints,
    offsets: Ints,
    counts: Ints,
    best: Floats,
    chosen: Floats,
    used: Floats,
    loads: Floats,
) -> float:
    """The total of every clinician's best schedule. Fills `chosen` (1 for a pair in it),
    `used` (chosen pairs per priced shift) and `loads` (chosen hours per priced week);
    `best` is scratch space of one more than the pairs."""
    used[:] = 0.0
    loads[:] = 0.0
    chosen[:] = 0.0
    total = 0.0
    for k in range(offsets.size):
        first = offsets[k]
        last = first + counts[k]
        for j in range(first, last):
            weight = gain[j]
            if shift[j] >= 0:
                weight -= lam[shift[j]]
            for part in range(2):
                if week[j, part] >= 0:
                    weight -= mu[week[j, part]] * hours[j, part]
            before = best[j] if j > first else 0.0
            take = weight + (best[pred[j] + 1] if pred[j] >= 0 else 0.0)
            best[j + 1] = take if take > before else before
        total += best[last] if last > first else 0.0
        j = last - 1
        while j >= first:  # walk back through the choices
            before = best[j] if j > first else 0.0
            if best[j + 1] > before:
                chosen[j] = 1.0
                if shift[j] >= 0:
                    used[shift[j]] += 1.0
                for part in range(2):
                    if week[j, part] >= 0:
                        loads[week[j, part]] += hours[j, part]
                j = pred[j]
            else:
                j -= 1
    return total
