"""The judges of one job: every judge a strategy asks for, sharing the runtime's models and store
and the job's Ledger.

A rerank job judges passages for relevance; a judge job judges responses (a 1-5 rubric and A/B/tie
verdicts). Judges are made when a strategy asks for them and their model is loaded when they are
first asked for a judgment, so a stage that is never asked never loads a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

from judgerank.core.costs import Costs, Ledger
from judgerank.core.errors import JudgerankError
from judgerank.core.judging import Asking, Comparer, Scorer
from judgerank.core.types import Answers, Item, Preference, Query
from judgerank.judges.attention import AttentionJudge
from judgerank.judges.graph import ComparisonGraph, GraphComparer
from judgerank.judges.listwise import LabelJudge, ParseReport, PermutationJudge
from judgerank.judges.pairwise import PairwiseJudge
from judgerank.judges.pointwise import PointwiseJudge, SimilarityJudge
from judgerank.judges.queries import QueryWriter
from judgerank.judges.rubric import RubricJudge
from judgerank.judges.templates import PromptTemplate
from judgerank.judges.verdict import VerdictJudge
from judgerank.judges.words import Said
from judgerank.store.base import JudgmentStore
from judgerank.store.cached import CachedModel, Held

JobKind = Literal["rerank", "judge"]


class Models(Protocol):
    """Where a job's models come from (the Runtime): each loaded on first use, held once."""

    store: JudgmentStore | None

    def model(self, model: str | None = None) -> Held: ...

    def embedding(self) -> Held: ...

    def attention(self, model: str | None = None) -> Held: ...

    def cross_encoder(self, model: str | None = None) -> Held: ...

    def bi_encoder(self, model: str | None = None) -> Held: ...


class Recorder:
    """A comparer that keeps every Preference its judge returns, for the judge's diagnostics
    (the pairs judged before a budget stop count too)."""

    def __init__(self, judge: VerdictJudge) -> None:
        self.judge = judge
        self.seen: list[Preference] = []

    def compare(self, query: Query, pairs: Sequence[tuple[Item, Item]]) -> Answers[Preference]:
        answers = self.judge.compare(query, pairs)
        self.seen += answers.got()
        return answers


