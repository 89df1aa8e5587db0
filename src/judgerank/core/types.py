"""Records that flow through every job: what is ranked, the signals judges return, what came back
of a batch, and the ranking.

Plain dataclasses; nothing here calls a model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from judgerank.core.costs import Costs
from judgerank.core.errors import JudgerankError

T = TypeVar("T")
U = TypeVar("U")


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


@dataclass(frozen=True)
class Answers(Generic[T]):
    """What came back for a batch of requests, aligned with them: None where the Budget stopped
    a request before it was judged. `complete` is False when that happened. A budget cut is this
    value, not an exception: whoever asked keeps every answer that came back and decides what
    to do with the rest."""

    values: list[T | None]
    complete: bool = True

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self) -> Iterator[T | None]:
        return iter(self.values)

    def __getitem__(self, index: int) -> T | None:
        return self.values[index]

    def got(self) -> list[T]:
        """The answers that came back, in order."""
        return [v for v in self.values if v is not None]

    def map(self, convert: Callable[[Sequence[T | None]], Sequence[U | None]]) -> Answers[U]:
        """The same answers turned into other signals by `convert`, which keeps None where a
        request was not judged (a judge's backend results into its signals)."""
        return Answers(list(convert(self.values)), self.complete)

    def first(self) -> T | None:
        return self.values[0] if self.values else None

    @classmethod
    def whole(cls, values: Iterable[T]) -> Answers[T]:
        """Answers for a batch that was judged whole."""
        return cls(list(values), True)


Verdict = Literal["a", "b", "tie"]
FIVE_LEVELS = ("a>>b", "a>b", "tie", "b>a", "b>>a")  # arena-hard's verdicts, in a's frame
# A battle's winner as battle files write it, and what each label means as a's outcome (1 a won, 0 b won).
WINNER_OF: dict[Verdict, str] = {"a": "model_a", "b": "model_b", "tie": "tie"}
OUTCOMES: dict[str, float] = {"model_a": 1.0, "a": 1.0, "model_b": 0.0, "b": 0.0, "tie": 0.5, "draw": 0.5}


def verdict_of(score: float, margin: float = 0.0) -> Verdict:
    """A verdict read from a signed score (P(a) - 1/2, a difference of ratings, log-odds): 'a'
    above +margin, 'b' below -margin, 'tie' within."""
    return "a" if score > margin else "b" if score < -margin else "tie"


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

    def renamed(self, a: str, b: str) -> Preference:
        """The same answer about items named a and b (diagnostics keep prompts apart by renaming)."""
        return Preference(a, b, self.p_a_first, self.p_a_second, self.tie_a_first, self.tie_a_second)

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
        return verdict_of(self.prob - 0.5)

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
    parse: dict[str, int] | None = None  # listwise methods: permutation repairs (duplicates, invalid, missing)
    flags: dict[str, list[str]] = field(default_factory=dict)  # id -> guard flag codes (judgerank.guard)
    certificate: float | None = None  # active: posterior probability that the top k is right
    # --explain: what the judge said for each verdict in words ({about, verdict, reasoning}; verdict None: unparsed)
    explanations: list[dict[str, str | None]] | None = None

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
            **({"explanations": self.explanations} if self.explanations is not None else {}),
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
            explanations=data.get("explanations"),
            flags={row["id"]: row["flags"] for row in data["ranking"] if row.get("flags")} | data.get("dropped", {}),
        )


Doc = str | Item | dict[str, object]


def as_items(docs: object) -> tuple[Item, ...]:
    """Items from what users hold: Items, strings (ids are their positions) or {"text", "id"?}
    dicts. Anything else is a TypeError naming the position and the type found."""
    if isinstance(docs, (str, bytes)) or not isinstance(docs, Iterable):
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


def check_request(request: Request) -> None:
    """A request a model can be asked about: a query that is not blank, candidates, unique ids,
    text that is valid Unicode."""
    qid = request.query.id
    if not request.query.text.strip():
        raise JudgerankError(f"query {qid!r}: the query is blank; give the text the candidates are ranked for")
    if not request.items:
        raise JudgerankError(f"query {qid!r}: empty candidate list")
    _check_unicode(request.query.text, f"query {qid!r}")
    seen: set[str] = set()
    for item in request.items:
        if item.id in seen:
            raise JudgerankError(f"query {qid!r}: duplicate candidate id {item.id!r}")
        seen.add(item.id)
        _check_unicode(item.text, f"query {qid!r}: candidate {item.id!r}")


def _check_unicode(text: str, where: str) -> None:
    """Text a model can read: a lone surrogate (from a JSON escape or undecodable command-line
    bytes) would fail in the tokenizer or the store, so it is refused here, in one line."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise JudgerankError(f"{where}: text holds {exc.object[exc.start:exc.end]!a} at character {exc.start}, "
                             "not valid Unicode (a lone surrogate); fix the input's encoding") from None
