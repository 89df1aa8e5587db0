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

from judgerank.adapters.compat import require

require("langchain")

from langchain_core.callbacks import Callbacks  # noqa: E402
from langchain_core.documents import BaseDocumentCompressor, Document  # noqa: E402
from pydantic import ConfigDict  # noqa: E402

from judgerank.adapters.core import place  # noqa: E402
from judgerank.adapters.settings import RankerSettings  # noqa: E402


class JudgerankCompressor(RankerSettings, BaseDocumentCompressor):
    """Keeps the top_n documents in judgerank's order; settings as in RankerSettings."""

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    def compress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Callbacks | None = None
    ) -> Sequence[Document]:
        placed, ranking = place(self._reranker, query, [d.page_content for d in documents])
        out = []
        for spot in placed[: self.top_n]:
            doc = documents[spot.index]
            metadata = {**doc.metadata, "relevance_score": spot.relevance, "judgerank": spot.info(ranking)}
            out.append(Document(page_content=doc.page_content, metadata=metadata, id=doc.id))
        return out

    async def acompress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Callbacks | None = None
    ) -> Sequence[Document]:
        """The same in a worker thread, so the event loop keeps serving while the model works."""
        return await asyncio.to_thread(self.compress_documents, documents, query, callbacks)
