"""Battle records as arrays: who met whom, the outcome, and how often.

outcome is 1.0 when player a won, 0.0 when b won, 0.5 for a tie. Aggregators take the win
matrix W (W[i, j] = wins of i over j, a tie adding half to each side or left out).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:  # scipy.sparse is imported where a win matrix is built, not with the package
    from scipy import sparse

Ties = Literal["half", "ignore"]


@dataclass(frozen=True)
class Battles:
    players: list[str]
    a: np.ndarray  # int, index into players
    b: np.ndarray
    outcome: np.ndarray  # float: 1.0, 0.0 or 0.5
    count: np.ndarray  # float weights (repeats of the same row)

    @classmethod
    def from_outcomes(cls, rows: Sequence[tuple[str, str, float]], weights: Sequence[float] | None = None) -> Battles:
        """weights: how many battles each row counts for (1 each by default)."""
        names = sorted({p for a, b, _ in rows for p in (a, b)})
        index = {p: i for i, p in enumerate(names)}
        a = np.array([index[r[0]] for r in rows], dtype=np.int64)
        b = np.array([index[r[1]] for r in rows], dtype=np.int64)
        outcome = np.array([r[2] for r in rows], dtype=np.float64)
        count = np.ones(len(rows)) if weights is None else np.asarray(weights, dtype=np.float64)
        return cls(names, a, b, outcome, count).unique()

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

    def cells(self, ties: Ties = "half") -> sparse.csr_matrix:
        """The linear map from row counts to the flattened win matrix (n*n x rows): each row adds
        outcome to W[a, b] and 1 - outcome to W[b, a]; with ties="ignore" a tie adds nothing."""
        from scipy import sparse

        n = self.n_players
        keep = np.ones(len(self.count)) if ties == "half" else (self.outcome != 0.5).astype(float)
        rows = np.arange(len(self.count))
        return sparse.csr_matrix(
            (
                np.r_[self.outcome * keep, (1.0 - self.outcome) * keep],
                (np.r_[self.a * n + self.b, self.b * n + self.a], np.r_[rows, rows]),
            ),
            shape=(n * n, len(self.count)),
        )

    def win_matrix(self, ties: Ties = "half") -> np.ndarray:
        """W[i, j]: wins of i over j (self-battles land on the diagonal, which is zeroed)."""
        n = self.n_players
        w = (self.cells(ties) @ self.count).reshape(n, n)
        np.fill_diagonal(w, 0.0)
        return w