class JobJudges:
    """The Judges a strategy is built from (judgerank.strategies.registry.Judges), for one job.

    model_label: the name the model's calibrations are filed under. max_words: how much of each
    text a response judge reads. neutralise: chat-template markers in untrusted text made inert
    (off only with --guard off). spotlight: the pointwise relevance prompt's spotlighting.
    verdict_template: judge-pair or judge-pair-5 (five-level verdicts)."""

    def __init__(self, models: Models, kind: JobKind, model: str | None, model_label: str, ledger: Ledger, *,
                 max_words: int = 400, neutralise: bool = True, spotlight: str = "off",
                 verdict_template: str = "judge-pair", asking: Asking | None = None,
                 prompt: PromptTemplate | None = None, rubric: tuple[PromptTemplate, PromptTemplate] | None = None,
                 explain: bool = False) -> None:
        self.models = models
        self.kind = kind
        self.model_name = model
        self.model_label = model_label
        self.ledger = ledger
        self.max_words = max_words
        self.neutralise = neutralise
        self.spotlight = spotlight
        self.verdict_template = verdict_template
        self.asking = asking or Asking()
        self.prompt = prompt  # the user's template: it replaces the built-in one of its kind
        self.rubric_templates = rubric  # the user's rubric: it replaces the 1-5 rubric
        self.explained: list[Said] | None = [] if explain else None
        self.kinds_asked: set[str] = set()  # the kinds of template the job's judges use
        self._permutations: list[PermutationJudge] = []
        self._verdicts: Recorder | None = None
        self._rubric: RubricJudge | None = None
        self._graph: ComparisonGraph | None = None

    def _cached(self, load: Any) -> CachedModel:
        return CachedModel(load, self.models.store, self.ledger, self.neutralise, self.asking, self.explained)

    def _template(self, kind: str, builtin: str) -> str | PromptTemplate:
        """The user's template where it is of this kind, else the built-in one."""
        self.kinds_asked.add(kind)
        return self.prompt if self.prompt is not None and self.prompt.kind == kind else builtin

    def _llm(self) -> CachedModel:
        return self._cached(lambda: self.models.model(self.model_name))

    # --- what strategies ask for ------------------------------------------------------------

    def scorer(self, graded: bool = False) -> Scorer:
        if self.kind == "judge":
            return self.rubric()
        if graded:
            return PointwiseJudge(self._llm(), self._template("graded", "relevance-graded"))
        return PointwiseJudge(self._llm(), self._template("binary", "relevance-yes-no"), spotlight=self.spotlight)

    def comparer(self, imply: float = 1.0) -> Comparer:
        """The job's comparison graph (judgerank.judges.graph), answering orders implied by
        confident chains (links of probability at least `imply`; 1: none) without a call."""
        if self._graph is None:
            judge = self.verdicts() if self.kind == "judge" else PairwiseJudge(
                self._llm(), self._template("pairwise", "pairwise-prp"))
            self._graph = ComparisonGraph(judge, self.ledger)
        return GraphComparer(self._graph, imply)

    def grader(self, template: PromptTemplate, max_words: int = 200) -> PointwiseJudge:
        """A pointwise judge of one graded template (the relevance assessor's)."""
        return PointwiseJudge(self._llm(), template, max_words)

    def query_writer(self) -> QueryWriter:
        """The job's LLM writing the query each passage answers (distil's generated queries)."""
        return QueryWriter(self._llm())

    def similarity(self, feedback: int = 0, weight: float = 1.0) -> SimilarityJudge:
        return SimilarityJudge(self._cached(self.models.embedding), feedback, weight)

    def cross_encoder(self) -> SimilarityJudge:
        """The job's model as a cross-encoder: each (query, passage) pair's P(relevant), stored pair by pair."""
        return SimilarityJudge(self._cached(lambda: self.models.cross_encoder(self.model_name)))

    def bi_encoder(self) -> SimilarityJudge:
        """The job's model as a bi-encoder: cosines of its embeddings, each text's vector stored."""
        return SimilarityJudge(self._cached(lambda: self.models.bi_encoder(self.model_name)))

    def permutation(self, insert_scores: bool = False) -> PermutationJudge:
        judge = PermutationJudge(self._llm(), insert_scores=insert_scores)
        self._permutations.append(judge)
        return judge

    def labels(self, template: str, insert_scores: bool = False) -> LabelJudge:
        return LabelJudge(self._llm(), self._template("labels", template), insert_scores=insert_scores)

    def attention(self) -> AttentionJudge:
        return AttentionJudge(self._cached(lambda: self.models.attention(self.model_name)))

    # --- response judging: one rubric and one verdict judge per job ----------------------

    def rubric(self) -> RubricJudge:
        if self._rubric is None:
            self.kinds_asked.add("rating")
            if self.rubric_templates is not None:
                template: str | tuple[PromptTemplate, PromptTemplate] = self.rubric_templates
            elif self.prompt is not None and self.prompt.kind == "rating":
                template = (self.prompt, self.prompt)
            else:
                template = "rubric-1-5"
            self._rubric = RubricJudge(self._llm(), template, max_words=self.max_words)
        return self._rubric

    def verdicts(self) -> Recorder:
        if self._verdicts is None:
            self.kinds_asked |= {"verdict", "verdict5"}
            template = self.prompt if self.prompt is not None and self.prompt.kind in ("verdict", "verdict5") \
                else self.verdict_template
            self._verdicts = Recorder(VerdictJudge(self._llm(), template, max_words=self.max_words))
        return self._verdicts

    def check_templates(self) -> None:
        """After the strategy is built (nothing asked yet): a one-line error when the user's
        template or rubric is of a kind this job never asks for."""
        if self.prompt is not None and self.prompt.kind not in self.kinds_asked:
            asked = ", ".join(sorted(self.kinds_asked)) or "no template"
            raise JudgerankError(f"--prompt: a {self.prompt.kind} template, and this method asks for {asked}: give a "
                                 f"template of one of those kinds, or a method that reads {self.prompt.kind} verdicts")
        if self.rubric_templates is not None and "rating" not in self.kinds_asked:
            raise JudgerankError("--rubric grades responses one at a time: use it with judgerank judge (method "
                                 "pointwise, or with ratings)")
        if self.prompt is not None and self.spotlight != "off":
            raise JudgerankError("--spotlight marks the built-in relevance prompt: a --prompt of your own is used as "
                                 "written, so leave out one of the two")

    @property
    def explanations(self) -> list[Said]:
        """What the judge said for each verdict in words, with its reasoning (explain on)."""
        return list(self.explained or [])

    @property
    def preferences(self) -> list[Preference]:
        return self._verdicts.seen if self._verdicts is not None else []

    def parse_report(self) -> dict[str, int] | None:
        """What parsing generated permutations repaired in this job (None: nothing generated)."""
        if not self._permutations:
            return None
        total = ParseReport()
        for judge in self._permutations:
            total.add(judge.report)
        return vars(total)

    def close(self) -> Costs:
        return self.ledger.close()
