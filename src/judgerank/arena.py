"""Leaderboards from battle records: a rating per player with an interval, and the evidence.

arena() is the one entry point; it never calls a model. Methods: bradley-terry, elo,
rank-centrality, pagerank, win-rate, copeland. Bootstrap intervals resample the battles;
Bradley-Terry also offers sandwich (robust) intervals, style control (battle covariates fitted
with the ratings, judgerank.aggregate.contextual) and an anchor player whose rating is pinned.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from judgerank.aggregate.battles import Battles, Ties
from judgerank.aggregate.bootstrap import bootstrap_bradley_terry, percentile_interval, resampled_win_matrices
from judgerank.aggregate.bradley_terry import bradley_terry, mle_exists, to_scale, win_probability
from judgerank.aggregate.centrality import pagerank, rank_centrality
from judgerank.aggregate.contextual import (
    BattleRows,
    ContextualFit,
    bootstrap_contextual,
    fit_contextual,
    inverse_pair_weights,
    sandwich_covariance,
    sandwich_interval,
)
from judgerank.aggregate.elo import elo
from judgerank.aggregate.voting import copeland, win_rate
from judgerank.errors import JudgerankError
from judgerank.io.battles import as_battles

METHODS = ("bradley-terry", "elo", "rank-centrality", "pagerank", "win-rate", "copeland")
FALLBACK_PRIOR = 0.01
# L2 penalty on covariate coefficients, in arena-rank's units (per battle, on the mean log-loss).
# arena-rank's default 1.0 shrinks a coefficient to about a sixth of its maximum-likelihood value
# (a standardised covariate carries ~0.2 of information per battle), which leaves most of the style
# effect in the ratings; 1e-3 barely shrinks while keeping collinear covariates identified.
STYLE_REG = 1e-3


@dataclass
class PlayerRow:
    rank: int
    player: str
    rating: float
    lower: float | None
    upper: float | None
    battles: int
    wins: float
    losses: float
    ties: float
    win_rate: float | None
    vs_anchor: float | None = None  # P(beats the anchor player) under the fit, when one is pinned


@dataclass
class Coefficient:
    """A covariate's fitted effect on the log-odds of winning, per standard deviation of it."""

    name: str
    value: float
    lower: float | None
    upper: float | None


@dataclass
class Leaderboard:
    method: str
    rows: list[PlayerRow]
    settings: dict
    notes: list[str] = field(default_factory=list)
    coefficients: list[Coefficient] = field(default_factory=list)
    win_prob: np.ndarray | None = None  # P(row player beats column player), in rows' order
    battle_counts: np.ndarray | None = None  # games between players, in rows' order
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "method": self.method,
            "settings": self.settings,
            "notes": self.notes,
            "seconds": self.seconds,
            "leaderboard": [asdict(r) for r in self.rows],
            **({"coefficients": [asdict(c) for c in self.coefficients]} if self.coefficients else {}),
        }


