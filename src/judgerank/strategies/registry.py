"""The one registry of ranking methods, for every job (rerank passages, judge responses).

Each Method declares once which jobs it serves, what it needs from a model, which options it
reads, what its score means and what a partial ranking (Budget reached) is. The CLI's choices
and help, the server's accepted values and schema, and `judgerank methods` all come from here.
A new method is a strategy module plus one `Method(...)` entry below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal, Protocol, TypedDict

from judgerank.core.errors import JudgerankError
from judgerank.core.judging import Asking, Comparer, LabelRanker, Scorer, WindowRanker
from judgerank.guard.policy import GUARD_POLICIES
from judgerank.guard.spotlight import SPOTLIGHTS
from judgerank.judges.templates import PromptTemplate, read_prompt_file, read_rubric_file
from judgerank.strategies.active import ActiveTopK
from judgerank.strategies.allpairs import AllPairs
from judgerank.strategies.base import Strategy
from judgerank.strategies.cascade import Cascade
from judgerank.strategies.listwise import AGGREGATORS, JointRank, SetwiseTopK, ShuffledWindows, SlidingWindow
from judgerank.strategies.pointwise import PointwiseSort
from judgerank.strategies.realm import RealmTopK
from judgerank.strategies.sorting import BubbleTopK, HeapTopK, QuickTopK
from judgerank.strategies.swiss import SwissRank

Job = Literal["rerank", "judge"]
Need = Literal["choices", "generate", "embedding", "attention", "cross", "bi"]

DEFAULT_RERANK_METHOD = "cascade"  # best measured on DL19 within 30 s/query on 2 cores (docs)
DEFAULT_JUDGE_METHOD = "allpairs"


# The cascade's LLM weight per judge model, calibrated by bench/fusion_calibration.py (tuned on
# SciFact, checked on DL19; docs/benchmarks/rerank.md). Models not listed get 1: an equal say.
CALIBRATED_LLM_WEIGHT: dict[str, float] = {"smollm2-135m": 0.0}


def calibrated_llm_weight(model_label: str) -> float:
    return CALIBRATED_LLM_WEIGHT.get(model_label, 1.0)


class Judges(Protocol):
    """The judges of one job, sharing its models, store and cost account. For a rerank job the
    scorer is a relevance judge and the comparer a passage preference; for a judge job they
    are the 1-5 rubric and the A/B/tie verdict between responses."""

    model_label: str  # the name the model's calibrations are filed under

    def scorer(self, graded: bool = False) -> Scorer: ...
    def comparer(self, imply: float = 1.0) -> Comparer: ...
    def similarity(self, feedback: int = 0, weight: float = 1.0) -> Scorer: ...
    def permutation(self, insert_scores: bool = False) -> WindowRanker: ...
    def labels(self, template: str, insert_scores: bool = False) -> LabelRanker: ...
    def attention(self) -> Scorer: ...
    def cross_encoder(self) -> Scorer: ...
    def bi_encoder(self) -> Scorer: ...


def _option(help: str, *, minimum: int | None = None, choices: tuple[str, ...] = (), flag: str = "",
            panel: str = "Method options") -> dict[str, Any]:
    return {"help": help, "minimum": minimum, "choices": choices, "flag": flag, "panel": panel}


HEARING = "How the judge is heard"  # the options of every method that reads choices (judgerank.judges.words)


@dataclass(frozen=True)
class Options:
    """Every method option, with its default and check, declared once. Validated on creation:
    a bad value raises JudgerankError naming the option and what it accepts."""

    top_k: int = field(default=10, metadata=_option("Items the top-k sorts put in order.", minimum=1))
    depth: int | None = field(
        default=None, metadata=_option("Rank only the first N candidates; the rest keep their order.", minimum=1)
    )
    then: str = field(default="pointwise", metadata=_option("The cascade's second stage (a rerank method)."))
    cascade_depth: int = field(default=20, metadata=_option("Candidates the cascade's second stage sees.", minimum=1))
    fuse: bool = field(
        default=True, metadata=_option("Cascade: order its top by rank fusion of all stages.", flag="--fuse/--no-fuse")
    )
    feedback: int = field(default=3, metadata=_option(
        "Cascade, embedding-prf: top passages whose embeddings move the query's (pseudo-relevance feedback; "
        "0: plain cosine).", minimum=0))
    feedback_weight: float = field(default=0.5, metadata=_option(
        "How far the feedback moves the query (Rocchio's beta).", minimum=0))
    input_weight: float = field(default=0.25, metadata=_option(
        "Cascade: weight of the candidates' input (retriever) order in the fusion (0: ignore the input order).",
        minimum=0))
    llm_weight: float | None = field(default=None, metadata=_option(
        "Cascade: weight of the LLM stage in the fusion (default: calibrated for the model, else 1).", minimum=0))
    imply: float = field(default=0.9, metadata=_option(
        "Pairwise sorts, swiss, active, realm: a pair's order is taken without a call when a chain of earlier "
        "answers, each at least this sure, implies it (1: ask every pair).", minimum=0))
    confidence: float = field(default=0.9, metadata=_option(
        "Active: stop once the posterior probability that the top k (members and order, up to --tolerance) is right "
        "reaches this."))
    tolerance: float = field(default=0.5, metadata=_option(
        "Active: strengths closer than this (the judge's log-odds) are ties the certificate lets the top k hold in "
        "either order (0: the exact members and order).", minimum=0))
    # 4, not 8: after the first round, smaller rounds spend a budget better (DL19, simulated judge, half of
    # pairwise-heap's calls: nDCG@10 0.8669 with 4 against 0.8590 with 8, twice the rounds; 2 gains nothing more)
    batch: int = field(default=4, metadata=_option(
        "Active: comparisons asked together in a round after the first, which compares every candidate once "
        "(one batch: concurrent on a served model).", minimum=1))
    prior: str = field(default="input", metadata=_option(
        "Active: where the prior comes from: input (the candidates' order) or pointwise (one relevance prompt "
        "per candidate first).", choices=("input", "pointwise")))
    window: int = field(default=20, metadata=_option("Listwise window / JointRank block size.", minimum=2))
    insert_scores: bool = field(default=False, metadata=_option(
        "Listwise, FIRST, JointRank: show each candidate's first-stage score (the input's 'score') beside it in "
        "the prompt (InsertRank).", flag="--insert-scores/--no-insert-scores"))
    stride: int = field(default=10, metadata=_option("Listwise sliding-window step.", minimum=1))
    passes: int = field(default=1, metadata=_option("Listwise sliding-window passes.", minimum=1))
    shuffles: int = field(default=3, metadata=_option("*-psc: orders each window is ranked in.", minimum=1))
    set_size: int = field(default=4, metadata=_option("Setwise: items shown per prompt.", minimum=2))
    replicas: int = field(default=3, metadata=_option("JointRank: blocks each item appears in.", minimum=1))
    aggregator: str = field(
        default="bradley-terry", metadata=_option("JointRank: how block rankings are merged.", choices=AGGREGATORS)
    )
    guard: str = field(default="demote", metadata=_option(
        "What a candidate whose text addresses the ranker (instructions, forged answers, chat-template markers, "
        "the query stuffed in) gets: demote (below every other), flag (reported only), drop, off (no check).",
        choices=GUARD_POLICIES))
    spotlight: str = field(default="off", metadata=_option(
        "Pointwise relevance prompts: mark each passage as data, by delimit (fenced in tags) or datamark (spaces "
        "replaced by ^); measured against injected text in docs/benchmarks/safety.md.", choices=SPOTLIGHTS))
    verdicts: str = field(default="auto", metadata=_option(
        "How a verdict is read: logprobs (the probability of each answer token), text (asked in words, in a fixed "
        "form, and parsed), auto (log-probabilities where the model gives them, else words; an endpoint that gives "
        "none is found at its first reply).", choices=("auto", "logprobs", "text"), panel=HEARING))
    samples: int = field(default=1, metadata=_option(
        "Verdicts in words: answers asked per judgment, at --temperature; their vote shares (with a prior of half "
        "an answer per choice) are the probabilities.", minimum=1, panel=HEARING))
    temperature: float | None = field(default=None, metadata=_option(
        "Verdicts in words: the sampling temperature (default: 0.7 with --samples above 1, else greedy).",
        panel=HEARING))
    reasoning: bool = field(default=False, metadata=_option(
        "Verdicts in words: the judge thinks before its verdict (within --think-tokens); the reasoning is kept in "
        "the store beside the judgment.", flag="--reasoning/--no-reasoning", panel=HEARING))
    think_tokens: int = field(default=512, metadata=_option(
        "With --reasoning: the tokens the judge may think in before its verdict.", minimum=16, panel=HEARING))
    explain: bool = field(default=False, metadata=_option(
        "Verdicts in words: report what the judge said for each verdict, with its reasoning (in the output and "
        "--out).", flag="--explain/--no-explain", panel=HEARING))
    prompt: str | None = field(default=None, metadata=_option(
        "A prompt template of your own (TOML, as docs/templates.md describes): it replaces the built-in template "
        "of its kind.", panel=HEARING))
    rubric: str | None = field(default=None, metadata=_option(
        "Judge: a rubric of your own (TOML: criteria and a description per score) for grading each response on "
        "its own, Prometheus-style.", panel=HEARING))

    def __post_init__(self) -> None:
        for f in fields(self):
            value, meta = getattr(self, f.name), f.metadata
            flag = "--" + f.name.replace("_", "-")
            if meta["minimum"] is not None and value is not None and value < meta["minimum"]:
                raise JudgerankError(f"{flag} must be at least {meta['minimum']}, not {value}")
            if meta["choices"] and value not in meta["choices"]:
                raise JudgerankError(f"{flag} must be one of {', '.join(meta['choices'])}, not {value!r}")
        if not 0.0 < self.confidence < 1.0:
            raise JudgerankError(f"--confidence must be between 0 and 1 (exclusive), not {self.confidence}")
        if not 0.5 < self.imply <= 1.0:
            raise JudgerankError(f"--imply must be above 0.5 and at most 1, not {self.imply}")
        self.asking  # noqa: B018  # checks --verdicts, --samples, --temperature and --think-tokens together
        if self.explain and self.verdicts == "logprobs":
            raise JudgerankError("--explain reports what the judge said in words: leave out --verdicts logprobs")
        if self.samples > 1 and self.temperature == 0:
            raise JudgerankError("--samples above 1 draws answers at a temperature: give --temperature above 0")
        then = METHODS.get(self.then)
        if then is None or "rerank" not in then.jobs or self.then == "cascade":
            names = ", ".join(m for m in names_for("rerank") if m != "cascade")
            raise JudgerankError(f"--then must be one of {names}, not {self.then!r}")

    @property
    def asking(self) -> Asking:
        """How the job hears its judge."""
        return Asking(self.verdicts, self.samples, self.temperature, self.reasoning, self.think_tokens)  # type: ignore[arg-type]

    def templates(self) -> tuple[PromptTemplate | None, tuple[PromptTemplate, PromptTemplate] | None]:
        """The user's prompt template and rubric, read and checked (one-line errors naming the file)."""
        return (read_prompt_file(self.prompt) if self.prompt else None,
                read_rubric_file(self.rubric) if self.rubric else None)

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def of(cls, options: Mapping[str, Any]) -> Options:
        """Options from keyword arguments, with a one-line error for a name that is not one."""
        unknown = set(options) - set(cls.names())
        if unknown:
            raise JudgerankError(f"unknown option {sorted(unknown)[0]!r}: use {', '.join(cls.names())}")
        return cls(**options)


