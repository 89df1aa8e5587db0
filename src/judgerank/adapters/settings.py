"""The settings the pydantic-based adapters (LangChain, LlamaIndex) share as model fields, and
the Reranker they build from them when the component is made."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, PrivateAttr

from judgerank.adapters.core import make_reranker
from judgerank.core.costs import Costs
from judgerank.rerank import Reranker
from judgerank.strategies.registry import DEFAULT_RERANK_METHOD


class RankerSettings(BaseModel):
    """top_n: keep the best top_n (None: all). method, model, base_url, store, max_calls and
    max_tokens (each query's budget), options (method options) and runtime (a shared
    judgerank.Runtime) as for judgerank.Reranker. The model loads at the first query."""

    top_n: int | None = Field(default=3, ge=1)
    method: str = DEFAULT_RERANK_METHOD
    model: str | None = None
    base_url: str | None = None
    store: str | None = "default"
    max_calls: int | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=0)
    options: dict[str, Any] = Field(default_factory=dict)
    runtime: Any = None
    _reranker: Reranker = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        self._reranker = make_reranker(self.method, self.model, base_url=self.base_url, store=self.store,
                                       max_calls=self.max_calls, max_tokens=self.max_tokens, runtime=self.runtime,
                                       options=self.options)

    @property
    def costs(self) -> Costs:
        """What every query so far cost, added up."""
        return self._reranker.costs

    def close(self) -> None:
        """Release the model and the judgment store."""
        self._reranker.close()
