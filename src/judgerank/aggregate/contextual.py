"""Bradley-Terry with per-battle covariates (LMArena's style control), fitted by Newton's method.

    P(a beats b) = sigmoid(theta_a - theta_b + x . beta)

x holds the battle's covariates (a's length minus b's, normalised, and so on): beta says how much
they sway the verdict, theta is each player's strength with that sway taken out. The objective is
arena-rank's `ContextualBradleyTerry`, so the two fits agree to the optimiser's tolerance:

    minimise  -sum_r c_r w_r [o_r l_r - softplus(l_r)] / sum_r c_r  +  reg/2 |beta|^2

over battle rows r with outcome o_r (1, 0 or 0.5 for a tie), count c_r (1 for one battle) and
weight w_r (1, or arena-rank's inverse pair frequency). Strengths are centred (the likelihood
does not see a common shift). Newton's method with step halving converges in a handful of
steps from zero and in two or three from a nearby fit, which makes the bootstrap cheap: every
resample reweights the same rows and starts from the full-data fit.

With no covariates the same code gives the plain Bradley-Terry sandwich intervals on aggregated
rows (count = how often the row occurred), which `judgerank.arena` uses for `--ci sandwich`.
Sandwich (robust) covariances follow arena-rank: H^-1 G H^-1 / n with a 1e-5 ridge on H, G the
per-battle covariance of the score, and the L2 term left out of H as arena-rank does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.special import expit, ndtri

from judgerank.aggregate.bootstrap import in_seeded_chunks
from judgerank.core.errors import JudgerankError

HESSIAN_RIDGE = 1e-5  # arena-rank's hessian_reg: keeps H invertible for players with few battles
BOOTSTRAP_PRIOR = 0.01  # virtual games that keep resamples without a finite MLE finite
CHUNK = 25  # resamples fitted together
MAX_STEPS = 60
TOL = 1e-7


@dataclass(frozen=True)
class BattleRows:
    """Battles one row each (or aggregated rows with counts), with their covariates."""

    players: list[str]
    a: np.ndarray  # int index into players
    b: np.ndarray
    outcome: np.ndarray  # 1.0 a won, 0.0 b won, 0.5 tie
    x: np.ndarray  # rows x k covariates (k may be 0)
    count: np.ndarray  # how often each row occurred
    weight: np.ndarray  # per-row weight (1, or inverse pair frequency)
    names: tuple[str, ...] = ()

    @property
    def n_players(self) -> int:
        return len(self.players)

    def resampled(self, count: np.ndarray) -> BattleRows:
        return replace(self, count=count)

    def subset(self, keep: np.ndarray) -> BattleRows:
        return replace(self, a=self.a[keep], b=self.b[keep], outcome=self.outcome[keep], x=self.x[keep],
                       count=self.count[keep], weight=self.weight[keep])


@dataclass(frozen=True)
class ContextualFit:
    theta: np.ndarray  # centred log-strengths
    beta: np.ndarray  # covariate coefficients, on the normalised covariates
    iterations: int


def inverse_pair_weights(a: np.ndarray, b: np.ndarray, n_players: int, floor: int = 50) -> np.ndarray:
    """arena-rank's reweighting: 1 / max(battles of this unordered pair, floor), scaled to mean 1."""
    pair = np.minimum(a, b) * n_players + np.maximum(a, b)
    _, inverse, counts = np.unique(pair, return_inverse=True, return_counts=True)
    w = 1.0 / np.maximum(counts[inverse], floor).astype(float)
    return w / w.mean()


