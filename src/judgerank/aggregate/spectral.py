"""Pooling judges without gold labels: a spectral weighting of their scores (Parisi, Strino, Nadler
and Kluger, "Ranking and combining multiple predictors without labeled data", PNAS 2014).

Each judge gives every item a score whose sign is its verdict (here the log-odds of P(a better),
both orders averaged, so 0 means no preference). The model: a judge's score, scaled to unit
second moment, is its loading times the item's unknown true side (+1 or -1) plus noise
independent of the other judges'. Then the judges' second moments off the diagonal form a rank-one
matrix, loading_i * loading_j, whatever the judges' noise: the loadings are read from how the
judges agree with each other, with no gold label. A judge that agrees with nobody gets a loading
near 0 and no say; one that reliably disagrees with the rest gets a negative loading and is read
flipped. The sign of the whole vector is fixed by assuming the judges are, taken together, better
than chance.

The pooled score is the likelihood ratio of the two sides under that model with Gaussian noise:
sum_j loading_j * z_j / (1 - loading_j^2), so P(a) = logistic(2 * score). Two judges give one
agreement and cannot be told apart: they get equal weight (their scaled scores' mean). Scores are
kept about zero, not centred on their mean, because zero is the judge's own "no preference".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

MAX_LOADING = 0.8  # loadings from a few hundred pairs are noisy: no juror takes the whole say (weight <= 2.2)


@dataclass
class SpectralFit:
    loadings: np.ndarray  # per judge: estimated correlation of its scaled score with the true side
    weights: np.ndarray  # per judge: what its scaled score counts in the pooled score
    scale: np.ndarray  # per judge: the root mean square of its raw scores (1 where all are 0)
    pooled: np.ndarray  # per item: the pooled score; its sign is the pooled verdict

    @property
    def p_a(self) -> np.ndarray:
        """Per item: P(the positive side) under the model, logistic(2 * pooled)."""
        return expit(2.0 * self.pooled)


def rank_one(moments: np.ndarray, iterations: int = 1000, tol: float = 1e-10) -> np.ndarray:
    """The vector r whose products r_i * r_j best fit the matrix's off-diagonal entries (least
    squares, by alternating updates; NaN entries are left out), signed so that its sum is >= 0."""
    m = moments.shape[0]
    known = ~np.isnan(moments) & ~np.eye(m, dtype=bool)
    values = np.where(known, moments, 0.0)
    off = np.abs(values[known])
    r = np.full(m, np.sqrt(off.mean()) if off.size else 0.0)
    for _ in range(iterations):
        previous = r.copy()
        for i in range(m):
            others = known[i]
            denominator = float((r[others] ** 2).sum())
            r[i] = float(values[i, others] @ r[others]) / denominator if denominator > 0 else 0.0
        if np.abs(r - previous).max() < tol:
            break
    return r if r.sum() >= 0 else -r


def spectral_pool(scores: np.ndarray) -> SpectralFit:
    """Pool an items x judges matrix of signed scores (NaN where a judge gave none)."""
    scores = np.asarray(scores, dtype=float)
    present = ~np.isnan(scores)
    filled = np.where(present, scores, 0.0)
    counts = present.sum(axis=0)
    rms = np.sqrt((filled**2).sum(axis=0) / np.maximum(counts, 1))
    scale = np.where(rms > 0, rms, 1.0)
    z = filled / scale
    shared = present.T.astype(float) @ present.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        moments = np.where(shared > 1, (z.T @ z) / shared, np.nan)
    m = scores.shape[1]
    if m == 1:  # nothing to pool: the judge's own log-odds, P(a) its own
        return SpectralFit(np.ones(1), scale / 2, scale, filled[:, 0] / 2)
    if m == 2:
        loadings = np.full(2, np.sqrt(abs(moments[0, 1])) if not np.isnan(moments[0, 1]) else 0.0)
    else:
        loadings = rank_one(moments)
    loadings = np.clip(loadings, -MAX_LOADING, MAX_LOADING)
    weights = np.where(rms > 0, loadings / (1.0 - loadings**2), 0.0)
    return SpectralFit(loadings, weights, scale, z @ weights)
