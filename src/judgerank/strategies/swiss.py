"""Swiss tournaments: the Swiss scheduler, where a tournament is heading, and the `swiss` method.

The scheduler is stateless: the next round follows from the seeds and the results alone, so a run
that stops can resume. A result is (a, b, outcome) with outcome in [0, 1] (1.0 a won, 0.0 b won,
0.5 a tie; the judge's probability as a soft outcome). `swiss_outlook` says where a tournament is
heading (expected final scores over simulated continuations, and which pairing matters most): the
`swiss` method ranks a tournament the Budget cut short by it, and `judgerank swiss` prints it for
a tournament of players.

The method: a few rounds of pairings between items with equal scores, then a Bradley-Terry fit on
the results. About n/2 comparisons a round, all of a round in one batch: for larger sets under a
budget, where all pairs cost too much. Partial ranking (Budget reached): by each item's expected
final Swiss score over simulated continuations, Bradley-Terry on the comparisons judged breaking
ties; that expectation is the score.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from judgerank.aggregate.bradley_terry import bradley_terry, soft_wins
from judgerank.core.judging import Comparer
from judgerank.core.types import Item, Query
from judgerank.strategies.base import Ordering

PRIOR = 1.0  # virtual games against an average item: finite ratings after few rounds
PARTIAL_SIMULATIONS = 200  # continuations simulated to rank a tournament a Budget cut short

Result = tuple[str, str, float]


@dataclass
class Swiss:
    """Swiss system: players with equal scores meet, nobody meets the same opponent twice.

    Players are ordered by score (a win 1, a tie 0.5), then by seed; each player meets the
    highest-placed one it has not met, backtracking when the last ones have all met. With an odd
    field, the lowest-placed player that has not had a bye sits the round out.
    """

    players: Sequence[str]  # seeds, strongest first

    def scores(self, results: Sequence[Result]) -> dict[str, float]:
        score = {p: 0.0 for p in self.players}
        for a, b, outcome in results:
            score[a] += outcome
            score[b] += 1.0 - outcome
        return score

    def next_round(self, results: Sequence[Result]) -> list[tuple[str, str]]:
        score = self.scores(results)
        seed = {p: i for i, p in enumerate(self.players)}
        standing = sorted(self.players, key=lambda p: (-score[p], seed[p]))
        if len(standing) % 2:
            games = {p: 0 for p in self.players}
            for a, b, _ in results:
                games[a] += 1
                games[b] += 1
            rounds = max(games.values())
            no_bye_yet = [p for p in standing if games[p] == rounds]
            standing.remove((no_bye_yet or standing)[-1])
        met = {frozenset((a, b)) for a, b, _ in results}
        # when every pairing repeats a meeting (a long tournament), repeats are allowed
        return _pair(standing, met) or _pair(standing, set()) or []


def _pair(standing: list[str], met: set[frozenset[str]]) -> list[tuple[str, str]] | None:
    if not standing:
        return []
    first, rest = standing[0], standing[1:]
    for i, other in enumerate(rest):
        if frozenset((first, other)) not in met:
            tail = _pair(rest[:i] + rest[i + 1 :], met)
            if tail is not None:
                return [(first, other), *tail]
    return None


@dataclass(frozen=True)
class Pairing:
    a: str
    b: str
    p_a: float  # P(a wins), from the Bradley-Terry fit of the results so far
    impact: float  # expected total change of the expected final scores once this game is decided


@dataclass(frozen=True)
class SwissOutlook:
    """Where a Swiss tournament is heading (LLM Swiss Round's expected score)."""

    played: int  # rounds played so far
    rounds: int  # rounds in all
    scores: dict[str, float]  # Swiss scores so far
    expected: dict[str, float]  # expected final Swiss scores over simulated continuations
    next_round: list[Pairing]  # the next round's pairings, the one that matters most first


def swiss_outlook(
    swiss: Swiss, results: Sequence[Result], rounds: int, simulations: int = 300, seed: int = 0, prior: float = 1.0
) -> SwissOutlook:
    """Expected final Swiss scores after `rounds` rounds in all, and how much each pairing of the
    next round matters.

    Every remaining game is simulated as won with the Bradley-Terry probability fitted to the
    results so far (with `prior` virtual games against an average player, so that the unbeaten
    and the winless get finite strengths); the continuations pair players as the Swiss scheduler
    would. A pairing's impact is the expected change, summed over the players, of the expected
    final scores once its game is decided: p |E[S | a wins] - E[S]| + (1 - p) |E[S | b wins] - E[S]|,
    each estimated on the same random numbers (common random numbers keep the differences from
    drowning in simulation noise)."""
    players = list(swiss.players)
    index = {p: i for i, p in enumerate(players)}
    games = dict.fromkeys(players, 0)
    for a, b, _ in results:
        games[a] += 1
        games[b] += 1
    theta = bradley_terry(soft_wins(players, results), prior=prior)
    played = max(games.values()) if games else 0
    left = max(0, rounds - played)

    def p_win(a: str, b: str) -> float:
        return float(expit(theta[index[a]] - theta[index[b]]))

    def expected(fixed: Sequence[Result], rounds_left: int) -> dict[str, float]:
        total = dict.fromkeys(players, 0.0)
        rng = np.random.default_rng(seed)  # the same draws for every conditional run
        for _ in range(simulations):
            sim = [*results, *fixed]
            for _ in range(rounds_left):
                pairs = swiss.next_round(sim)
                draws = rng.random(len(pairs))
                sim += [(a, b, 1.0 if u < p_win(a, b) else 0.0) for (a, b), u in zip(pairs, draws)]
            for p, s in swiss.scores(sim).items():
                total[p] += s
        return {p: s / simulations for p, s in total.items()}

    base = expected([], left)
    next_round = []
    if left:
        for a, b in swiss.next_round(results):
            p = p_win(a, b)
            if_a, if_b = expected([(a, b, 1.0)], left - 1), expected([(a, b, 0.0)], left - 1)
            impact = sum(p * abs(if_a[x] - base[x]) + (1 - p) * abs(if_b[x] - base[x]) for x in players)
            next_round.append(Pairing(a, b, p, impact))
        next_round.sort(key=lambda g: -g.impact)
    return SwissOutlook(played, rounds, swiss.scores(results), base, next_round)


@dataclass
class SwissRank:
    judge: Comparer
    rounds: int | None = None  # default: ceil(log2 n) + 2

    def rank(self, query: Query, items: Sequence[Item]) -> Ordering:
        by_id = {i.id: i for i in items}
        ids = [i.id for i in items]
        swiss = Swiss(ids)
        rounds = self.rounds or math.ceil(math.log2(max(2, len(items)))) + 2
        results: list[Result] = []
        complete = True
        for _ in range(rounds):
            pairs = swiss.next_round(results)
            if not pairs:
                break
            answers = self.judge.compare(query, [(by_id[a], by_id[b]) for a, b in pairs])
            # the soft outcome keeps how sure the judge was; the scheduler only needs the standing
            results += [(p.a, p.b, p.prob) for p in answers.got()]
            if not answers.complete:
                complete = False
                break
        theta = bradley_terry(soft_wins(ids, results), prior=PRIOR)
        if complete:
            order = sorted(range(len(items)), key=lambda n: -theta[n])
            return Ordering([items[n].id for n in order], [float(theta[n]) for n in order], True)
        expected = swiss_outlook(swiss, results, rounds, simulations=PARTIAL_SIMULATIONS, prior=PRIOR).expected
        order = sorted(range(len(items)), key=lambda n: (-expected[items[n].id], -theta[n]))
        return Ordering([items[n].id for n in order], [expected[items[n].id] for n in order], False)