def fit_contextual(
    rows: BattleRows,
    reg: float = 1.0,
    prior: float = 0.0,
    init: ContextualFit | None = None,
    tol: float = 1e-10,
    max_iter: int = 200,
) -> ContextualFit:
    """Centred strengths and coefficients minimising the objective above.

    prior: virtual games, half won and half lost, of every player against a player of strength 0
    (as in judgerank.aggregate.bradley_terry), for battles where the plain MLE does not exist."""
    n, k = rows.n_players, rows.x.shape[1]
    cw = rows.count * rows.weight
    total = float(rows.count.sum())
    if total <= 0:
        raise JudgerankError("no battles to fit")
    scale = cw / total
    theta = np.zeros(n) if init is None else init.theta.copy()
    beta = np.zeros(k) if init is None else init.beta.copy()
    virtual = prior / total

    def objective(t: np.ndarray, bb: np.ndarray) -> float:
        logit = t[rows.a] - t[rows.b] + rows.x @ bb
        ll = rows.outcome * logit - np.logaddexp(0.0, logit)
        prior_term = virtual * np.sum(np.logaddexp(0.0, t) - t / 2.0) if prior else 0.0
        return float(-(scale @ ll) + 0.5 * reg * bb @ bb + prior_term)

    current = objective(theta, beta)
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        grad, hess = _gradient_and_hessian(rows, theta, beta, scale, reg, virtual)
        # The likelihood ignores a common shift of theta: pin it with a rank-one term on the theta
        # block (the gradient sums to zero over theta, so the step stays centred).
        hess[:n, :n] += np.max(np.diag(hess)[:n]) / n if n else 0.0
        try:
            step = np.linalg.solve(hess, -grad)
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(hess, grad, rcond=None)[0]
        t = 1.0
        while True:
            new_theta, new_beta = theta + t * step[:n], beta + t * step[n:]
            value = objective(new_theta, new_beta)
            if value <= current + 1e-15 * abs(current) or t < 1e-8:
                break
            t /= 2.0
        theta, beta, current = new_theta, new_beta, value
        # converged when no battle's log-odds moves: a rating no battle constrains (a player with
        # no games in a resample, held only by the prior) need not settle to the last digit
        moved = np.abs(step[rows.a] - step[rows.b] + rows.x @ step[n:]) * (rows.count > 0)
        if t * (moved.max() if len(moved) else 0.0) < tol or t < 1e-8:
            break
    if not np.all(np.isfinite(theta)) or not np.all(np.isfinite(beta)):
        raise JudgerankError("the Bradley-Terry fit diverged: some player never won or never lost; give a prior")
    return ContextualFit(theta - theta.mean(), beta, iterations)


def _gradient_and_hessian(rows: BattleRows, theta, beta, scale, reg, virtual):
    n, k = rows.n_players, rows.x.shape[1]
    p = expit(theta[rows.a] - theta[rows.b] + rows.x @ beta)
    resid = scale * (rows.outcome - p)
    curv = scale * p * (1.0 - p)
    grad = np.empty(n + k)
    grad[:n] = -(np.bincount(rows.a, resid, n) - np.bincount(rows.b, resid, n))
    grad[n:] = -(rows.x.T @ resid) + reg * beta
    hess = np.zeros((n + k, n + k))
    hess[:n, :n] = _laplacian(rows.a, rows.b, curv, n)
    cross = rows.x * curv[:, None]
    hess[:n, n:] = _scatter_rows(rows.a, cross, n) - _scatter_rows(rows.b, cross, n)
    hess[n:, :n] = hess[:n, n:].T
    hess[n:, n:] = rows.x.T @ cross + reg * np.eye(k)
    if virtual:
        s = expit(theta)
        grad[:n] += virtual * (s - 0.5)
        hess[np.arange(n), np.arange(n)] += virtual * s * (1.0 - s)
    return grad, hess