class HearingOptions(TypedDict, total=False):
    """How a job hears its judge (judgerank.judges.words), and a prompt or rubric file of one's own:
    the method options every job shares."""

    verdicts: str
    samples: int
    temperature: float | None
    reasoning: bool
    think_tokens: int
    explain: bool
    prompt: str | None
    rubric: str | None


class MethodOptions(HearingOptions, total=False):
    """The method options as keyword arguments (Reranker(..., top_k=5)): the fields of Options, so
    that a type checker rejects a misspelt or mistyped option. A test keeps the two the same."""

    top_k: int
    depth: int | None
    then: str
    cascade_depth: int
    fuse: bool
    feedback: int
    feedback_weight: float
    input_weight: float
    llm_weight: float | None
    imply: float
    confidence: float
    tolerance: float
    batch: int
    prior: str
    window: int
    insert_scores: bool
    stride: int
    passes: int
    shuffles: int
    set_size: int
    replicas: int
    aggregator: str
    guard: str
    spotlight: str


@dataclass(frozen=True)
class Method:
    name: str
    summary: str  # what it asks, in one line
    score: str  # what the score of a ranked item means ("none": the method orders without scores)
    partial: str  # what a ranking cut short by the Budget holds
    jobs: frozenset[Job]
    needs: frozenset[Need]
    options: tuple[str, ...]
    build: Callable[[Judges, Options], Strategy]
    probability: bool = False  # rerank scores are probabilities in [0, 1] that read the same across queries
    similarity: bool = False  # rerank scores are the embedding's cosine similarities

    def asks_second_stage(self, options: Options, model: str) -> bool:
        """A cascade asks its LLM stage unless that stage has no weight in the fusion."""
        weight = options.llm_weight if options.llm_weight is not None else calibrated_llm_weight(model)
        return self.name == "cascade" and not (options.fuse and weight == 0)

    def scores_probabilities(self, options: Options, model: str) -> bool:
        """Whether a rerank with these options scores its items as probabilities (a cascade
        scores its top with its second stage, when it asks one)."""
        if self.name == "cascade":
            return self.asks_second_stage(options, model) and METHODS[options.then].probability
        return self.probability

    def relevance_scale(self, options: Options, model: str) -> Literal["probability", "similarity", "rank"]:
        """What a rerank's relevance in [0, 1] is read from: its probabilities of relevance, the
        embedding's cosine (clipped at 0), or, for methods that give neither, the rank."""
        if self.scores_probabilities(options, model):
            return "probability"
        if self.similarity or (self.name == "cascade" and not self.asks_second_stage(options, model)):
            return "similarity"
        return "rank"

    def reads(self, option: str, options: Options, model: str) -> bool:
        """Whether a run of this method with these options reads `option` (a cascade: or its second stage)."""
        return option in self.options or (self.asks_second_stage(options, model) and option in METHODS[options.then].options)

    def checks_support(self, options: Options) -> bool:
        """Whether a guarded rerank checks this method's order against the input order and the
        embedding's (judgerank.guard.support): every method where an LLM orders the candidates
        on its own. A cascade checks its second stage itself; encoders follow no instructions."""
        return options.guard != "off" and self.name != "cascade" and bool(self.needs & LLM_NEEDS)

    def requirements(self, options: Options, model: str) -> frozenset[Need]:
        """What a run of this method needs, a cascade's second stage and the embedding that
        checks an LLM's order included when they are asked."""
        needs = self.needs | (METHODS[options.then].needs if self.asks_second_stage(options, model) else frozenset())
        return needs | {"embedding"} if self.checks_support(options) else needs


