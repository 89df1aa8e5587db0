"""Records that flow through the engine: what is ranked, the signals judges return, the result.

Plain frozen dataclasses; nothing here calls a model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Item:
    """One candidate to rank: a passage, a response, a model. `score` is the first stage's score
    where the input gives one (a retriever's BM25, say): InsertRank shows it in listwise prompts."""

    id: str
    text: str
    score: float | None = None


@dataclass(frozen=True)
class Query:
    """What items are ranked for: a search query, or a prompt whose responses are judged.

    `reference` is an optional reference answer that response judges show the model.
    """

    id: str
    text: str
    reference: str | None = None


@dataclass(frozen=True)
class Request:
    """One ranking job: a query and its candidates in first-stage order."""

    query: Query
    items: tuple[Item, ...]


Verdict = Literal["a", "b", "tie"]
FIVE_LEVELS = ("a>>b", "a>b", "tie", "b>a", "b>>a")  # arena-hard's verdicts, in a's frame


def _argmax_verdict(p_a: float, p_tie: float) -> Verdict:
    """p_a counts a tie as half a win for a; undo that to get P(a), P(b), P(tie)."""
    win_a = p_a - 0.5 * p_tie
    win_b = 1.0 - win_a - p_tie
    best = max(win_a, win_b, p_tie)
    return "tie" if best == p_tie or win_a == win_b else ("a" if best == win_a else "b")


@dataclass(frozen=True)
class Preference:
    """Pairwise signal for (a, b), measured with a shown first and with a shown second.

    p_a_first: P(a preferred | a shown first); p_a_second: P(a preferred | a shown second).
    `prob` averages the two, which cancels a constant position bias, and `verdict` reads it:
    'a' above one half, 'b' below, 'tie' at exactly one half (orders that disagree by the same
    margin cancel to a tie, never to a coin flip).

    Judges that offer a tie answer also report P(tie) in each order (tie_a_first, tie_a_second);
    a tie then counts half for each side in p_a_first and p_a_second.
    """

    a: str
    b: str
    p_a_first: float
    p_a_second: float
    tie_a_first: float = 0.0
    tie_a_second: float = 0.0
    # five-level judges: P(a>>b, a>b, tie, b>a, b>>a) with a shown first, and with a shown second
    levels_a_first: tuple[float, ...] | None = None
    levels_a_second: tuple[float, ...] | None = None

    @property
    def prob(self) -> float:
        return 0.5 * (self.p_a_first + self.p_a_second)

    def flipped(self) -> Preference:
        """The same answer in b's frame: b shown first is a's second order."""
        return Preference(
            self.b, self.a, 1.0 - self.p_a_second, 1.0 - self.p_a_first, self.tie_a_second, self.tie_a_first,
            None if self.levels_a_second is None else self.levels_a_second[::-1],
            None if self.levels_a_first is None else self.levels_a_first[::-1],
        )

    @property
    def p_tie(self) -> float:
        return 0.5 * (self.tie_a_first + self.tie_a_second)

    @property
    def order_verdicts(self) -> tuple[Verdict, Verdict]:
        """The most likely answer (a, b or tie) in each order: what a judge that only decodes
        its answer would say with a shown first, and with a shown second."""
        return (
            _argmax_verdict(self.p_a_first, self.tie_a_first),
            _argmax_verdict(self.p_a_second, self.tie_a_second),
        )

    @property
    def verdict(self) -> Verdict:
        p = self.prob
        return "a" if p > 0.5 else "b" if p < 0.5 else "tie"

    @property
    def levels(self) -> tuple[float, ...] | None:
        """Five-level judges: the distribution over FIVE_LEVELS averaged over both orders."""
        if self.levels_a_first is None or self.levels_a_second is None:
            return None
        return tuple(0.5 * (x + y) for x, y in zip(self.levels_a_first, self.levels_a_second))

    @property
    def five_level_verdict(self) -> str | None:
        """The most likely of FIVE_LEVELS over both orders (None for a three-answer judge)."""
        dist = self.levels
        return None if dist is None else FIVE_LEVELS[max(range(5), key=lambda i: (dist[i], i == 2))]


@dataclass(frozen=True)
class Budget:
    """Upper bounds on new (uncached) backend work for one ranking job."""

    max_calls: int | None = None
    max_tokens: int | None = None


@dataclass
class Costs:
    """What a ranking cost. Cache hits cost no calls and no tokens.

    prompt_tokens counts every prompt token a backend was asked for; evaluated_tokens counts the
    ones it actually computed (the rest came from a reused KV-cache prefix). retries counts
    failed attempts that an HTTP backend repeated. rounds counts the batches sent to a model:
    each waited for the answers of the one before, so with a backend that runs a batch at once
    they bound the latency. implied counts comparisons answered by transitivity without a call.
    flops estimates the model's compute (judgerank.flops; 0 where the model's shape is unknown,
    as for a served model).
    """

    calls: int = 0
    rounds: int = 0
    implied: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    evaluated_tokens: int = 0
    cache_hits: int = 0
    embedded_texts: int = 0
    clipped_texts: int = 0  # passages, responses or queries cut to fit a prompt (each counted once)
    retries: int = 0
    flops: float = 0.0
    seconds: float = 0.0

    def add(self, other: Costs) -> None:
        """Add another account's costs to this one (totals over many rankings)."""
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, float]:
        """Plain numbers: counts as ints, seconds as a float."""
        return asdict(self)


