"""Online Elo, averaged over shuffled battle orders so the result does not hinge on one order.

All orders are played at once: each step updates one battle in every shuffle, vectorised.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import expit

from judgerank.aggregate.battles import Battles, Ties


def elo(
    battles: Battles,
    k: float = 4.0,
    shuffles: int = 100,
    seed: int = 0,
    ties: Ties = "half",
    scale: float = 400.0,
    base: float = 10.0,
    init: float = 1000.0,
) -> np.ndarray:
    """Mean final Elo rating of each player over `shuffles` random battle orders."""
    keep = battles.outcome != 0.5 if ties == "ignore" else np.ones(len(battles.count), dtype=bool)
    reps = np.rint(battles.count[keep]).astype(np.int64)
    a = np.repeat(battles.a[keep], reps)
    b = np.repeat(battles.b[keep], reps)
    outcome = np.repeat(battles.outcome[keep], reps)
    rng = np.random.default_rng(seed)
    orders = np.stack([rng.permutation(len(a)) for _ in range(shuffles)], axis=1)  # step x shuffle
    ratings = np.full((shuffles, battles.n_players), init, dtype=np.float64)
    rows = np.arange(shuffles)
    factor = math.log(base) / scale
    for step in orders:
        ia, ib, s = a[step], b[step], outcome[step]
        expected = expit(factor * (ratings[rows, ia] - ratings[rows, ib]))
        delta = k * (s - expected)
        ratings[rows, ia] += delta
        ratings[rows, ib] -= delta
    return ratings.mean(axis=0)