def _laplacian(a: np.ndarray, b: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """sum_r v_r (e_a - e_b)(e_a - e_b)^T."""
    m = np.bincount(a * n + b, values, n * n).reshape(n, n)
    m = -(m + m.T)
    m[np.arange(n), np.arange(n)] = np.bincount(a, values, n) + np.bincount(b, values, n)
    return m


def _scatter_rows(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((n, values.shape[1]))
    np.add.at(out, index, values)
    return out


def sandwich_covariance(rows: BattleRows, fit: ContextualFit, reg: float = 1.0) -> np.ndarray:
    """Robust covariance of (theta, beta), (n + k) square, in the fit's units (arena-rank's estimator)."""
    n, k = rows.n_players, rows.x.shape[1]
    total = float(rows.count.sum())
    p = expit(fit.theta[rows.a] - fit.theta[rows.b] + rows.x @ fit.beta)
    w = rows.weight
    curv = rows.count * w * p * (1.0 - p) / total
    score = rows.count * (w * (rows.outcome - p)) ** 2 / total
    hess = _block(rows, curv, n, k) + HESSIAN_RIDGE * np.eye(n + k)
    gcov = _block(rows, score, n, k)
    params = np.r_[np.zeros(n), fit.beta]
    gcov -= (reg**2 / total) * np.outer(params, params)
    inv = np.linalg.inv(hess)
    return inv @ gcov @ inv / total


def _block(rows: BattleRows, values: np.ndarray, n: int, k: int) -> np.ndarray:
    out = np.zeros((n + k, n + k))
    out[:n, :n] = _laplacian(rows.a, rows.b, values, n)
    weighted = rows.x * values[:, None]
    out[:n, n:] = _scatter_rows(rows.a, weighted, n) - _scatter_rows(rows.b, weighted, n)
    out[n:, :n] = out[:n, n:].T
    out[n:, n:] = rows.x.T @ weighted
    return out


def sandwich_interval(
    estimate: np.ndarray, covariance: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Normal intervals estimate -/+ z * standard error."""
    half = ndtri(0.5 + level / 2.0) * np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    return estimate - half, estimate + half


def bootstrap_contextual(
    rows: BattleRows, fit: ContextualFit, n_samples: int, seed: int = 0, reg: float = 1.0, prior: float = 0.0,
    workers: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Strength and coefficient samples (n_samples x n, n_samples x k), strengths centred.

    The Poisson bootstrap, as for plain Bradley-Terry (judgerank.aggregate.bootstrap): each
    battle row's count redrawn from a Poisson with its count as mean, resamples drawn and fitted in
    seeded chunks on every core. A chunk's resamples take Newton steps together from the full fit,
    each with its own Hessian (assembled for all of them at once by sparse products), until no
    battle's log-odds moves by TOL; one still moving after MAX_STEPS is refitted on its own."""
    prior = max(prior, BOOTSTRAP_PRIOR)
    full = fit_contextual(rows, reg=reg, prior=prior, init=fit)
    n, k, m = rows.n_players, rows.x.shape[1], len(rows.a)
    ones, index = np.ones(m), np.arange(m)
    from scipy import sparse  # here: the arena's covariates need it, a rerank does not

    signs = sparse.csr_matrix((np.r_[ones, -ones], (np.r_[index, index], np.r_[rows.a, rows.b])), shape=(m, n))
    cells = sparse.csr_matrix((ones, (index, rows.a * n + rows.b)), shape=(m, n * n))
    def chunk(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
        counts = rng.poisson(rows.count, size=(size, m)).astype(float)
        totals = counts.sum(axis=1, keepdims=True)
        scale, virtual = counts * rows.weight / totals, prior / totals
        theta, beta = np.tile(full.theta, (size, 1)), np.tile(full.beta, (size, 1))
        active = np.arange(size)
        for _ in range(MAX_STEPS):
            t, b, sc, v = theta[active], beta[active], scale[active], virtual[active]
            p = expit(t[:, rows.a] - t[:, rows.b] + b @ rows.x.T)
            resid, curv = sc * (rows.outcome - p), sc * p * (1.0 - p)
            s = expit(t)
            grad = np.hstack([-(resid @ signs) + v * (s - 0.5), -(resid @ rows.x) + reg * b])
            hess = np.zeros((len(active), n + k, n + k))
            pair = np.asarray(curv @ cells).reshape(-1, n, n)
            hess[:, :n, :n] = -(pair + pair.transpose(0, 2, 1))
            hess[:, np.arange(n), np.arange(n)] = pair.sum(axis=2) + pair.sum(axis=1) + v * s * (1.0 - s)
            hess[:, :n, :n] += hess[:, np.arange(n), np.arange(n)].max(axis=1)[:, None, None] / n  # the common shift
            for j in range(k):
                hess[:, :n, n + j] = hess[:, n + j, :n] = (curv * rows.x[:, j]) @ signs
            hess[:, n:, n:] = np.einsum("bi,ij,il->bjl", curv, rows.x, rows.x) + reg * np.eye(k)
            step = np.linalg.solve(hess, -grad[..., None])[..., 0]
            theta[active] += step[:, :n]
            beta[active] += step[:, n:]
            moved = np.abs(step[:, rows.a] - step[:, rows.b] + step[:, n:] @ rows.x.T) * (counts[active] > 0)
            active = active[moved.max(axis=1) >= TOL]
            if not len(active):
                break
        for i in active:  # still moving: a fit of its own, with step halving
            alone = fit_contextual(rows.resampled(counts[i]), reg=reg, prior=prior, init=full)
            theta[i], beta[i] = alone.theta, alone.beta
        return theta - theta.mean(axis=1, keepdims=True), beta

    parts = in_seeded_chunks(n_samples, CHUNK, seed, chunk, workers)
    if not parts:
        return np.zeros((0, n)), np.zeros((0, k))
    return np.vstack([p[0] for p in parts]), np.vstack([p[1] for p in parts]).reshape(n_samples, k)