RERANK: frozenset[Job] = frozenset({"rerank"})
BOTH: frozenset[Job] = frozenset({"rerank", "judge"})
CHOICES: frozenset[Need] = frozenset({"choices"})
GENERATE: frozenset[Need] = frozenset({"generate"})
LLM_NEEDS: frozenset[Need] = frozenset({"choices", "generate", "attention"})  # an LLM reads the candidates
SORTED_PARTIAL = "the order its finished comparisons support; the rest in input order"
WIN_SCORE = ("mean win probability over the comparisons the item was in ('-': never compared), made to follow the "
             "sort's order (where two contradict it, both show their mean)")

METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method(
            "cascade",
            "embedding (with pseudo-relevance feedback) fused with the input order over all candidates, then --then "
            "over the top --cascade-depth; the top ordered by weighted rank fusion of all three",
            "the LLM stage's score (pointwise: P(relevant)) for the top, '-' below; where the LLM has no weight "
            "(the embedded model's calibration), the first stage's cosine; either made to follow the fused order "
            "(where two contradict it, both show their mean)",
            "the second stage's partial ranking over the top, the first stage's order below it",
            RERANK, frozenset({"embedding"}),
            ("then", "cascade_depth", "fuse", "feedback", "feedback_weight", "input_weight", "llm_weight"),
            lambda j, o: Cascade(
                j.similarity(o.feedback, o.feedback_weight), METHODS[o.then].build(j, o), o.cascade_depth, o.fuse,
                o.input_weight, o.llm_weight if o.llm_weight is not None else calibrated_llm_weight(j.model_label),
                METHODS[o.then].checks_support(o),
            ),
        ),
        Method(
            "pointwise", "one prompt per item: relevance yes/no (rerank) or a 1-5 rubric rating (judge)",
            "rerank: P(relevant), the probability of 'yes' against 'no'; judge: expected rating 1-5",
            "the items judged, by score, then the rest in input order",
            BOTH, CHOICES, (), lambda j, o: PointwiseSort(j.scorer()), probability=True,
        ),
        Method(
            "pointwise-graded", "one prompt per item: relevance grade 0-3", "expected grade 0-3",
            "the items judged, by score, then the rest in input order",
            RERANK, CHOICES, (), lambda j, o: PointwiseSort(j.scorer(graded=True)),
        ),
        Method(
            "cross-encoder", "one pass of a cross-encoder per candidate (--model: a sentence-transformers "
            "CrossEncoder folder; no LLM)", "P(relevant) from the cross-encoder's head",
            "the items scored, by score, then the rest in input order",
            RERANK, frozenset({"cross"}), (), lambda j, o: PointwiseSort(j.cross_encoder()), probability=True,
        ),
        Method(
            "bi-encoder", "cosine of a sentence-transformers bi-encoder's embeddings (--model: its folder, such as a "
            "student of judgerank distil --student bi-encoder; no LLM)", "cosine similarity",
            "the items scored, by score, then the rest in input order",
            RERANK, frozenset({"bi"}), (), lambda j, o: PointwiseSort(j.bi_encoder()), similarity=True,
        ),
        Method(
            "embedding", "cosine of all-MiniLM-L6-v2 embeddings (no LLM)", "cosine similarity", "never partial",
            RERANK, frozenset({"embedding"}), (), lambda j, o: PointwiseSort(j.similarity()), similarity=True,
        ),
        Method(
            "embedding-prf", "cosine after pseudo-relevance feedback: the query's embedding moved toward its top "
            "--feedback passages (Rocchio), no LLM", "cosine with the moved query", "never partial",
            RERANK, frozenset({"embedding"}), ("feedback", "feedback_weight"),
            lambda j, o: PointwiseSort(j.similarity(o.feedback, o.feedback_weight)), similarity=True,
        ),
        Method(
            "allpairs", "every pair in both orders (small N)", "mean win probability against all others",
            "the same mean with unjudged pairs counted as ties",
            BOTH, CHOICES, (), lambda j, o: AllPairs(j.comparer()), probability=True,
        ),
        Method(
            "pairwise-heap", "heap sort of the top k over pairwise preferences (both orders)", WIN_SCORE,
            "the items popped from the heap so far, then the rest in input order",
            BOTH, CHOICES, ("top_k", "imply"), lambda j, o: HeapTopK(j.comparer(o.imply), o.top_k), probability=True,
        ),
        Method(
            "pairwise-quick", "quickselect of the top k over pairwise preferences", WIN_SCORE, SORTED_PARTIAL,
            BOTH, CHOICES, ("top_k", "imply"), lambda j, o: QuickTopK(j.comparer(o.imply), o.top_k), probability=True,
        ),
        Method(
            "pairwise-bubble", "k bubble passes of adjacent comparisons (PRP-sliding-k)", WIN_SCORE, SORTED_PARTIAL,
            BOTH, CHOICES, ("top_k", "imply"), lambda j, o: BubbleTopK(j.comparer(o.imply), o.top_k), probability=True,
        ),
        Method(
            "swiss", "Swiss tournament, log2(n)+2 rounds, Bradley-Terry on the results (larger N)",
            "Bradley-Terry log-strength (cut short: the expected final Swiss score)",
            "by expected final Swiss score over simulated continuations of the tournament",
            BOTH, CHOICES, ("imply",), lambda j, o: SwissRank(j.comparer(o.imply)),
        ),
        Method(
            "active", "Bayesian Bradley-Terry top k: a first round compares every candidate once, then each round a "
            "batch of the comparisons that most threaten the top k, until it is certified at --confidence or the "
            "budget ends",
            "posterior mean strength (log-odds scale)",
            "the posterior's order on the answers so far; the certificate's level says how sure it is",
            BOTH, CHOICES, ("top_k", "confidence", "tolerance", "batch", "prior"),
            lambda j, o: ActiveTopK(j.comparer(), o.top_k, o.confidence, o.batch,
                                    j.scorer() if o.prior == "pointwise" else None, o.tolerance),
        ),
        Method(
            "realm", "REALM-style: a pointwise pass, then quicksort-like pivot comparisons recursing into the "
            "candidates whose place in the top k is uncertain, each judgment updating a Gaussian relevance per "
            "candidate; one round a level",
            "posterior mean relevance (log-odds scale)", "the posterior's order on the judgments so far",
            RERANK, CHOICES, ("top_k",), lambda j, o: RealmTopK(j.comparer(), j.scorer(), o.top_k),
        ),
        Method(
            "listwise", "generated permutations over a sliding --window/--stride (RankGPT)", "none",
            "every window ranked so far; the rest in its order before",
            RERANK, GENERATE, ("window", "stride", "passes", "insert_scores"),
            lambda j, o: SlidingWindow(j.permutation(o.insert_scores), o.window, o.stride, o.passes),
        ),
        Method(
            "listwise-psc", "listwise with each window in --shuffles orders, merged by Kemeny", "none",
            "every window ranked so far (a cut window: the orders that came back)",
            RERANK, GENERATE, ("window", "stride", "passes", "shuffles", "insert_scores"),
            lambda j, o: SlidingWindow(ShuffledWindows(j.permutation(o.insert_scores), o.shuffles), o.window, o.stride,
                                       o.passes),
        ),
        Method(
            "first", "sliding windows ordered by first-token label probabilities, one forward pass each (FIRST)",
            "none", "every window ranked so far; the rest in its order before",
            RERANK, CHOICES, ("window", "stride", "passes", "insert_scores"),
            lambda j, o: SlidingWindow(j.labels("listwise-first", o.insert_scores), o.window, o.stride, o.passes),
        ),
        Method(
            "first-full", "FIRST over the whole list in one prompt, one forward pass (labels A-Z, then the two-letter "
            "labels the model reads as one token); refused before any call when the list does not fit the context",
            "none", "the input order (its one call was not made)",
            RERANK, CHOICES, ("insert_scores",),
            lambda j, o: SlidingWindow(j.labels("listwise-first", o.insert_scores), None, o.stride, 1),
        ),
        Method(
            "icr", "in-context reranking (ICR): every candidate in one prompt, scored by the attention the query pays "
            "it, calibrated by a content-free query; two forward passes, no generation; needs open weights "
            "(transformers: pip install judgerank with its attention extra)",
            "calibrated attention to the passage, summed over layers and heads (orders one list; not comparable "
            "across queries)", "the input order (its one call was not made)",
            RERANK, frozenset({"attention"}), (), lambda j, o: PointwiseSort(j.attention()),
        ),
        Method(
            "first-psc", "FIRST with each window in --shuffles orders, merged by Kemeny", "none",
            "every window ranked so far (a cut window: the orders that came back)",
            RERANK, CHOICES, ("window", "stride", "passes", "shuffles", "insert_scores"),
            lambda j, o: SlidingWindow(ShuffledWindows(j.labels("listwise-first", o.insert_scores), o.shuffles), o.window,
                                       o.stride, o.passes),
        ),
        Method(
            "setwise-heap", "heap sort of the top k over sets of --set-size, best by label probability", "none",
            "the top found so far, then the rest in input order",
            RERANK, CHOICES, ("top_k", "set_size"),
            lambda j, o: SetwiseTopK(j.labels("setwise-best"), o.top_k, o.set_size),
        ),
        Method(
            "jointrank", "overlapping blocks (--window, --replicas) ranked by FIRST in batches, wins aggregated",
            "the --aggregator's strength", "the blocks ranked so far, aggregated",
            RERANK, CHOICES, ("window", "replicas", "aggregator", "insert_scores"),
            lambda j, o: JointRank(j.labels("listwise-first", o.insert_scores), o.window, o.replicas, o.aggregator),
        ),
        Method(
            "jointrank-listwise", "overlapping blocks ranked by generated permutations, wins aggregated",
            "the --aggregator's strength", "the blocks ranked so far, aggregated",
            RERANK, GENERATE, ("window", "replicas", "aggregator", "insert_scores"),
            lambda j, o: JointRank(j.permutation(o.insert_scores), o.window, o.replicas, o.aggregator),
        ),
    ]
}


def names_for(job: Job) -> list[str]:
    return [name for name, m in METHODS.items() if job in m.jobs]


def method_for(job: Job, name: str) -> Method:
    """The method `name` for `job`, or a one-line error listing the ones that job offers."""
    method = METHODS.get(name)
    if method is None or job not in method.jobs:
        raise JudgerankError(f"unknown method {name!r} for {job}: use one of {', '.join(names_for(job))}")
    return method
