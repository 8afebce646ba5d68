"""The planted engagement curve (public: tests use it to compute the metrics they expect): the share of a note's
final engagements reached at a given age, and the half-life and late share the curve implies. Every observation
the simulator writes is its note's final engagements times `curve_fraction` at the observation's age.
"""

from __future__ import annotations

import numpy as np

from kol_pipeline.lib.simulate.vocabulary import EVERGREEN_RAMP_DAYS


def curve_fraction(h: np.ndarray | float, w: np.ndarray | float, t: np.ndarray | float) -> np.ndarray:
    """Share of a note's final engagements reached at age t days.

    E(t) = E_final * [ w * (1 - 2^(-t/h)) + (1 - w) * min(t / 100, 1) ]: an exponential decay with half-life h
    days plus, for evergreen notes (w < 1), a linear "search traffic" component that keeps growing until day 100.
    Pure decay notes have w = 1.
    """
    t = np.clip(np.asarray(t, dtype="float64"), 0.0, None)
    h = np.asarray(h, dtype="float64")
    w = np.asarray(w, dtype="float64")
    return w * (1.0 - np.exp2(-t / h)) + (1.0 - w) * np.minimum(t / EVERGREEN_RAMP_DAYS, 1.0)


def planted_half_life(h: np.ndarray | float, w: np.ndarray | float, horizon: float = 30.0) -> np.ndarray:
    """Smallest t in [0, horizon] with E(t) >= 0.5 * E(horizon) on the continuous planted curve (bisection).

    For pure decay (w = 1) this is h * (1 - log2(1 + 2^(-30/h))). The contract's half_life_days is solved on the
    linear pieces between daily observations, so it differs from this by the interpolation error (< ~0.3 day
    for h >= 1, up to ~0.2 day for h = 0.5)."""
    h = np.atleast_1d(np.asarray(h, dtype="float64"))
    w = np.broadcast_to(np.asarray(w, dtype="float64"), h.shape)
    target = 0.5 * curve_fraction(h, w, horizon)
    lo = np.zeros_like(h)
    hi = np.full_like(h, horizon)
    for _ in range(60):
        mid = (lo + hi) / 2
        ok = curve_fraction(h, w, mid) >= target
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    return hi


def planted_late_share(h: np.ndarray | float, w: np.ndarray | float) -> np.ndarray:
    """(E(90) - E(30)) / E(90) of the planted curve; the note is evergreen when this is >= 0.25."""
    e30 = curve_fraction(h, w, 30.0)
    e90 = curve_fraction(h, w, 90.0)
    return (e90 - e30) / e90
