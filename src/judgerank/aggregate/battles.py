"""Battle records as arrays: who met whom, the outcome, and how often.

outcome is 1.0 when player a won, 0.0 when b won, 0.5 for a tie. Aggregators take the win
matrix W (W[i, j] = wins of i over j, a tie adding half to each side or left out).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Ties = Literal["half", "ignore"]


@dataclass(frozen=True)
class Battles:
    players: list[str]
    a: np.ndarray  # int, index into players
    b: np.ndarray
    outcome: np.ndarray  # float: 1.0, 0.0 or 0.5
    count: np.ndarray  # float weights (repeats of the same row)

    @classmethod
    def from_outcomes(
        cls, rows: Sequence[tuple[str, str, float]], players: Sequence[str] | None = None
    ) -> Battles:
        names = sorted({p for a, b, _ in rows for p in (a, b)} | set(players or ()))
        index = {p: i for i, p in enumerate(names)}
        a = np.array([index[r[0]] for r in rows], dtype=np.int64)
        b = np.array([index[r[1]] for r in rows], dtype=np.int64)
        outcome = np.array([r[2] for r in rows], dtype=np.float64)
        return cls(names, a, b, outcome, np.ones(len(rows))).unique()

    @property
    def n_players(self) -> int:
        return len(self.players)

    @property
    def total(self) -> float:
        return float(self.count.sum())

    def unique(self) -> Battles:
        """Merge identical (a, b, outcome) rows into one row with their summed count."""
        key = (self.a * self.n_players + self.b) * 3 + np.rint(self.outcome * 2).astype(np.int64)
        uniq, inverse = np.unique(key, return_inverse=True)
        count = np.bincount(inverse, weights=self.count, minlength=len(uniq))
        outcome = (uniq % 3) / 2.0
        pair = uniq // 3
        return Battles(self.players, pair // self.n_players, pair % self.n_players, outcome, count)

    def without_self_battles(self) -> Battles:
        keep = self.a != self.b
        return Battles(self.players, self.a[keep], self.b[keep], self.outcome[keep], self.count[keep])

    def cell_weights(self, ties: Ties = "half") -> tuple[np.ndarray, np.ndarray]:
        """Per row: the amount it adds to W[a, b] and to W[b, a]."""
        decisive = self.outcome != 0.5
        keep = np.ones_like(decisive) if ties == "half" else decisive
        return self.count * self.outcome * keep, self.count * (1.0 - self.outcome) * keep

    def win_matrix(self, ties: Ties = "half", counts: np.ndarray | None = None) -> np.ndarray:
        """W[i, j]: wins of i over j; `counts` replaces the row counts (bootstrap resamples)."""
        n = self.n_players
        fwd, back = self.cell_weights(ties)
        if counts is not None:
            fwd, back = fwd / self.count * counts, back / self.count * counts
        w = np.bincount(self.a * n + self.b, weights=fwd, minlength=n * n)
        w += np.bincount(self.b * n + self.a, weights=back, minlength=n * n)
        w = w.reshape(n, n)
        np.fill_diagonal(w, 0.0)
        return w
