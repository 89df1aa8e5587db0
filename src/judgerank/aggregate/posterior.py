"""A Bayesian posterior over Bradley-Terry strengths from judged log-odds, and how sure it is of
its top k.

Bradley-Terry says P(a beats b) = s(t_a - t_b), s the logistic function, so a judge's answer read
as log-odds, x = logit P(a beats b), measures t_a - t_b. Each answer is taken as such a reading
with Gaussian noise of spread `noise_sd`, and the strengths have a Gaussian prior
N(prior_mean, prior_sd^2): the posterior is then Gaussian and exact (a linear solve), and a
judge that says 0.57 consistently counts as much as one that says 0.57 for the right reasons.
Reading soft outcomes as fractional wins instead (the usual soft-label likelihood) caps the
information of an answer at a quarter of a unit whatever the judge's reliability, and no top k
of similar items could ever be certified.

The noise is the judge's own: `order_noise` measures it from how far the two orders of each
comparison disagree once their mean disagreement (position bias) is taken out.

The top-k certificate is the posterior probability that the posterior mean's top k, members and
order, is the true one, estimated from samples; the same samples say which pairs threaten it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from judgerank.types import Preference

EDGE = 1e-4  # probabilities are clipped to [EDGE, 1 - EDGE] before their log-odds are taken
MIN_NOISE_SD = 0.25  # a floor on the measured noise: few answers can make it look like none
PRIOR_NOISE_SD = 1.0  # the noise assumed before enough answers exist to measure it
MIN_PAIRS_FOR_NOISE = 8


@dataclass(frozen=True)
class Posterior:
    mean: np.ndarray  # posterior mean strengths
    cov: np.ndarray  # posterior covariance


def log_odds(p: float) -> float:
    p = min(max(p, EDGE), 1.0 - EDGE)
    return math.log(p / (1.0 - p))


def reading(pref: Preference) -> float:
    """The answer's log-odds for a over b: the mean of the two orders' (their bias cancels)."""
    return 0.5 * (log_odds(pref.p_a_first) + log_odds(pref.p_a_second))


def order_noise(prefs: Sequence[Preference]) -> float:
    """The spread of one reading's noise, from the two orders' disagreement: half their
    difference is the position bias plus half the difference of two independent noises, so
    its variance about the mean bias is the variance of a reading (the mean of two)."""
    halves = [0.5 * (log_odds(p.p_a_first) - log_odds(p.p_a_second)) for p in prefs]
    if len(halves) < MIN_PAIRS_FOR_NOISE:
        return PRIOR_NOISE_SD
    return max(MIN_NOISE_SD, float(np.std(halves, ddof=1)))


def strength_posterior(
    prior_mean: np.ndarray, prior_sd: float, a: np.ndarray, b: np.ndarray, x: np.ndarray, noise_sd: float,
    points: tuple[np.ndarray, np.ndarray, float] | None = None,
) -> Posterior:
    """The posterior after readings x[m] of t[a[m]] - t[b[m]], each with noise of spread noise_sd,
    and optional pointwise readings points = (items, values, spread) of t[items] itself."""
    n = len(prior_mean)
    precision = np.diag(np.full(n, 1.0 / prior_sd**2))
    rhs = prior_mean / prior_sd**2
    if points is not None:
        items, values, spread = points
        np.add.at(precision, (items, items), 1.0 / spread**2)
        rhs = rhs + np.bincount(items, values, minlength=n) / spread**2
    w = 1.0 / noise_sd**2
    np.add.at(precision, (a, a), w)
    np.add.at(precision, (b, b), w)
    np.add.at(precision, (a, b), -w)
    np.add.at(precision, (b, a), -w)
    rhs = np.array(rhs, dtype=float)
    np.add.at(rhs, a, w * x)
    np.add.at(rhs, b, -w * x)
    cov = np.linalg.inv(precision)
    return Posterior(cov @ rhs, cov)


@dataclass(frozen=True)
class Certificate:
    level: float  # posterior probability that the MAP's top k (members and order) is right
    top: list[int]  # the MAP's top k, best first
    threat: np.ndarray  # threat[i, j]: share of samples where the top k fails and i, j swap places there


def top_k_certificate(post: Posterior, k: int, samples: int, rng: np.random.Generator) -> Certificate:
    """How sure the posterior is of its top k, and which pairs' orders make it unsure.

    A pair threatens the certificate in a sample when the sample's top k differs from the
    MAP's, the pair's order there is the reverse of the MAP's, and one of the two is in the
    MAP's top k or the sample's: asking that pair is what can settle the failure."""
    n = len(post.mean)
    k = min(k, n)
    top = [int(i) for i in np.argsort(-post.mean, kind="stable")[:k]]
    chol = np.linalg.cholesky(post.cov + 1e-12 * np.eye(n))
    z = post.mean + rng.standard_normal((samples, n)) @ chol.T
    sample_top = np.argsort(-z, axis=1, kind="stable")[:, :k]
    failing = np.any(sample_top != np.array(top), axis=1)
    level = 1.0 - float(failing.mean())
    threat = np.zeros((n, n))
    if failing.any():
        zf, tops = z[failing], sample_top[failing]
        in_top = np.zeros((len(zf), n), dtype=bool)
        in_top[np.arange(len(zf))[:, None], tops] = True
        in_top[:, top] = True
        region = np.flatnonzero(in_top.any(axis=0))  # items that are ever in a top k that matters
        zr, mr, tr = zf[:, region], post.mean[region], in_top[:, region]
        swapped = (zr[:, :, None] > zr[:, None, :]) != (mr[:, None] > mr[None, :])
        counts = (swapped & (tr[:, :, None] | tr[:, None, :])).sum(axis=0) / samples
        threat[np.ix_(region, region)] = counts
    return Certificate(level, top, threat)
