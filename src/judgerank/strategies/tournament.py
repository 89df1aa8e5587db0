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
