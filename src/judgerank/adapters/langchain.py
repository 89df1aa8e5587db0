"""LangChain: a document compressor that reranks a retriever's documents with judgerank.

    from langchain_classic.retrievers import ContextualCompressionRetriever
    from judgerank.adapters.langchain import JudgerankCompressor

    retriever = ContextualCompressionRetriever(
        base_compressor=JudgerankCompressor(top_n=5, method="pointwise"), base_retriever=base)
    docs = retriever.invoke("how long does a flea live")

Each returned document is a copy with metadata["relevance_score"] (as LangChain's Cohere
reranker sets it: in [0, 1]) and metadata["judgerank"] (rank, the method's score, method,
whether the ranking is complete, and the query's costs). Needs `pip install "judgerank[langchain]"`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from judgerank.adapters.compat import require

require("langchain")

from langchain_core.callbacks import Callbacks  # noqa: E402
from langchain_core.documents import BaseDocumentCompressor, Document  # noqa: E402
from pydantic import ConfigDict, Field, PrivateAttr  # noqa: E402

from judgerank.adapters.core import Ranker  # noqa: E402
from judgerank.engine import DEFAULT_METHOD  # noqa: E402
from judgerank.types import Costs  # noqa: E402


class JudgerankCompressor(BaseDocumentCompressor):
    """Keeps the top_n documents in judgerank's order (all of them when top_n is None).

    method, model, base_url, cache, max_calls, max_tokens (the budget of each query), options
    (method options such as depth or window) and runtime (a shared judgerank.Runtime) as for
    judgerank.Reranker. The model loads at the first query.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    top_n: int | None = Field(default=3, ge=1)
    method: str = DEFAULT_METHOD
    model: str | None = None
    base_url: str | None = None
    cache: str | None = "default"
    max_calls: int | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=0)
    options: dict[str, Any] = Field(default_factory=dict)
    runtime: Any = None
    _ranker: Ranker = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        self._ranker = Ranker(self.method, self.model, base_url=self.base_url, cache=self.cache,
                              max_calls=self.max_calls, max_tokens=self.max_tokens, runtime=self.runtime,
                              options=self.options)

    @property
    def costs(self) -> Costs:
        """What every query so far cost, added up."""
        return self._ranker.costs

    def compress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Callbacks | None = None
    ) -> Sequence[Document]:
        placed, ranking = self._ranker.rank(query, [d.page_content for d in documents])
        out = []
        for place in placed[: self.top_n]:
            doc = documents[place.index]
            metadata = {**doc.metadata, "relevance_score": place.relevance, "judgerank": place.info(ranking)}
            out.append(Document(page_content=doc.page_content, metadata=metadata, id=doc.id))
        return out

    async def acompress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Callbacks | None = None
    ) -> Sequence[Document]:
        """The same in a worker thread, so the event loop keeps serving while the model works."""
        return await asyncio.to_thread(self.compress_documents, documents, query, callbacks)

    def close(self) -> None:
        """Release the model and the judgment store."""
        self._ranker.close()
