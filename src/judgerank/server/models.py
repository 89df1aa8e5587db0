"""The service's request and response bodies, shared by the HTTP API and the MCP tools.

One pydantic model per body, so the OpenAPI schema, the MCP tools' input schemas and the
validation of both come from one place.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from judgerank.arena.raters import METHODS as ARENA_METHODS
from judgerank.arena.ratings import PlayerRow
from judgerank.guard.policy import GUARD_POLICIES
from judgerank.io.jsonl import lone_surrogate, nesting_depth
from judgerank.strategies.registry import DEFAULT_JUDGE_METHOD, names_for

# the registry's names, so the schemas list exactly the methods each operation accepts
RerankMethod: Any = Literal[tuple(names_for("rerank"))]
JudgeMethod: Any = Literal[tuple(names_for("judge"))]
ArenaMethod: Any = Literal[ARENA_METHODS]


Guard: Any = Literal[GUARD_POLICIES]
GUARD_HELP = ("what a text that addresses the ranker (instructions, forged answers, chat-template markers, the "
              "query stuffed in) gets: demote (below every other), flag (reported in meta), drop, off")


MAX_NESTING = 32  # how deep a body's extra fields may nest (a document's metadata returned as it came)


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("blank: only white space was sent; give the text to rank for")
    return text


Said = Annotated[str, Field(min_length=1), AfterValidator(_not_blank)]  # a query or prompt: some text, not blank


class Body(BaseModel):
    """A request body: its text must be Unicode that UTF-8 can carry. JSON lets a client send a
    lone surrogate ("\\ud800"); refused here (422) instead of failing in the tokenizer or store.
    Nesting deeper than MAX_NESTING is refused too: it could not be sent back."""

    @model_validator(mode="before")
    @classmethod
    def _unicode(cls, data: Any) -> Any:
        if lone_surrogate(data):
            raise ValueError("text holds a lone surrogate (an unpaired \\ud800-\\udfff escape): not valid Unicode")
        if nesting_depth(data) > MAX_NESTING:
            raise ValueError(f"the body nests deeper than {MAX_NESTING} levels")
        return data


class BudgetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_calls: int | None = Field(default=None, ge=0, description="most new (uncached) model calls")
    max_tokens: int | None = Field(default=None, ge=0, description="most new prompt tokens")


class HearingIn(BaseModel):
    """How the judge is heard (judgerank.judges.words): verdicts from log-probabilities or in words,
    sampled answers, reasoning before the verdict, and what it said (explain)."""

    model_config = ConfigDict(extra="forbid")
    verdicts: Literal["auto", "logprobs", "text"] = Field(
        default="auto", description="logprobs, text (asked in words and parsed), or auto (words where the model "
        "gives no log-probabilities)")
    samples: int = Field(default=1, ge=1, le=20, description="answers in words per judgment; their vote shares "
                         "are the probabilities")
    temperature: float | None = Field(default=None, ge=0, le=2, description="sampling temperature (default 0.7 "
                                      "with samples above 1, else greedy)")
    reasoning: bool = Field(default=False, description="the judge thinks before its verdict")
    think_tokens: int = Field(default=512, ge=16, le=8192, description="tokens the judge may think in")
    explain: bool = Field(default=False, description="return what the judge said for each verdict in words, "
                          "with its reasoning")

    def options(self) -> dict[str, Any]:
        """As method options (the fields left at their defaults left out)."""
        return self.model_dump(exclude_defaults=True)


class TextIn(BaseModel):
    """A document or response given as an object: its text, an optional id, any other fields."""

    model_config = ConfigDict(extra="allow")
    text: str
    id: str | None = None


class RerankIn(Body):
    query: Said
    documents: list[str | TextIn] = Field(min_length=1, description="strings or {text, id?, ...} objects")
    top_n: int | None = Field(default=None, ge=1, description="return only the best top_n")
    return_documents: bool = False
    model: str | None = Field(default=None, description="a model the server offers (GET /healthz lists them)")
    method: RerankMethod | None = Field(default=None, description="the server's method when left out")
    budget: BudgetIn | None = None
    relevance: Literal["probability", "rank"] = Field(
        default="probability",
        description="probability: relevance_score is the method's probability of relevance in [0, 1] (the same "
        "meaning across queries; 0 for documents it did not judge) where the method gives one, the embedding's "
        "cosine clipped to [0, 1] where that is its score (the default on the embedded model), else by rank; "
        "rank: 1 for the first result, falling by 1/n a rank. Either never rises down the results; "
        "meta.judgerank.relevance says which was given",
    )
    guard: Guard = Field(default="demote", description=GUARD_HELP)
    hearing: HearingIn | None = Field(default=None, description="how the judge is heard (verdicts in words, ...)")
    rank_fields: list[str] | None = None  # accepted for Cohere compatibility; text is ranked
    max_chunks_per_doc: int | None = None  # accepted for Cohere compatibility


class RerankResult(BaseModel):
    index: int
    relevance_score: float
    document: dict[str, Any] | None = None


class RerankOut(BaseModel):
    id: str
    results: list[RerankResult]
    meta: dict[str, Any]
    usage: dict[str, int]


class JudgeIn(Body):
    prompt: Said
    responses: list[str | TextIn] = Field(min_length=1, description="strings or {text, id?} objects")
    reference: str | None = Field(default=None, description="a reference answer shown to the judge")
    method: JudgeMethod = DEFAULT_JUDGE_METHOD
    top_k: int = Field(default=10, ge=1)
    model: str | None = None
    budget: BudgetIn | None = None
    guard: Guard = Field(default="demote", description=GUARD_HELP)
    hearing: HearingIn | None = Field(default=None, description="how the judge is heard (verdicts in words, ...)")


class JudgedResponse(BaseModel):
    id: str
    index: int
    score: float | None
    rating: float | None
    flags: list[str] | None = None  # the guard's flags (judgerank.guard.FLAG_HELP)


class JudgeOut(BaseModel):
    id: str
    best: str | None  # None: the guard dropped every response (guard: drop)
    complete: bool
    ranking: list[JudgedResponse]
    diagnostics: dict[str, Any]
    costs: dict[str, int | float]
    explanations: list[dict[str, str | None]] | None = None  # hearing.explain: what the judge said, per verdict


class AssessIn(Body):
    query: Said
    documents: list[str | TextIn] = Field(min_length=1, description="strings or {text, id?} objects: the pooled "
                                          "passages to grade")
    model: str | None = Field(default=None, description="a model the server offers (GET /healthz lists them)")
    budget: BudgetIn | None = None
    label: Literal["likely", "expected"] = Field(default="likely", description="the grade given: the most likely, "
                                                 "or the expected grade rounded")
    guard: Literal["flag", "zero", "off"] = Field(default="flag", description="a passage that addresses the "
                                                  "assessor: flag (graded as judged, flags returned), zero (graded 0 "
                                                  "without a call), off")
    hearing: HearingIn | None = Field(default=None, description="how the judge is heard (verdicts in words, ...)")


class AssessedDocument(BaseModel):
    index: int
    id: str
    grade: int | None  # None: not graded (the budget stopped it, or its verdict in words was unreadable)
    expected: float | None
    probabilities: list[float] | None  # of each grade, in the order of AssessOut.grades
    flags: list[str] | None = None


class AssessOut(BaseModel):
    id: str
    grades: list[int]
    complete: bool
    labels: list[AssessedDocument]
    costs: dict[str, int | float]


class BattleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model_a: str = Field(min_length=1)
    model_b: str = Field(min_length=1)
    winner: str = Field(description="model_a / a, model_b / b, tie / draw, or both_bad")


class ArenaIn(Body):
    battles: list[BattleIn] = Field(min_length=1)
    method: ArenaMethod = "bradley-terry"
    ties: Literal["half", "ignore"] = "half"
    bootstrap: int = Field(default=0, ge=0, le=1000, description="resamples for percentile intervals (0: none)")
    level: float = Field(default=0.95, gt=0, lt=1, description="the intervals' coverage")
    seed: int = Field(default=0, ge=0, description="the bootstrap's and Elo's shuffles' seed")
    scale: Literal["elo", "raw"] = "elo"
    sandwich: bool = Field(default=False, description="Bradley-Terry: robust (sandwich) intervals instead")
    anchor: str | None = Field(default=None, description="a player whose rating is pinned (at 1000, or 0 raw)")


class ArenaOut(BaseModel):
    method: str
    leaderboard: list[PlayerRow]  # the arena's own rows (a dataclass pydantic validates and dumps)
    notes: list[str]
    settings: dict[str, Any]
    seconds: float
