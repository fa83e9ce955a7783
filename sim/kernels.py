"""Compiled kernels of the hot loop, each with a pure-NumPy twin that the tests compare it with.

The kernels are compiled with numba on first use and cached on disk (``cache=True``), so a
later process loads machine code instead of compiling. ``LOYALTY_SIM_KERNELS=numpy`` (or numba
missing) runs the NumPy twins instead: same results, slower.

**Counter-based random numbers.** A customer's number for one purpose in one month is a pure
function of the stream's 64-bit key (from the run's seed, the month and the purpose) and the
customer's slot (``sim.mechanisms.acquisition.Slots``): the SplitMix64 output function
(Steele, Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014) at
position ``slot``::

    z = key + (slot + 1) * 0x9E3779B97F4A7C15          (mod 2**64)
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB
    z =  z ^ (z >> 31)
    uniform = (z >> 40) / 2**24                          (float32 in [0, 1))

This is the SplitMix64 generator seeded with ``key``, read at any position without stepping
through the ones before (a counter-based generator, like Philox, but three multiplications
per number). So only the customers a mechanism asks about cost a draw: the few who failed,
the leavers, the active customers, not every row ever created and every slot reserved for
joiners. Standard normals are Box-Muller pairs from positions ``2 * slot`` and ``2 * slot + 1``.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from types import ModuleType

import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
TWO_POW_MINUS_24 = np.float32(2.0**-24)


def uniforms_numpy(key: int, slots: np.ndarray) -> np.ndarray:
    """One float32 uniform in [0, 1) per slot, for the stream ``key`` (NumPy twin)."""
    z = np.uint64(key) + (slots.astype(np.uint64) + np.uint64(1)) * GOLDEN
    z = (z ^ (z >> np.uint64(30))) * MIX1
    z = (z ^ (z >> np.uint64(27))) * MIX2
    z ^= z >> np.uint64(31)
    return (z >> np.uint64(40)).astype(np.float32) * TWO_POW_MINUS_24


def normals_numpy(key: int, slots: np.ndarray) -> np.ndarray:
    """One float32 standard normal per slot (Box-Muller on positions 2 slot, 2 slot + 1)."""
    doubled = 2 * slots.astype(np.int64)
    radius = 1.0 - uniforms_numpy(key, doubled).astype(np.float64)  # (0, 1]: log is finite
    angle = uniforms_numpy(key, doubled + 1).astype(np.float64)
    return (np.sqrt(-2.0 * np.log(radius)) * np.cos(2.0 * np.pi * angle)).astype(np.float32)


# Revenue in fixed point (sim.compiled.revenue_compiled): a float32 of at least 0.5 is a whole
# multiple of 2**-24, and one below 2**38 is below 2**62 units.
SPEND_SCALE = np.float32(2.0**24)
SPEND_LOW, SPEND_HIGH = np.float32(0.5), np.float32(2.0**38)

# numba is imported on first use only (it loads LLVM and SciPy).
COMPILED = (
    importlib.util.find_spec("numba") is not None
    and os.environ.get("LOYALTY_SIM_KERNELS", "numba") != "numpy"
)


@functools.cache
def _compiled() -> ModuleType:
    from sim import compiled

    return compiled


def __getattr__(name: str) -> object:
    """``kernels.<name>_compiled``: the kernel of :mod:`sim.compiled`, loaded on first use."""
    if name.endswith("_compiled"):
        return getattr(_compiled(), name)
    raise AttributeError(name)


_EVERYONE = np.zeros(0, dtype=np.int64)


def uniforms(key: int, slots: np.ndarray, ids: np.ndarray | None = None) -> np.ndarray:
    """One float32 uniform in [0, 1) per entry of ``slots`` (int64), or per row of ``ids`` with
    slot ``slots[ids]`` (gathered inside the kernel), for the stream ``key``."""
    if not COMPILED:
        return uniforms_numpy(key, slots if ids is None else slots[ids])
    rows = _EVERYONE if ids is None else ids
    return _compiled()._uniforms_compiled(np.uint64(key), slots, rows, ids is None)


def normals(key: int, slots: np.ndarray, ids: np.ndarray | None = None) -> np.ndarray:
    """One float32 standard normal per entry of ``slots``, or per row of ``ids``, as :func:`uniforms`."""
    if not COMPILED:
        return normals_numpy(key, slots if ids is None else slots[ids])
    rows = _EVERYONE if ids is None else ids
    return _compiled()._normals_compiled(np.uint64(key), slots, rows, ids is None)