def arena(
    battles: Battles | str | Path | Sequence[Any],
    method: str = "bradley-terry",
    *,
    ties: Ties = "half",
    bootstrap: int = 0,
    sandwich: bool = False,
    seed: int = 0,
    prior: float = 0.0,
    scale: Literal["elo", "raw"] = "elo",
    k: float = 4.0,
    shuffles: int = 100,
    level: float = 0.95,
    covariates: BattleRows | None = None,
    reg: float = STYLE_REG,
    reweight: bool = False,
    anchor: str | None = None,
    anchor_rating: float | None = None,
) -> Leaderboard:
    """Rate every player of `battles` with `method`; bootstrap > 0 adds percentile intervals,
    sandwich=True normal intervals from the robust covariance (Bradley-Terry only).

    battles: Battles, a battles file (CSV or JSONL), or a list of {model_a, model_b, winner}
    records or (a, b, outcome) tuples.
    covariates: the same battles one row each with their covariates (read_battles(...,
    style=True).rows_with_covariates): ratings and covariate coefficients are fitted together,
    with an L2 penalty `reg` on the coefficients (STYLE_REG; arena-rank uses 1.0) and, with reweight, arena-rank's inverse pair
    frequency weights (LMArena's style control).
    anchor: a player whose rating is pinned at anchor_rating (default: 1000 on the elo scale, 0
    raw); intervals then describe each player's difference from it.

    >>> from judgerank.arena import arena
    >>> board = arena([("gpt", "llama", 1), ("llama", "gpt", 0.5), ("gpt", "llama", 1)], method="win-rate")
    >>> [row.player for row in board.rows]
    ['gpt', 'llama']
    """
    battles = as_battles(battles)
    _check_arguments(method, bootstrap, sandwich, covariates, anchor, battles)
    started = time.perf_counter()
    battles = battles.without_self_battles().unique()
    notes: list[str] = []
    w = battles.win_matrix(ties)
    if method == "bradley-terry" and prior == 0.0 and not mle_exists(w):
        prior = FALLBACK_PRIOR
        notes.append(
            f"the Bradley-Terry MLE does not exist for these battles (a player never won, never lost, or sits "
            f"in a separate group), so a prior of {prior} virtual games was used"
        )
    coefficients: list[Coefficient] = []
    if method == "bradley-terry" and (covariates is not None or sandwich):
        theta, lower_t, upper_t, coefficients = _bradley_terry_with_covariates(
            battles, covariates, w, ties, prior, reg, reweight, bootstrap, sandwich, seed, level, anchor
        )
        rating = to_scale(theta) if scale == "elo" else theta
        lower = upper = None
        if lower_t is not None:
            lower, upper = (to_scale(x) if scale == "elo" else x for x in (lower_t, upper_t))
    else:
        rating, theta = _rate(method, battles, w, ties, prior, scale, k, shuffles, seed)
        lower = upper = None
        if bootstrap:
            samples = _bootstrap(method, battles, theta, bootstrap, seed, ties, prior, scale)
            if anchor is not None:
                i = battles.players.index(anchor)
                samples = samples - samples[:, i : i + 1] + rating[i]
            lower, upper = percentile_interval(samples, level)
    vs_anchor = None
    if anchor is not None:
        i = battles.players.index(anchor)
        pinned = anchor_rating if anchor_rating is not None else (to_scale(np.zeros(1))[0] if scale == "elo" else 0.0)
        shift = pinned - rating[i]
        rating = rating + shift
        if lower is not None and upper is not None:
            lower, upper = lower + shift, upper + shift
        if theta is not None:
            vs_anchor = win_probability(theta)[:, i]
    order = sorted(range(battles.n_players), key=lambda i: (-rating[i], battles.players[i]))
    rows = _rows(battles, order, rating, lower, upper, vs_anchor)
    silent = [r.player for r in rows if r.wins + r.losses == 0]
    if silent:
        notes.append(f"players with no decisive result: {', '.join(silent)}")
    halves = w if ties == "half" else battles.win_matrix("half")
    games = (halves + halves.T)[np.ix_(order, order)]
    settings = {
        "ties": ties, "bootstrap": bootstrap, "sandwich": sandwich, "seed": seed, "prior": prior, "scale": scale,
        "level": level,
        **({"k": k, "shuffles": shuffles} if method == "elo" else {}),
        **({"covariates": list(covariates.names), "reg": reg, "reweight": reweight} if covariates is not None else {}),
        **({"anchor": anchor, "anchor_rating": float(rating[battles.players.index(anchor)])} if anchor else {}),
    }
    return Leaderboard(
        method=method,
        rows=rows,
        settings=settings,
        notes=notes,
        coefficients=coefficients,
        win_prob=win_probability(theta[order]) if theta is not None else None,
        battle_counts=games,
        seconds=time.perf_counter() - started,
    )


def _check_arguments(method, bootstrap, sandwich, covariates, anchor, battles: Battles) -> None:
    if method not in METHODS:
        raise JudgerankError(f"unknown arena method {method!r}: use one of {', '.join(METHODS)}")
    if bootstrap < 0:
        raise JudgerankError("bootstrap must be a positive number of resamples")
    if bootstrap and method == "elo":
        raise JudgerankError("bootstrap intervals are not offered for elo (it averages shuffled orders instead)")
    if bootstrap and sandwich:
        raise JudgerankError("choose one kind of interval: bootstrap or sandwich")
    if sandwich and method != "bradley-terry":
        raise JudgerankError("sandwich intervals need the bradley-terry method")
    if covariates is not None and method != "bradley-terry":
        raise JudgerankError("style control (covariates) needs the bradley-terry method")
    if anchor is not None and method not in ("bradley-terry", "elo"):
        raise JudgerankError("an anchor needs a rating on an additive scale: bradley-terry or elo")
    if anchor is not None and anchor not in battles.players:
        raise JudgerankError(f"anchor {anchor!r} is not a player in these battles")
    if covariates is not None and covariates.players != battles.players:
        raise JudgerankError("the covariate rows name other players than the battles")


