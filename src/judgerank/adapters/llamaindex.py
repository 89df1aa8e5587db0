"""LlamaIndex: a node postprocessor that reranks retrieved nodes with judgerank.

    from judgerank.adapters.llamaindex import JudgerankPostprocessor

    engine = index.as_query_engine(node_postprocessors=[JudgerankPostprocessor(top_n=5)])
    nodes = JudgerankPostprocessor(top_n=5).postprocess_nodes(nodes, query_str="...")

Each returned NodeWithScore holds a copy of its node with score = the relevance in [0, 1] (the
method's probability where it gives one, else by rank) and metadata["judgerank"] (rank, the
method's score, method, completeness, the query's costs), a key kept out of what the LLM and the
embedding model see. Needs `pip install "judgerank[llamaindex]"`.
"""

from __future__ import annotations

from judgerank.adapters.compat import require

require("llamaindex")

from llama_index.core.bridge.pydantic import ConfigDict  # noqa: E402
from llama_index.core.postprocessor.types import BaseNodePostprocessor  # noqa: E402
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle  # noqa: E402

from judgerank.adapters.core import place  # noqa: E402
from judgerank.adapters.settings import RankerSettings  # noqa: E402

KEY = "judgerank"


class JudgerankPostprocessor(RankerSettings, BaseNodePostprocessor):
    """Keeps the top_n nodes in judgerank's order; settings as in RankerSettings."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    @classmethod
    def class_name(cls) -> str:
        return "JudgerankPostprocessor"

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None) -> list[NodeWithScore]:
        if query_bundle is None:
            raise ValueError("JudgerankPostprocessor needs the query: pass query_bundle or query_str")
        texts = [n.node.get_content(metadata_mode=MetadataMode.NONE) for n in nodes]
        placed, ranking = place(self._reranker, query_bundle.query_str, texts)
        out = []
        for spot in placed[: self.top_n]:
            node = nodes[spot.index].node.model_copy()
            node.metadata = {**node.metadata, KEY: spot.info(ranking)}
            node.excluded_llm_metadata_keys = [*node.excluded_llm_metadata_keys, KEY]
            node.excluded_embed_metadata_keys = [*node.excluded_embed_metadata_keys, KEY]
            out.append(NodeWithScore(node=node, score=spot.relevance))
        return out