@dataclass
class Ranking:
    """A ranking of one request: ids best first, a score per id, and what it cost.

    Scores are the strategy's own (log-odds, win probabilities, ...) and only their order is
    meaningful across methods. `complete` is False when a Budget stopped the strategy early.
    """

    query_id: str
    ids: list[str]
    scores: list[float | None]
    method: str
    costs: Costs = field(default_factory=Costs)
    complete: bool = True
    parse: dict | None = None  # listwise methods: permutation repairs (duplicates, invalid, missing)
    flags: dict[str, list[str]] = field(default_factory=dict)  # id -> guard flag codes (judgerank.guard)
    certificate: float | None = None  # active: posterior probability that the top k is right

    def as_dict(self) -> dict:
        """The ranking as JSON-ready data (what --out NAME.jsonl writes)."""
        dropped = {i: f for i, f in self.flags.items() if i not in self.ids}  # --guard drop
        return {
            "query_id": self.query_id,
            "method": self.method,
            "complete": self.complete,
            "ranking": [
                {"id": i, "score": s, **({"flags": self.flags[i]} if i in self.flags else {})}
                for i, s in zip(self.ids, self.scores)
            ],
            "costs": self.costs.as_dict(),
            **({"certificate": self.certificate} if self.certificate is not None else {}),
            **({"parse": self.parse} if self.parse is not None else {}),
            **({"dropped": dropped} if dropped else {}),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Ranking:
        """The ranking as_dict wrote (a worker's result, a line of an earlier --out NAME.jsonl)."""
        return cls(
            query_id=data["query_id"],
            ids=[row["id"] for row in data["ranking"]],
            scores=[row["score"] for row in data["ranking"]],
            method=data["method"],
            costs=Costs(**data.get("costs", {})),
            complete=data.get("complete", True),
            parse=data.get("parse"),
            certificate=data.get("certificate"),
            flags={row["id"]: row["flags"] for row in data["ranking"] if row.get("flags")} | data.get("dropped", {}),
        )


def as_items(docs: object) -> tuple[Item, ...]:
    """Items from what users hold: Items, strings (ids are their positions) or {"text", "id"?}
    dicts. Anything else is a TypeError naming the position and the type found."""
    if isinstance(docs, (str, bytes)) or not hasattr(docs, "__iter__"):
        raise TypeError(f"expected a list of strings, Items or {{'text': ...}} dicts, not {type(docs).__name__}")
    items = []
    for n, d in enumerate(docs):
        if isinstance(d, Item):
            items.append(d)
        elif isinstance(d, str):
            items.append(Item(str(n), d))
        elif isinstance(d, dict) and isinstance(d.get("text"), str):
            items.append(Item(str(d.get("id", n)), d["text"]))
        else:
            raise TypeError(f"item {n}: expected a string, an Item or a dict with 'text', not {type(d).__name__}")
    return tuple(items)


def as_query(query: object, qid: str = "q") -> Query:
    """A Query from a Query or a string; a TypeError otherwise."""
    if isinstance(query, Query):
        return query
    if isinstance(query, str):
        return Query(qid, query)
    raise TypeError(f"expected the query as a string or a Query, not {type(query).__name__}")
