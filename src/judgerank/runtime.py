"""The runtime: the one place that builds backends, holds them, owns the judgment store, and
hands each job its judges with their own cost account.

Every entry point (CLI, HTTP service, Reranker, ResponseJudge, adapters, workers) starts from a
Runtime; nothing else constructs a backend. A model is loaded once, on first use, and run with
the concurrency it allows: an in-process model (llama.cpp, the embedding model, the simulated
judge) one batch at a time; an OpenAI-compatible endpoint up to its own concurrency limit, so
many jobs share it at once. Different models run side by side.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Self

from judgerank.accounting import Ledger
from judgerank.cache import CachedModel
from judgerank.errors import BudgetExhausted, JudgerankError
from judgerank.judges.attention import AttentionJudge
from judgerank.judges.listwise import LabelJudge, ParseReport, PermutationJudge
from judgerank.judges.pairwise import PairwiseJudge
from judgerank.judges.pointwise import PointwiseJudge, SimilarityJudge
from judgerank.judges.rubric import RubricJudge
from judgerank.judges.verdict import VerdictJudge
from judgerank.methods import Job as JobKind
from judgerank.store import JudgmentStore, StoreSpec, open_store
from judgerank.strategies.base import Comparer, Scorer
from judgerank.strategies.graph import ComparisonGraph, GraphComparer
from judgerank.types import Budget, Costs, Item, Preference, Query

Kind = Literal["gguf", "openai", "embedding", "simulated", "transformers"]
Observer = Callable[[str, Any], None]
EMBEDDING = "embedding"  # the name the embedding model is held under


@dataclass(frozen=True)
class ModelSpec:
    """What to load. kind gguf: `name` is a named model (smollm2-135m, qwen2.5-coder-0.5b, ...)
    or a GGUF path; openai: `name` is the model the server at `base_url` serves; embedding: the
    bundled all-MiniLM-L6-v2; simulated: `name` is a JSON file {text: grade} (studying
    strategies without LLM cost); transformers: the gguf model (or a transformers model folder)
    loaded by transformers, to read its attention (icr)."""

    kind: Kind
    name: str | None = None
    base_url: str | None = None
    endpoint: str = "chat"
    top_logprobs: int = 20
    concurrency: int = 8
    namespace: str | None = None  # openai: keeps two servers of the same model apart in the store
    api_key_env: str | None = "OPENAI_API_KEY"
    threads: int | None = None  # gguf, transformers: threads (None: every core)
    context: int | None = None  # gguf, transformers: the longest prompt in tokens (None: 4096 / the model's own)

    @classmethod
    def parse(cls, model: str | None, base_url: str | None = None, threads: int | None = None,
              context: int | None = None, **openai: Any) -> ModelSpec:
        """A spec from what a user types: --model (and --base-url for an OpenAI-compatible server)."""
        if base_url is not None:
            if not model:
                raise JudgerankError("--base-url needs --model: the name the server knows the model by")
            return cls("openai", model, base_url.rstrip("/"), **openai)
        if model is not None and model.startswith("simulated:"):
            return cls("simulated", model.removeprefix("simulated:"))
        return cls("gguf", model, threads=threads, context=context)

    def check(self) -> None:
        """Fail now, before anything loads, on a model that cannot be had."""
        if self.kind == "transformers":
            from judgerank.backends import transformers_attention

            transformers_attention.check_installed()
            transformers_attention.model_source(self.name)
        elif self.kind == "gguf":
            from judgerank.backends.models import resolve_gguf

            resolve_gguf(self.name)
        elif self.kind == "simulated" and not Path(str(self.name)).is_file():
            raise JudgerankError(f"simulated model {self.name}: no such grades file (JSON {{text: grade}})")
        elif self.kind == "embedding":
            from judgerank.backends.embedding import check_installed

            check_installed()


@dataclass
class HeldModel:
    """A loaded backend and the gate its batches pass through."""

    spec: ModelSpec | None
    backend: Any
    one_at_a_time: bool

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def slot(self) -> AbstractContextManager[Any]:
        return self._lock if self.one_at_a_time else nullcontext()

    def close(self) -> None:
        close = getattr(self.backend, "close", None)
        if close is not None:
            close()


class Runtime:
    """Models by name, the store, and jobs.

    store: a path, a postgresql:// URL, "default" (JUDGERANK_STORE, else the user cache), an
    open JudgmentStore, or None (no store).
    base_url: judge with this OpenAI-compatible server; every model name is one it serves.
    threads: threads for local models (None: every core). context: the longest prompt a local
    model takes, in tokens (None: 4096 for llama.cpp, the model's own for transformers).
    backends: ready backend objects by model name (None: the default model), held as they are:
    for tests and for callers that bring their own. similarity_backend likewise replaces the
    embedding model. observer: told of long work, for a progress display: observer("loading",
    name) before a model loads, observer("judged", costs) after each judgment of every job.
    Use as a context manager, or call close().
    """

    def __init__(
        self,
        *,
        store: StoreSpec = "default",
        base_url: str | None = None,
        endpoint: str = "chat",
        top_logprobs: int = 20,
        concurrency: int = 8,
        namespace: str | None = None,
        threads: int | None = None,
        context: int | None = None,
        backends: Mapping[str | None, Any] | None = None,
        similarity_backend: Any = None,
        observer: Observer | None = None,
    ) -> None:
        self.base_url = base_url
        self.observer = observer
        self._openai = {"endpoint": endpoint, "top_logprobs": top_logprobs, "concurrency": concurrency,
                        "namespace": namespace}
        self.threads = threads
        self.context = context
        self._given = dict(backends or {})
        if similarity_backend is not None:
            self._given[EMBEDDING] = similarity_backend
        self._models: dict[Hashable, HeldModel] = {}
        self._loading: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()
        self._owns_store = not isinstance(store, JudgmentStore)
        self.store: JudgmentStore | None = open_store(store)

    # --- models ----------------------------------------------------------------------------

    def spec(self, model: str | None) -> ModelSpec:
        """What `model` names in this runtime (with base_url: a model that server serves)."""
        if model == EMBEDDING:
            return ModelSpec("embedding", "all-MiniLM-L6-v2")
        return ModelSpec.parse(model, self.base_url, self.threads, self.context, **self._openai)

    def model_label(self, model: str | None) -> str:
        """The name a model's calibrations are filed under: the named model (the embedded default
        for None), a path or served name as given, or the identity of a backend handed in."""
        if model in self._given:
            return str(getattr(self._given[model], "identity", model))
        spec = self.spec(model)
        if spec.kind == "gguf" and spec.name is None:
            from judgerank.backends.models import DEFAULT_MODEL

            return DEFAULT_MODEL
        return str(spec.name)

    def check(self, model: str | None) -> None:
        """Fail now on a model that cannot be had (given backends always can)."""
        if model not in self._given:
            self.spec(model).check()

    def check_attention(self, model: str | None) -> None:
        """Fail now when `model` cannot give its attention weights (icr)."""
        if model in self._given:
            if not hasattr(self._given[model], "iter_attention"):
                raise JudgerankError(f"model {self.model_label(model)} cannot give attention weights, which icr reads")
        elif self.spec(model).kind != "simulated":
            self.attention_spec(model).check()

    def model(self, model: str | None = None) -> HeldModel:
        """The model by name (None: the default), loaded on first use; two threads asking for
        one model load it once, and different models load side by side."""
        name = str(model) if model in self._given else self.spec(model).name or "smollm2-135m"
        return self._held(model, name, lambda: self._load(model))

    def attention(self, model: str | None = None) -> HeldModel:
        """The model as a reader of its own attention (icr): a given backend or the simulated
        judge as it is, a GGUF loaded a second time by transformers (held beside its llama.cpp
        twin). An OpenAI-compatible server cannot give attention: a one-line error."""
        if model in self._given or self.spec(model).kind == "simulated":
            return self.model(model)
        spec = self.attention_spec(model)
        return self._held(("attention", model), f"{spec.name or 'smollm2-135m'} (transformers)",
                          lambda: HeldModel(spec, build_backend(spec), one_at_a_time=True))

    def attention_spec(self, model: str | None) -> ModelSpec:
        """What `model` names as an attention reader: its GGUF, loaded by transformers."""
        spec = self.spec(model)
        if spec.kind == "openai":
            raise JudgerankError("icr reads the model's attention weights, which an OpenAI-compatible server does not "
                                 "give: run it on a local GGUF (--model without --base-url)")
        return ModelSpec("transformers", spec.name, threads=spec.threads, context=spec.context)

    def _held(self, key: Hashable, name: str, load: Callable[[], HeldModel]) -> HeldModel:
        with self._guard:
            held = self._models.get(key)
            if held is not None:
                return held
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._guard:
                if key in self._models:
                    return self._models[key]
            if self.observer is not None:
                self.observer("loading", name)
            held = load()
            with self._guard:
                self._models[key] = held
            return held

    def embedding(self) -> HeldModel:
        """The embedding model (or the similarity backend given), loaded on first use."""
        return self.model(EMBEDDING)

    def _load(self, model: str | None) -> HeldModel:
        if model in self._given:
            backend = self._given[model]
            # a given backend says whether it takes concurrent batches; by default it does not
            return HeldModel(None, backend, not getattr(backend, "concurrent", False))
        spec = self.spec(model)
        return HeldModel(spec, build_backend(spec), one_at_a_time=spec.kind != "openai")

    # --- jobs ------------------------------------------------------------------------------

    def job(
        self, kind: JobKind, model: str | None = None, budget: Budget | None = None, ledger: Ledger | None = None
    ) -> JobJudges:
        """The judges of one job on `model`, charging `ledger` (default: a fresh one under `budget`)."""
        if ledger is None:
            observer = self.observer
            ledger = Ledger(budget, (lambda costs: observer("judged", costs)) if observer is not None else None)
        return JobJudges(self, kind, model, ledger)

    def close(self) -> None:
        """Release every model (HTTP clients, llama.cpp contexts) and the store, if it owns it."""
        with self._guard:
            held, self._models = list(self._models.values()), {}
        for h in held:
            if h.spec is not None:  # given backends belong to the caller
                h.close()
        if self.store is not None and self._owns_store:
            self.store.close()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RuntimeUser:
    """A job object (Reranker, ResponseJudge) on a Runtime that it may own: close() releases the
    runtime only when it made it; usable in a `with` block."""

    runtime: Runtime
    _owns_runtime: bool

    def close(self) -> None:
        """Release the models and the store, if this object opened them (not a shared runtime)."""
        if self._owns_runtime:
            self.runtime.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def build_backend(spec: ModelSpec) -> Any:
    """The backend a spec names: the only place in the package that constructs one."""
    if spec.kind == "gguf":
        from judgerank.backends.llamacpp import LlamaCppBackend

        return LlamaCppBackend(spec.name, n_threads=spec.threads, n_ctx=spec.context or 4096)
    if spec.kind == "transformers":
        from judgerank.backends.transformers_attention import TransformersBackend

        return TransformersBackend(spec.name, n_threads=spec.threads, n_ctx=spec.context)
    if spec.kind == "openai":
        from judgerank.backends.openai_compat import OpenAICompatBackend

        assert spec.base_url is not None and spec.name is not None
        return OpenAICompatBackend(
            spec.base_url, spec.name, endpoint=spec.endpoint, top_logprobs=spec.top_logprobs,
            concurrency=spec.concurrency, namespace=spec.namespace, api_key_env=spec.api_key_env,
        )
    if spec.kind == "embedding":
        from judgerank.backends.embedding import EmbeddingBackend

        return EmbeddingBackend()
    from judgerank.backends.simulated import SimulatedBackend

    spec.check()
    try:
        grades = json.loads(Path(str(spec.name)).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise JudgerankError(f"simulated model {spec.name}: cannot read its grades ({exc})") from None
    return SimulatedBackend(grades)


def simulated_judge(grades: Mapping[str, float], **settings: Any) -> Any:
    """A simulated judge over grades held in memory (the cost model's runs): settings are
    SimulatedBackend's (noise, position_bias, seed, count_tokens, shape)."""
    from judgerank.backends.simulated import SimulatedBackend

    return SimulatedBackend(grades, **settings)


class _Recorder:
    """A comparer that keeps every Preference its judge returns, for the judge's diagnostics."""

    def __init__(self, judge: VerdictJudge) -> None:
        self.judge = judge
        self.seen: list[Preference] = []

    def compare(self, query: Query, pairs: Sequence[tuple[Item, Item]]) -> list[Preference]:
        try:
            prefs = self.judge.compare(query, pairs)
        except BudgetExhausted as stop:  # the pairs judged before the stop count in the diagnostics
            self.seen += [p for p in stop.partial if p is not None]
            raise
        self.seen += prefs
        return prefs


class JobJudges:
    """The judges of one job: every one shares the runtime's models and store and this job's
    Ledger. A rerank job judges passages for relevance; a judge job judges responses."""

    def __init__(self, runtime: Runtime, kind: JobKind, model: str | None, ledger: Ledger) -> None:
        self.runtime = runtime
        self.kind = kind
        self.model_name = model
        self.model_label = runtime.model_label(model)
        self.ledger = ledger
        self._permutations: list[PermutationJudge] = []
        self._verdicts: _Recorder | None = None
        self._rubric: RubricJudge | None = None
        self._graph: ComparisonGraph | None = None
        self.max_words = 400
        self.neutralise = True  # chat-template markers in untrusted text made inert (off only with --guard off)
        self.spotlight = "off"  # the pointwise relevance prompt's spotlighting (judgerank.guard.spotlight)
        self.verdict_template = "judge-pair"  # or judge-pair-5, the five-level verdicts

    def cached(self, held: HeldModel) -> CachedModel:
        return CachedModel(held.backend, self.runtime.store, self.ledger, held.slot, self.neutralise)

    def _llm(self) -> CachedModel:
        return self.cached(self.runtime.model(self.model_name))

    # --- the Judges protocol that strategies use -------------------------------------------

    def scorer(self, graded: bool = False) -> Scorer:
        if self.kind == "judge":
            return self.rubric()
        if graded:
            return PointwiseJudge(self._llm(), "relevance-graded")
        return PointwiseJudge(self._llm(), "relevance-yes-no", spotlight=self.spotlight)

    def comparer(self, imply: float = 1.0) -> Comparer:
        """The job's comparison graph (judgerank.strategies.graph), answering orders implied by
        confident chains (links of probability at least `imply`; 1: none) without a call."""
        if self._graph is None:
            judge = self.verdicts() if self.kind == "judge" else PairwiseJudge(self._llm())
            self._graph = ComparisonGraph(judge, self.ledger)
        return GraphComparer(self._graph, imply)

    def similarity(self, feedback: int = 0, weight: float = 1.0) -> SimilarityJudge:
        return SimilarityJudge(self.cached(self.runtime.embedding()), feedback, weight)

    def permutation(self, insert_scores: bool = False) -> PermutationJudge:
        judge = PermutationJudge(self._llm(), insert_scores=insert_scores)
        self._permutations.append(judge)
        return judge

    def labels(self, template: str, insert_scores: bool = False) -> LabelJudge:
        return LabelJudge(self._llm(), template, insert_scores=insert_scores)

    def attention(self) -> AttentionJudge:
        return AttentionJudge(self.cached(self.runtime.attention(self.model_name)))

    # --- response judging: one rubric and one verdict judge per job ----------------------

    def rubric(self) -> RubricJudge:
        if self._rubric is None:
            self._rubric = RubricJudge(self._llm(), max_words=self.max_words)
        return self._rubric

    def verdicts(self) -> _Recorder:
        if self._verdicts is None:
            self._verdicts = _Recorder(VerdictJudge(self._llm(), self.verdict_template, max_words=self.max_words))
        return self._verdicts

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
