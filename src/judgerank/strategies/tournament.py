"""Tournament schedulers: which battles to judge next, given the results so far.

Both are stateless: the next matches follow from the seeds and the results alone, so a run that
stops can resume. A result is (a, b, outcome) with outcome 1.0 (a won), 0.0 (b won) or 0.5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass
class Knockout:
    """Single elimination, re-seeded each round: the best remaining seed meets the worst.

    When the field is not a power of two the top seeds skip round one. A tie advances the better
    seed. next_round returns the matches of the current round that have no result yet, and []
    once there is a champion.
    """

    players: Sequence[str]  # seeds, strongest first

    def next_round(self, results: Sequence[Result]) -> list[tuple[str, str]]:
        pending, _ = self._play(results)
        return pending

    def champion(self, results: Sequence[Result]) -> str | None:
        _, champion = self._play(results)
        return champion

    def _play(self, results: Sequence[Result]) -> tuple[list[tuple[str, str]], str | None]:
        seed = {p: i for i, p in enumerate(self.players)}
        decided = {frozenset((a, b)): (a, b, o) for a, b, o in results}
        size = 1 << max(0, len(self.players) - 1).bit_length()
        byes = size - len(self.players)
        through, playing = list(self.players[:byes]), list(self.players[byes:])
        while True:
            matches = [(playing[i], playing[-1 - i]) for i in range(len(playing) // 2)]
            pending = [m for m in matches if frozenset(m) not in decided]
            if pending:
                return pending, None
            for m in matches:
                a, b, o = decided[frozenset(m)]
                through.append(min(a, b, key=seed.__getitem__) if o == 0.5 else (a if o == 1.0 else b))
            if len(through) == 1:
                return [], through[0]
            playing, through = sorted(through, key=seed.__getitem__), []


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
    import numpy as np

    from judgerank.aggregate.bradley_terry import bradley_terry

    players = list(swiss.players)
    index = {p: i for i, p in enumerate(players)}
    wins = np.zeros((len(players), len(players)))
    games = dict.fromkeys(players, 0)
    for a, b, outcome in results:
        wins[index[a], index[b]] += outcome
        wins[index[b], index[a]] += 1.0 - outcome
        games[a] += 1
        games[b] += 1
    theta = bradley_terry(wins, prior=prior)
    played = max(games.values()) if games else 0
    left = max(0, rounds - played)

    def p_win(a: str, b: str) -> float:
        return float(1.0 / (1.0 + np.exp(theta[index[b]] - theta[index[a]])))

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
