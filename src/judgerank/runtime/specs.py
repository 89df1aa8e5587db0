"""What a model name means, and the one place a backend is built from it.

A ModelSpec is what a user typed (--model, --base-url) made precise; `build_backend` turns a spec
into a backend, importing the backend's module only then, so that `import judgerank` and a job
that never asks a model stay light.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from judgerank.backends.base import Backend
from judgerank.core.errors import JudgerankError

Kind = Literal["gguf", "openai", "embedding", "simulated", "transformers"]


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

    @property
    def label(self) -> str:
        """The name a model's calibrations are filed under: the named model (the embedded default
        for None), a path or served name as given."""
        if self.kind == "gguf" and self.name is None:
            from judgerank.backends.models import DEFAULT_MODEL

            return DEFAULT_MODEL
        return str(self.name)

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

    def attention(self) -> ModelSpec:
        """The same model as an attention reader (icr): its GGUF, loaded by transformers."""
        if self.kind == "openai":
            raise JudgerankError("icr reads the model's attention weights, which an OpenAI-compatible server does not "
                                 "give: run it on a local GGUF (--model without --base-url)")
        return ModelSpec("transformers", self.name, threads=self.threads, context=self.context)


def build_backend(spec: ModelSpec) -> Backend:
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

        return EmbeddingBackend(threads=spec.threads)
    spec.check()
    try:
        grades = json.loads(Path(str(spec.name)).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise JudgerankError(f"simulated model {spec.name}: cannot read its grades ({exc})") from None
    return simulated_judge(grades)


def simulated_judge(grades: Mapping[str, float], **settings: Any) -> Backend:
    """A simulated judge over grades held in memory (tests, the cost model's runs): settings are
    SimulatedBackend's (noise, position_bias, seed, count_tokens, shape)."""
    from judgerank.backends.simulated import SimulatedBackend

    return SimulatedBackend(grades, **settings)
