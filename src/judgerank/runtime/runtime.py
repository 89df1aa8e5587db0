"""The runtime: the one place that builds backends, holds them, owns the judgment store, and
hands each job its judges with their own cost account.

Every entry point (CLI, HTTP service, Reranker, Judge, Jury, adapters, workers) starts from a
Runtime; nothing else constructs a backend. A model is loaded once, on first use, and run with
the concurrency it allows: an in-process model (llama.cpp, the embedding model, the simulated
judge) one batch at a time; an OpenAI-compatible endpoint up to its own concurrency limit, so
many jobs share it at once. Different models run side by side.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Hashable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from judgerank.backends.base import AttentionBackend, Backend
from judgerank.core.cancel import held
from judgerank.core.costs import Budget, Ledger
from judgerank.core.errors import JudgerankError
from judgerank.runtime.specs import ModelSpec, build_backend
from judgerank.store import JudgmentStore, StoreSpec, open_store

if TYPE_CHECKING:  # the judges are imported with the first job, not with the runtime (a command's --help)
    from judgerank.judges.job import JobJudges, JobKind

Observer = Callable[[str, Any], None]
UNSET: Any = object()  # the facades' deprecated `cache` argument, not given
Need = str  # what a method needs of a model: choices, generate, embedding, attention (the registry's Need)
EMBEDDING = "embedding"  # the name the embedding model is held under


@dataclass
class HeldModel:
    """A loaded backend and the gate its batches pass through."""

    spec: ModelSpec | None
    backend: Backend
    one_at_a_time: bool
    observer: Observer | None = None  # the runtime's: told of notes about the model

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def slot(self) -> AbstractContextManager[Any]:
        return held(self._lock) if self.one_at_a_time else nullcontext()

    def note(self, text: str) -> None:
        """Something the user should know about the model (the CLI prints it; else a warning)."""
        if self.observer is not None:
            self.observer("note", text)
        else:
            warnings.warn(text, RuntimeWarning, stacklevel=4)


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
        backends: Mapping[str | None, Backend] | None = None,
        similarity_backend: Backend | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.base_url = base_url
        self.observer = observer
        self._openai: dict[str, Any] = {"endpoint": endpoint, "top_logprobs": top_logprobs,
                                        "concurrency": concurrency, "namespace": namespace}
        self.threads = threads
        self.context = context
        self._given: dict[str | None, Backend] = dict(backends or {})
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
            return ModelSpec("embedding", "all-MiniLM-L6-v2", threads=self.threads)
        return ModelSpec.parse(model, self.base_url, self.threads, self.context, **self._openai)

    def model_label(self, model: str | None) -> str:
        """The name a model's calibrations are filed under: the named model (the embedded default
        for None), a path or served name as given, or the identity of a backend handed in."""
        if model in self._given:
            return self._given[model].identity
        return self.spec(model).label

    def check(self, model: str | None, needs: frozenset[Need] = frozenset({"choices"})) -> None:
        """Fail now, before anything loads, when `model` cannot serve what a method needs (given
        backends always can, except attention, which they must offer)."""
        if needs & {"choices", "generate"} and model not in self._given:
            self.spec(model).check()
        if "embedding" in needs and EMBEDDING not in self._given:
            self.spec(EMBEDDING).check()
        if "cross" in needs and model not in self._given:
            from judgerank.backends.cross_encoder import check_directory

            check_directory(model or "(no --model)")
        if "bi" in needs and model not in self._given:
            from judgerank.backends.embedding import check_folder

            check_folder(model or "(no --model)")
        if "attention" in needs:
            if model in self._given:
                if not isinstance(self._given[model], AttentionBackend):
                    raise JudgerankError(f"model {self.model_label(model)} cannot give attention weights, which icr "
                                         "reads")
            elif self.spec(model).kind != "simulated":
                self.spec(model).attention().check()

    def model(self, model: str | None = None) -> HeldModel:
        """The model by name (None: the default), loaded on first use; two threads asking for
        one model load it once, and different models load side by side."""
        name = str(model) if model in self._given else self.spec(model).name or "smollm2-135m"
        return self._held(model, name, lambda: self._load(model))

    def embedding(self) -> HeldModel:
        """The embedding model (or the similarity backend given), loaded on first use."""
        return self.model(EMBEDDING)

    def cross_encoder(self, model: str | None = None) -> HeldModel:
        """A cross-encoder folder (or the backend given under that name), loaded on first use."""
        if model in self._given:
            return self.model(model)
        from judgerank.backends.cross_encoder import CrossEncoderBackend

        return self._held(("cross", model), f"cross-encoder {model}",
                          lambda: HeldModel(None, CrossEncoderBackend(model or "(no --model)", threads=self.threads),
                                            one_at_a_time=True))

    def bi_encoder(self, model: str | None = None) -> HeldModel:
        """A bi-encoder folder (or the backend given under that name), loaded on first use."""
        if model in self._given:
            return self.model(model)
        from judgerank.backends.embedding import EmbeddingBackend

        return self._held(("bi", model), f"bi-encoder {model}",
                          lambda: HeldModel(None, EmbeddingBackend(threads=self.threads,
                                                                   folder=model or "(no --model)"),
                                            one_at_a_time=True))

    def attention(self, model: str | None = None) -> HeldModel:
        """The model as a reader of its own attention (icr): a given backend or the simulated
        judge as it is, a GGUF loaded a second time by transformers (held beside its llama.cpp
        twin). An OpenAI-compatible server cannot give attention: a one-line error."""
        if model in self._given or self.spec(model).kind == "simulated":
            return self.model(model)
        spec = self.spec(model).attention()
        return self._held(("attention", model), f"{spec.name or 'smollm2-135m'} (transformers)",
                          lambda: HeldModel(spec, build_backend(spec), one_at_a_time=True))

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
            held.observer = self.observer
            with self._guard:
                self._models[key] = held
            return held

    def _load(self, model: str | None) -> HeldModel:
        if model in self._given:
            backend = self._given[model]  # a given backend says whether it takes concurrent batches
            return HeldModel(None, backend, not backend.concurrent)
        spec = self.spec(model)
        return HeldModel(spec, build_backend(spec), one_at_a_time=spec.kind != "openai")

    @property
    def loaded(self) -> list[str]:
        """The models this runtime has built so far, by spec kind and name (what was asked)."""
        with self._guard:
            return [f"{h.spec.kind}:{h.spec.name}" for h in self._models.values() if h.spec is not None]

    # --- jobs ------------------------------------------------------------------------------

    def job(self, kind: JobKind, model: str | None = None, budget: Budget | None = None,
            ledger: Ledger | None = None, **settings: Any) -> JobJudges:
        """The judges of one job on `model`, charging `ledger` (default: a fresh one under
        `budget`); settings as JobJudges takes them (max_words, neutralise, ...)."""
        if ledger is None:
            observer = self.observer
            ledger = Ledger(budget, (lambda costs: observer("judged", costs)) if observer is not None else None)
        from judgerank.judges.job import JobJudges

        return JobJudges(self, kind, model, self.model_label(model), ledger, **settings)

    def close(self) -> None:
        """Release every model (HTTP clients, llama.cpp contexts) and the store, if it owns it."""
        with self._guard:
            held, self._models = list(self._models.values()), {}
        for h in held:
            if h.spec is not None:  # given backends belong to the caller
                h.backend.close()
        if self.store is not None and self._owns_store:
            self.store.close()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RuntimeUser:
    """What the job facades (Reranker, Judge, Jury) share: a Runtime they make from `store`,
    `base_url` and ready backends, or share when one is given, and release on close() only when
    they made it; usable in a `with` block."""

    runtime: Runtime
    _owns_runtime: bool

    def _use_runtime(self, runtime: Runtime | None, store: StoreSpec, base_url: str | None = None,
                     backends: Mapping[str | None, Backend] | None = None,
                     similarity_backend: Backend | None = None, cache: Any = UNSET) -> Runtime:
        if cache is not UNSET:
            warnings.warn(f"{type(self).__name__}(cache=...) is now store=...", DeprecationWarning, stacklevel=3)
            store = cache
        self._owns_runtime = runtime is None
        self.runtime = runtime or Runtime(store=store, base_url=base_url, backends=backends,
                                          similarity_backend=similarity_backend)
        return self.runtime

    def close(self) -> None:
        """Release the models and the store, if this object opened them (not a shared runtime)."""
        if self._owns_runtime:
            self.runtime.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
