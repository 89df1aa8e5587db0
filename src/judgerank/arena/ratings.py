"""Leaderboards from battle records: a rating per player with an interval, and the evidence.

`leaderboard(battles, rater, interval)` is the one entry point; it never calls a model. The rater
says how players are rated (BradleyTerry, optionally with battle covariates: style control; Elo;
RankCentrality; PageRank; WinRate; Copeland) and the interval how sure the ratings are
(Bootstrap, resampling the battles; Sandwich, Bradley-Terry's robust covariance). Each is a
parameter object, checked when it is made; a combination that cannot be computed (a sandwich
for Elo, covariates for PageRank) is a type error, and an error when run without a type checker.
An anchor player's rating is pinned and every player's predicted win rate against it reported.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np

from judgerank.aggregate import rate
from judgerank.aggregate.battles import Battles, Ties
from judgerank.aggregate.bootstrap import bootstrap_bradley_terry, percentile_interval, resampled_win_matrices
from judgerank.aggregate.bradley_terry import bradley_terry, mle_exists, to_scale, win_probability
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
from judgerank.arena.files import as_battles
from judgerank.arena.raters import (
    RATERS,
    STYLE_REG,
    Anchor,
    Bootstrap,
    BradleyTerry,
    Counting,
    Elo,
    Rater,
    Sandwich,
    rater,
)
from judgerank.core.errors import JudgerankError

Scale = Literal["elo", "raw"]
BattleSource = Battles | str | Path | Sequence[Any]
FALLBACK_PRIOR = 0.01
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
        """The leaderboard as JSON-ready data (what --out NAME.json writes)."""
        return {
            "method": self.method,
            "settings": self.settings,
            "notes": self.notes,
            "seconds": self.seconds,
            "leaderboard": [asdict(r) for r in self.rows],
            **({"coefficients": [asdict(c) for c in self.coefficients]} if self.coefficients else {}),
        }


@overload
def leaderboard(battles: BattleSource, rater: BradleyTerry = ..., interval: Bootstrap | Sandwich | None = ..., *,
                ties: Ties = ..., scale: Scale = ..., seed: int = ..., anchor: Anchor | str | None = ...) -> Leaderboard:
    ...


@overload
def leaderboard(battles: BattleSource, rater: Elo, interval: None = ..., *, ties: Ties = ..., scale: Scale = ...,
                seed: int = ..., anchor: Anchor | str | None = ...) -> Leaderboard:
    ...


@overload
def leaderboard(battles: BattleSource, rater: Counting, interval: Bootstrap | None = ..., *, ties: Ties = ...,
                scale: Scale = ..., seed: int = ..., anchor: None = ...) -> Leaderboard:
    ...


def leaderboard(
    battles: BattleSource,
    rater: Rater = BradleyTerry(),  # noqa: B008 (frozen: one default shared safely)
    interval: Bootstrap | Sandwich | None = None,
    *,
    ties: Ties = "half",
    scale: Scale = "elo",
    seed: int = 0,
    anchor: Anchor | str | None = None,
) -> Leaderboard:
    """Rate every player of `battles` with `rater`, with `interval`s if asked (see `rate_players`);
    a type checker rejects a combination that cannot be computed (a sandwich for Elo, an anchor
    for PageRank).

    Examples:
        >>> from judgerank import leaderboard, WinRate
        >>> board = leaderboard([("gpt", "llama", 1), ("llama", "gpt", 0.5), ("gpt", "llama", 1)], WinRate())
        >>> [row.player for row in board.rows]
        ['gpt', 'llama']
    """
    return rate_players(battles, rater, interval, ties=ties, scale=scale, seed=seed, anchor=anchor)


def rate_players(
    battles: BattleSource,
    rater: Rater,
    interval: Bootstrap | Sandwich | None = None,
    *,
    ties: Ties = "half",
    scale: Scale = "elo",
    seed: int = 0,
    anchor: Anchor | str | None = None,
) -> Leaderboard:
    """The leaderboard, for a rater and interval chosen at run time (the CLI's --method, the
    service's request): what `leaderboard` computes, every combination checked when it runs.

    Rate every player of `battles` (Battles, a battles file, or a list of {model_a, model_b,
    winner} records or (a, b, outcome) tuples) with `rater`, with `interval`s if asked.

    ties: half (a tie is half a win each) or ignore (left out). scale: elo (1000 + 400 log10 of
    the Bradley-Terry strength) or raw (log-strength). seed: the bootstrap's and Elo's shuffles'.
    anchor: a player (or Anchor(player, rating)) whose rating is pinned; intervals then describe
    each player's difference from it.
    """
    battles = as_battles(battles)
    pin = Anchor(anchor) if isinstance(anchor, str) else anchor
    _check(rater, interval, ties, scale, pin, battles, seed)
    started = time.perf_counter()
    battles = battles.without_self_battles().unique()
    notes: list[str] = []
    w = battles.win_matrix(ties)
    if isinstance(rater, BradleyTerry) and rater.prior == 0.0 and not mle_exists(w):
        rater = replace(rater, prior=FALLBACK_PRIOR)
        notes.append(
            f"the Bradley-Terry MLE does not exist for these battles (a player never won, never lost, or sits "
            f"in a separate group), so a prior of {FALLBACK_PRIOR} virtual games was used"
        )
    fit = _fit(rater, interval, battles, w, ties, scale, seed, pin)
    order = sorted(range(battles.n_players), key=lambda i: (-fit.rating[i], battles.players[i]))
    rows = _rows(battles, order, fit.rating, fit.lower, fit.upper, fit.vs_anchor)
    silent = [r.player for r in rows if r.wins + r.losses == 0]
    if silent:
        notes.append(f"players with no decisive result: {', '.join(silent)}")
    halves = w if ties == "half" else battles.win_matrix("half")
    return Leaderboard(
        method=rater.name,
        rows=rows,
        settings=_settings(rater, interval, ties, scale, seed, pin, fit),
        notes=notes,
        coefficients=fit.coefficients,
        win_prob=win_probability(fit.theta[order]) if fit.theta is not None else None,
        battle_counts=(halves + halves.T)[np.ix_(order, order)],
        seconds=time.perf_counter() - started,
    )


@dataclass
class _Fit:
    """Ratings on the reported scale with their interval, Bradley-Terry log-strengths where the
    rater has them, the covariates' coefficients and each player's P(beats the anchor)."""

    rating: np.ndarray
    theta: np.ndarray | None
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    coefficients: list[Coefficient] = field(default_factory=list)
    vs_anchor: np.ndarray | None = None
    anchor_rating: float | None = None


def _fit(rater: Rater, interval: Bootstrap | Sandwich | None, battles: Battles, w: np.ndarray, ties: Ties,
         scale: Scale, seed: int, pin: Anchor | None) -> _Fit:
    bootstrap = interval.resamples if isinstance(interval, Bootstrap) else 0
    level = interval.level if interval is not None else 0.95
    at = battles.players.index(pin.player) if pin is not None else None
    on_scale = (lambda x: to_scale(x)) if scale == "elo" else (lambda x: x)
    if isinstance(rater, BradleyTerry) and (rater.covariates is not None or isinstance(interval, Sandwich)):
        theta, lower_t, upper_t, coefficients = _bradley_terry_with_covariates(
            battles, rater.covariates, w, ties, rater.prior, rater.reg, rater.reweight, bootstrap,
            isinstance(interval, Sandwich), seed, level, pin.player if pin else None,
        )
        fit = _Fit(on_scale(theta), theta, None if lower_t is None else on_scale(lower_t),
                   None if upper_t is None else on_scale(upper_t), coefficients)
    else:
        rating, theta = _rate(rater, battles, w, ties, scale, seed)
        fit = _Fit(rating, theta)
        if bootstrap:
            samples = _bootstrap(rater, battles, theta, bootstrap, seed, ties, scale)
            if at is not None:
                samples = samples - samples[:, at : at + 1] + rating[at]
            fit.lower, fit.upper = percentile_interval(samples, level)
    if pin is not None and at is not None:  # the anchor's rating pinned, every other moved with it
        pinned = pin.rating if pin.rating is not None else (to_scale(np.zeros(1))[0] if scale == "elo" else 0.0)
        shift = pinned - fit.rating[at]
        fit.rating = fit.rating + shift
        if fit.lower is not None and fit.upper is not None:
            fit.lower, fit.upper = fit.lower + shift, fit.upper + shift
        if fit.theta is not None:
            fit.vs_anchor = win_probability(fit.theta)[:, at]
        fit.anchor_rating = float(fit.rating[at])
    return fit


def _settings(rater: Rater, interval: Bootstrap | Sandwich | None, ties: Ties, scale: Scale, seed: int,
              pin: Anchor | None, fit: _Fit) -> dict[str, Any]:
    """What the leaderboard was computed with, as its JSON reports it."""
    return {
        "ties": ties, "bootstrap": interval.resamples if isinstance(interval, Bootstrap) else 0,
        "sandwich": isinstance(interval, Sandwich), "seed": seed,
        "prior": rater.prior if isinstance(rater, BradleyTerry) else 0.0, "scale": scale,
        "level": interval.level if interval is not None else 0.95,
        **({"k": rater.k, "shuffles": rater.shuffles} if isinstance(rater, Elo) else {}),
        **({"covariates": list(rater.covariates.names), "reg": rater.reg, "reweight": rater.reweight}
           if isinstance(rater, BradleyTerry) and rater.covariates is not None else {}),
        **({"anchor": pin.player, "anchor_rating": fit.anchor_rating} if pin is not None else {}),
    }


def _check(rater: Rater, interval: Bootstrap | Sandwich | None, ties: str, scale: str, anchor: Anchor | None,
           battles: Battles, seed: int) -> None:
    """What the types already say, for callers without a type checker; then what depends on the data."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise JudgerankError(f"seed must be a whole number 0 or more, not {seed!r}")
    if not isinstance(rater, tuple(RATERS.values())):
        raise JudgerankError(f"unknown rater {rater!r}: use one of {', '.join(k.__name__ for k in RATERS.values())}")
    if interval is not None and not isinstance(interval, (Bootstrap, Sandwich)):
        raise JudgerankError(f"unknown interval {interval!r}: use Bootstrap(...), Sandwich(...) or None")
    if ties not in ("half", "ignore"):
        raise JudgerankError(f"ties must be half or ignore, not {ties!r}")
    if scale not in ("elo", "raw"):
        raise JudgerankError(f"scale must be elo or raw, not {scale!r}")
    if isinstance(interval, Bootstrap) and isinstance(rater, Elo):
        raise JudgerankError("bootstrap intervals are not offered for elo (it averages shuffled orders instead)")
    if isinstance(interval, Sandwich) and not isinstance(rater, BradleyTerry):
        raise JudgerankError("sandwich intervals need the bradley-terry method")
    if anchor is not None and not isinstance(rater, (BradleyTerry, Elo)):
        raise JudgerankError("an anchor needs a rating on an additive scale: bradley-terry or elo")
    if anchor is not None and anchor.player not in battles.players:
        raise JudgerankError(f"anchor {anchor.player!r} is not a player in these battles")
    if isinstance(rater, BradleyTerry) and rater.covariates is not None and rater.covariates.players != battles.players:
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


def _rate(rater: Rater, battles: Battles, w: np.ndarray, ties: Ties, scale: Scale,
          seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Ratings on the reported scale, plus BT log-strengths when the method has them."""
    if isinstance(rater, BradleyTerry):
        theta = bradley_terry(w, prior=rater.prior)
        return (to_scale(theta) if scale == "elo" else theta), theta
    if isinstance(rater, Elo):
        return elo(battles, k=rater.k, shuffles=rater.shuffles, seed=seed, ties=ties), None
    return rate(rater.name, w), None


def _bootstrap(rater: Rater, battles: Battles, theta: np.ndarray | None, n: int, seed: int, ties: Ties,
               scale: Scale) -> np.ndarray:
    if isinstance(rater, BradleyTerry):
        assert theta is not None  # Bradley-Terry has its log-strengths
        samples = bootstrap_bradley_terry(battles, theta, n, seed, ties, rater.prior)
        return to_scale(samples) if scale == "elo" else samples
    return np.stack([rate(rater.name, wm) for wm in resampled_win_matrices(battles, n, seed, ties)])


def arena(battles: BattleSource, method: str = "bradley-terry", *, ties: Ties = "half", bootstrap: int = 0,
          sandwich: bool = False, seed: int = 0, prior: float = 0.0, scale: Scale = "elo", k: float = 4.0,
          shuffles: int = 100, level: float = 0.95, covariates: BattleRows | None = None, reg: float = STYLE_REG,
          reweight: bool = False, anchor: str | None = None, anchor_rating: float | None = None) -> Leaderboard:
    """Deprecated: leaderboard(battles, rater, interval, ...), whose raters and intervals say which
    settings go together."""
    warnings.warn("judgerank.arena.arena() is now judgerank.leaderboard()", DeprecationWarning, stacklevel=2)
    settings: dict[str, dict[str, Any]] = {
        "bradley-terry": {"prior": prior, "covariates": covariates, "reg": reg, "reweight": reweight},
        "elo": {"k": k, "shuffles": shuffles}}
    interval = Sandwich(level) if sandwich else Bootstrap(bootstrap, level) if bootstrap else None
    return rate_players(battles, rater(method, **settings.get(method, {})), interval, ties=ties, scale=scale, seed=seed,
                        anchor=Anchor(anchor, anchor_rating) if anchor else None)


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
