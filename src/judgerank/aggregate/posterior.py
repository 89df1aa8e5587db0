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
order, is the true one (up to a tolerance: near-equal strengths may come in either order),
estimated from samples; the same samples say which pairs threaten it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import logit

from judgerank.core.types import Preference

EDGE = 1e-4  # probabilities are clipped to [EDGE, 1 - EDGE] before their log-odds are taken
MIN_NOISE_SD = 0.1  # a floor on the measured noise: a judge is never taken as exact
PRIOR_NOISE_SD = 1.0  # the noise assumed before answers show it
PRIOR_NOISE_PAIRS = 8  # how many pairs' worth of evidence that assumption counts as
SATURATED = 0.01  # an order answered with probability within this of 0 or 1 says little of the noise


@dataclass(frozen=True)
class Posterior:
    mean: np.ndarray  # posterior mean strengths
    cov: np.ndarray  # posterior covariance


def log_odds(p: float) -> float:
    p = min(max(p, EDGE), 1.0 - EDGE)
    return float(logit(p))


def reading(pref: Preference) -> float:
    """The answer's log-odds for a over b: the mean of the two orders' (their bias cancels)."""
    return 0.5 * (log_odds(pref.p_a_first) + log_odds(pref.p_a_second))


def order_noise(prefs: Sequence[Preference]) -> float:
    """The spread of one reading's noise, from the two orders' disagreement: half their
    difference is the position bias plus half the sum of two independent noises, so its
    variance about the mean bias is the variance of a reading (the mean of two orders).

    Orders whose probability is nearly 0 or 1 are left out (their log-odds are clipped, and
    their disagreement understated), and the variance is shrunk toward PRIOR_NOISE_SD^2 as if
    PRIOR_NOISE_PAIRS pairs had shown it: an estimate from a few dozen pairs is otherwise low
    about as often as high, and a method that stops when it is sure stops on the low ones."""
    limit = log_odds(1.0 - SATURATED)
    firsts = [log_odds(p.p_a_first) for p in prefs]
    seconds = [log_odds(p.p_a_second) for p in prefs]
    halves = [0.5 * (f - s) for f, s in zip(firsts, seconds) if abs(f) < limit and abs(s) < limit]
    if len(halves) < 2:
        return PRIOR_NOISE_SD
    m = len(halves)
    variance = (PRIOR_NOISE_PAIRS * PRIOR_NOISE_SD**2 + (m - 1) * float(np.var(halves, ddof=1))) / (PRIOR_NOISE_PAIRS + m - 1)
    return max(MIN_NOISE_SD, math.sqrt(variance))


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


def answers_posterior(
    prior_mean: np.ndarray, prior_sd: float, answers: Sequence[Preference], index: dict[str, int],
    points: tuple[np.ndarray, np.ndarray, float] | None = None,
) -> Posterior:
    """The posterior after judged preferences (item ids placed by `index`), each read as a
    reading with the noise the answers themselves show (order_noise)."""
    a = np.array([index[p.a] for p in answers], dtype=int)
    b = np.array([index[p.b] for p in answers], dtype=int)
    x = np.array([reading(p) for p in answers], dtype=float)
    return strength_posterior(prior_mean, prior_sd, a, b, x, order_noise(answers), points)


CERTIFICATE_CHUNK = 500  # posterior samples read at once by top_k_certificate


def iter_samples(post: Posterior, samples: int, rng: np.random.Generator, chunk: int) -> Iterator[np.ndarray]:
    """Draws of every strength from the posterior, `chunk` rows at a time (the last may be
    fewer): the same draws as all at once, since the generator fills rows in order."""
    n = len(post.mean)
    chol = np.linalg.cholesky(post.cov + 1e-12 * np.eye(n))
    for start in range(0, samples, chunk):
        yield post.mean + rng.standard_normal((min(chunk, samples - start), n)) @ chol.T


def samples_of(post: Posterior, samples: int, rng: np.random.Generator) -> np.ndarray:
    """Draws of every strength from the posterior (samples x n)."""
    return next(iter_samples(post, samples, rng, max(samples, 1)), np.empty((0, len(post.mean))))


@dataclass(frozen=True)
class Certificate:
    level: float  # posterior probability that the top k is right within the tolerance
    top: list[int]  # the posterior mean's top k, best first
    threat: np.ndarray  # threat[i, j]: share of samples where j beats i, placed above it, by more than the tolerance


def top_k_certificate(
    post: Posterior, k: int, samples: int, rng: np.random.Generator, tolerance: float = 0.0
) -> Certificate:
    """How sure the posterior is of its top k, and which pairs make it unsure.

    The top k is right in a sample when no candidate beats one placed above it in the top k by
    more than `tolerance` (strengths closer than that are ties this judge cannot tell apart,
    which the top k may hold in either order; 0 asks for the exact members and order: the
    epsilon-correct top k of PAC ranking). A pair (i placed above j, i in the top k) threatens
    the certificate in every sample where j beats i by more than the tolerance: asking that
    pair is what can settle the failure."""
    n = len(post.mean)
    k = min(k, n)
    best = np.argsort(-post.mean, kind="stable")
    top = [int(i) for i in best[:k]]
    below = np.triu(np.ones((k, n), dtype=bool), 1)
    failed, counts = 0, np.zeros((k, n))
    # read CERTIFICATE_CHUNK samples at a time: all at once, 8,000 samples of 1,000 candidates
    # held 140 MB for one request
    for drawn in iter_samples(post, samples, rng, CERTIFICATE_CHUNK):
        z = drawn[:, best]  # columns in the placed order
        # beaten[s, r, c]: in sample s the candidate placed at c (below r) beats the one placed at r
        beaten = (z[:, None, :] > z[:, :k, None] + tolerance) & below
        failing = beaten.any(axis=(1, 2))
        failed += int(failing.sum())
        counts += beaten[failing].sum(axis=0)
    counts /= samples
    threat = np.zeros((n, n))
    rows, cols = np.nonzero(counts)
    threat[best[rows], best[cols]] = counts[rows, cols]
    return Certificate(1.0 - failed / samples, top, threat)