def _bradley_terry_with_covariates(battles, covariates, w, ties, prior, reg, reweight, bootstrap, sandwich, seed,
                                   level, anchor):
    """Log-strengths, their interval and the coefficients, from the contextual fit (covariates,
    one row per battle) or, for sandwich intervals without covariates, the aggregated rows."""
    if covariates is not None:
        rows = covariates
        if ties == "ignore":
            rows = rows.subset(rows.outcome != 0.5)
        if reweight:
            rows = replace(rows, weight=inverse_pair_weights(rows.a, rows.b, rows.n_players))
        fit = fit_contextual(rows, reg=reg, prior=prior)
    else:
        keep = battles.outcome != 0.5 if ties == "ignore" else np.ones(len(battles.count), bool)
        rows = BattleRows(battles.players, battles.a[keep], battles.b[keep], battles.outcome[keep],
                          np.zeros((int(keep.sum()), 0)), battles.count[keep], np.ones(int(keep.sum())))
        fit = ContextualFit(bradley_terry(w, prior=prior), np.zeros(0), 0)
    n = rows.n_players
    lower = upper = None
    beta_lo = beta_hi = None
    if bootstrap:
        thetas, betas = bootstrap_contextual(rows, fit, bootstrap, seed, reg=reg, prior=prior)
        if anchor is not None:
            i = battles.players.index(anchor)
            thetas = thetas - thetas[:, i : i + 1] + fit.theta[i]
        lower, upper = percentile_interval(thetas, level)
        if betas.shape[1]:
            beta_lo, beta_hi = percentile_interval(betas, level)
    elif sandwich:
        cov = sandwich_covariance(rows, fit, reg=reg)
        theta_cov = cov[:n, :n]
        if anchor is not None:  # the variance of each player's difference from the anchor
            i = battles.players.index(anchor)
            theta_cov = theta_cov - theta_cov[:, [i]] - theta_cov[[i], :] + theta_cov[i, i]
        lower, upper = sandwich_interval(fit.theta, theta_cov, level)
        beta_lo, beta_hi = sandwich_interval(fit.beta, cov[n:, n:], level)
    coefficients = [
        Coefficient(name, float(fit.beta[j]), None if beta_lo is None else float(beta_lo[j]),
                    None if beta_hi is None else float(beta_hi[j]))
        for j, name in enumerate(rows.names)
    ]
    return fit.theta, lower, upper, coefficients


def _rate(method, battles, w, ties, prior, scale, k, shuffles, seed):
    """Ratings on the reported scale, plus BT log-strengths when the method has them."""
    if method == "bradley-terry":
        theta = bradley_terry(w, prior=prior)
        return (to_scale(theta) if scale == "elo" else theta), theta
    if method == "elo":
        return elo(battles, k=k, shuffles=shuffles, seed=seed, ties=ties), None
    return _plain(method, w), None


def _plain(method: str, w: np.ndarray) -> np.ndarray:
    if method == "rank-centrality":
        return rank_centrality(w)
    if method == "pagerank":
        return pagerank(w)
    if method == "win-rate":
        return np.nan_to_num(win_rate(w), nan=0.0)
    return copeland(w).astype(float)


def _bootstrap(method, battles, theta, n, seed, ties, prior, scale) -> np.ndarray:
    if method == "bradley-terry":
        samples = bootstrap_bradley_terry(battles, theta, n, seed, ties, prior)
        return to_scale(samples) if scale == "elo" else samples
    return np.stack([_plain(method, wm) for wm in resampled_win_matrices(battles, n, seed, ties)])


def _rows(battles: Battles, order: list[int], rating, lower, upper, vs_anchor) -> list[PlayerRow]:
    """Leaderboard rows in `order`, with each player's record counted from the battles."""
    n = battles.n_players

    def tally(mask_a: np.ndarray, mask_b: np.ndarray) -> np.ndarray:
        return np.bincount(battles.a[mask_a], battles.count[mask_a], n) + np.bincount(
            battles.b[mask_b], battles.count[mask_b], n
        )

    tie = battles.outcome == 0.5
    wins = tally(battles.outcome == 1.0, battles.outcome == 0.0)
    losses = tally(battles.outcome == 0.0, battles.outcome == 1.0)
    tie_games = tally(tie, tie)
    games = wins + losses + tie_games
    rows = []
    for rank, i in enumerate(order, 1):
        decided = wins[i] + losses[i]
        rows.append(
            PlayerRow(
                rank=rank,
                player=battles.players[i],
                rating=float(rating[i]),
                lower=None if lower is None else float(lower[i]),
                upper=None if upper is None else float(upper[i]),
                battles=int(games[i]),
                wins=float(wins[i]),
                losses=float(losses[i]),
                ties=float(tie_games[i]),
                win_rate=float(wins[i] / decided) if decided else None,
                vs_anchor=None if vs_anchor is None else float(vs_anchor[i]),
            )
        )
    return rows
