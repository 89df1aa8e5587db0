"""How an arena's players are rated, and how sure the ratings are: parameter objects, each checked
when it is made, that `leaderboard` takes (judgerank.arena.ratings).

Raters: BradleyTerry (with a prior, and with battle covariates: style control), Elo, and the
counting raters RankCentrality, PageRank, WinRate, Copeland. Intervals: Bootstrap, Sandwich
(Bradley-Terry only). Anchor pins one player's rating.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from judgerank.aggregate.contextual import BattleRows
from judgerank.core.errors import JudgerankError

# L2 penalty on covariate coefficients, in arena-rank's units (per battle, on the mean log-loss).
# arena-rank's default 1.0 shrinks a coefficient to about a sixth of its maximum-likelihood value
# (a standardised covariate carries ~0.2 of information per battle), which leaves most of the style
# effect in the ratings; 1e-3 barely shrinks while keeping collinear covariates identified.
STYLE_REG = 1e-3


def _at_least(name: str, value: float, low: float, *, strict: bool = False) -> None:
    if not math.isfinite(value) or value < low or (strict and value == low):
        raise JudgerankError(f"{name} must be {'above' if strict else 'at least'} {low:g}, not {value}")


@dataclass(frozen=True)
class BradleyTerry:
    """Bradley-Terry maximum likelihood. prior: virtual games against an average player (a finite
    rating for everyone); covariates: the battles one row each with covariates fitted together
    with the ratings (style control; read_battles(..., style=True).rows_with_covariates), with an
    L2 penalty `reg` on their coefficients and, with reweight, arena-rank's inverse pair frequency
    weights."""

    prior: float = 0.0
    covariates: BattleRows | None = None
    reg: float = STYLE_REG
    reweight: bool = False
    name: ClassVar[str] = "bradley-terry"

    def __post_init__(self) -> None:
        _at_least("the Bradley-Terry prior", self.prior, 0.0)
        _at_least("the covariates' penalty (reg)", self.reg, 0.0)


@dataclass(frozen=True)
class Elo:
    """Online Elo with factor k, averaged over `shuffles` random battle orders."""

    k: float = 4.0
    shuffles: int = 100
    name: ClassVar[str] = "elo"

    def __post_init__(self) -> None:
        _at_least("Elo's k", self.k, 0.0, strict=True)
        _at_least("Elo's shuffles", self.shuffles, 1)


@dataclass(frozen=True)
class RankCentrality:
    """The stationary distribution of a walk toward winners (Negahban et al.), as log-probabilities."""

    name: ClassVar[str] = "rank-centrality"


@dataclass(frozen=True)
class PageRank:
    """PageRank over links from each loser to its winner."""

    name: ClassVar[str] = "pagerank"


@dataclass(frozen=True)
class WinRate:
    """The share of its games each player won (ties as `ties` counts them)."""

    name: ClassVar[str] = "win-rate"


@dataclass(frozen=True)
class Copeland:
    """Head-to-head majorities won minus lost."""

    name: ClassVar[str] = "copeland"


Counting = RankCentrality | PageRank | WinRate | Copeland
Rater = BradleyTerry | Elo | Counting
RATERS: dict[str, type[Rater]] = {r.name: r for r in (BradleyTerry, Elo, RankCentrality, PageRank, WinRate, Copeland)}
METHODS = tuple(RATERS)


@dataclass(frozen=True)
class Bootstrap:
    """Percentile intervals at `level` from `resamples` Poisson resamples of the battles."""

    resamples: int = 1000
    level: float = 0.95

    def __post_init__(self) -> None:
        _at_least("bootstrap resamples", self.resamples, 1)
        _check_level(self.level)


@dataclass(frozen=True)
class Sandwich:
    """Normal intervals at `level` from Bradley-Terry's robust (sandwich) covariance, as arena-rank."""

    level: float = 0.95

    def __post_init__(self) -> None:
        _check_level(self.level)


@dataclass(frozen=True)
class Anchor:
    """A player whose rating is pinned at `rating` (default: 1000 on the elo scale, 0 raw)."""

    player: str
    rating: float | None = None

    def __post_init__(self) -> None:
        if self.rating is not None and not math.isfinite(self.rating):
            raise JudgerankError(f"the anchor's rating must be a finite number, not {self.rating}")


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise JudgerankError(f"an interval's level must be between 0 and 1, not {level}")


def rater(name: str, **settings: Any) -> Rater:
    """A rater by its name (bradley-terry, elo, rank-centrality, pagerank, win-rate, copeland) with
    the settings it takes; a one-line error for an unknown name or a setting it does not take."""
    kind = RATERS.get(name)
    if kind is None:
        raise JudgerankError(f"unknown arena method {name!r}: use one of {', '.join(RATERS)}")
    try:
        return kind(**settings)
    except TypeError:
        raise JudgerankError(f"{name} takes none of {', '.join(sorted(settings))}") from None
