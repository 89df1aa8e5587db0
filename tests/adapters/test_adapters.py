"""The framework adapters with the real frameworks installed (the test extras pin them):
each returns documents in exactly judgerank's own order, with its scores and costs."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from judgerank import Reranker
from judgerank.adapters.compat import FRAMEWORKS, Interface, interface_problem, require
from judgerank.core.errors import JudgerankError
from judgerank.core.types import Request
from judgerank.io.trec import read_qrels
from judgerank.rerank.files import read_requests

DEPTH = 20


def dl19(data: Path) -> tuple[list[Request], dict[str, dict[str, int]]]:
    dl = data / "trec-dl19"
    return read_requests(dl / "bm25_top100_dl19.json"), read_qrels(dl / "qrels.dl19-passage.txt")


def simulated_model(tmp_path: Path, requests: list[Request], qrels: dict[str, dict[str, int]]) -> str:
    """A simulated judge that knows the NIST grades (unjudged passages: 0)."""
    grades = {i.text: qrels.get(r.query.id, {}).get(i.id, 0) for r in requests for i in r.items}
    path = tmp_path / "grades.json"
    path.write_text(json.dumps(grades))
    return f"simulated:{path}"


@pytest.fixture
def one_query(data, tmp_path):
    requests, qrels = dl19(data)
    request = Request(requests[0].query, requests[0].items[:DEPTH])
    model = simulated_model(tmp_path, [request], qrels)
    with Reranker("pointwise", model, store=None) as reranker:
        expected = reranker.rank(request.query, request.items)
    assert expected.ids != [i.id for i in request.items]  # the judge reorders BM25: the test can tell
    return request, model, expected


def test_import_judgerank_loads_no_framework_and_no_model_library():
    code = ("import sys, judgerank; heavy = ['langchain_core', 'llama_index', 'haystack', 'pyterrier', 'mcp', "
            "'torch', 'llama_cpp', 'fastapi', 'pandas']; print([m for m in heavy if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("key", sorted(FRAMEWORKS))
def test_installed_framework_has_the_interface_the_adapter_uses(key):
    """Fails with the changed method and the supported range when a framework release moves or
    renames what an adapter calls (the message users would see at import)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        installed = require(key)
    assert re.match(r"\d", installed)
    outside = [str(w.message) for w in caught if "outside the range" in str(w.message)]
    assert not outside, outside  # installed outside the pinned range: revisit the pin


def test_a_changed_interface_is_named_with_the_supported_range(monkeypatch):
    assert interface_problem(Interface("json:dumps", ("obj", "indent"))) is None
    assert "no longer takes not_a_parameter" in interface_problem(Interface("json:dumps", ("obj", "not_a_parameter")))
    assert "json:gone is gone" in interface_problem(Interface("json:gone", ()))
    fw = FRAMEWORKS["langchain"]
    monkeypatch.setitem(FRAMEWORKS, "langchain", fw.__class__(fw.name, fw.distribution, fw.supported, fw.extra,
                                                              (Interface("json:dumps", ("renamed",)),)))
    with pytest.raises(JudgerankError, match=r"langchain-core \S+ changed .* no longer takes renamed.*>=1.0,<2"):
        require("langchain")


# --- LangChain ---------------------------------------------------------------------------------


def test_langchain_compression_retriever_returns_judgeranks_order(one_query):
    from langchain_classic.retrievers import ContextualCompressionRetriever
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    from judgerank.adapters.langchain import JudgerankCompressor

    request, model, expected = one_query

    class ListRetriever(BaseRetriever):
        """Returns the BM25 candidates, in BM25 order, whatever the query."""

        docs: list[Document]

        def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
            return self.docs

    base = ListRetriever(docs=[Document(page_content=i.text, metadata={"docid": i.id}, id=i.id) for i in request.items])
    compressor = JudgerankCompressor(top_n=10, method="pointwise", model=model, store=None)
    retriever = ContextualCompressionRetriever(base_compressor=compressor, base_retriever=base)
    docs = retriever.invoke(request.query.text)
    assert [d.metadata["docid"] for d in docs] == expected.ids[:10]
    assert [d.metadata["judgerank"]["rank"] for d in docs] == list(range(1, 11))
    assert [d.metadata["judgerank"]["score"] for d in docs] == expected.scores[:10]
    scores = [d.metadata["relevance_score"] for d in docs]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)  # pointwise: P(relevant)
    assert docs[0].metadata["judgerank"]["costs"]["calls"] == DEPTH
    # the async path gives the same documents, from the judgments the first call stored in memory
    again = asyncio.run(retriever.ainvoke(request.query.text))
    assert [d.metadata["docid"] for d in again] == expected.ids[:10]
    assert compressor.costs.calls == 2 * DEPTH  # no store (store=None): each query asks again
    assert base.docs[0].metadata == {"docid": request.items[0].id}  # the retriever's documents are not changed
    # verdicts in words through the adapter's options: what the same Reranker gives
    in_words = JudgerankCompressor(top_n=10, method="pointwise", model=model, store=None,
                                   options={"verdicts": "text", "samples": 3, "temperature": 1.0})
    with Reranker("pointwise", model, store=None, verdicts="text", samples=3, temperature=1.0) as reranker:
        said = reranker.rank(request.query, request.items)
    docs = ContextualCompressionRetriever(base_compressor=in_words, base_retriever=base).invoke(request.query.text)
    assert [d.metadata["docid"] for d in docs] == said.ids[:10] and said.costs.calls == 3 * DEPTH


@pytest.mark.llm
@pytest.mark.embed
def test_langchain_with_the_embedded_default(data, tmp_path):
    from langchain_core.documents import Document

    from judgerank.adapters.langchain import JudgerankCompressor

    requests, _ = dl19(data)
    request = Request(requests[1].query, requests[1].items[:10])
    with Reranker(store=tmp_path / "c.sqlite") as reranker:
        expected = reranker.rank(request.query, request.items)
    compressor = JudgerankCompressor(top_n=None, store=str(tmp_path / "c.sqlite"))
    docs = compressor.compress_documents([Document(page_content=i.text, id=i.id) for i in request.items],
                                         request.query.text)
    assert [d.id for d in docs] == expected.ids
    assert compressor.costs.calls == 0  # the default with SmolLM2 asks the embedding model only
    compressor.close()


def test_langchain_bad_settings_fail_where_the_component_is_built():
    from judgerank.adapters.langchain import JudgerankCompressor

    with pytest.raises(JudgerankError, match="unknown method 'nope' for rerank"):
        JudgerankCompressor(method="nope", store=None)
    with pytest.raises(JudgerankError, match="unknown option 'windw'"):
        JudgerankCompressor(options={"windw": 3}, store=None)


# --- LlamaIndex --------------------------------------------------------------------------------


def test_llamaindex_postprocessor_returns_judgeranks_order(one_query):
    from llama_index.core.schema import MetadataMode, NodeWithScore, TextNode

    from judgerank.adapters.llamaindex import JudgerankPostprocessor

    request, model, expected = one_query
    nodes = [NodeWithScore(node=TextNode(text=i.text, id_=i.id, metadata={"source": "bm25"}), score=20.0 - n)
             for n, i in enumerate(request.items)]
    post = JudgerankPostprocessor(top_n=5, method="pointwise", model=model, store=None)
    out = post.postprocess_nodes(nodes, query_str=request.query.text)
    assert [n.node.node_id for n in out] == expected.ids[:5]
    assert [n.node.metadata["judgerank"]["rank"] for n in out] == [1, 2, 3, 4, 5]
    assert all(0 <= n.score <= 1 for n in out)
    # judgerank's bookkeeping is kept out of what the LLM and the embedding model are shown
    assert "judgerank" not in out[0].node.get_content(metadata_mode=MetadataMode.LLM)
    assert "source: bm25" in out[0].node.get_content(metadata_mode=MetadataMode.LLM)
    assert "judgerank" not in nodes[0].node.metadata  # the caller's nodes are not changed
    with pytest.raises(ValueError, match="needs the query"):
        post.postprocess_nodes(nodes)


# --- Haystack ----------------------------------------------------------------------------------


def test_haystack_pipeline_retriever_then_ranker(one_query):
    from haystack import Document, Pipeline
    from haystack.components.retrievers.in_memory import InMemoryBM25Retriever
    from haystack.document_stores.in_memory import InMemoryDocumentStore

    from judgerank.adapters.haystack import JudgerankRanker

    request, model, expected = one_query
    store = InMemoryDocumentStore()
    store.write_documents([Document(id=i.id, content=i.text) for i in request.items])
    pipe = Pipeline()
    pipe.add_component("retriever", InMemoryBM25Retriever(document_store=store, top_k=DEPTH))
    pipe.add_component("ranker", JudgerankRanker(top_k=10, method="pointwise", model=model, store=None))
    pipe.connect("retriever.documents", "ranker.documents")
    result = pipe.run({"retriever": {"query": request.query.text}, "ranker": {"query": request.query.text}},
                      include_outputs_from={"retriever"})
    docs = result["ranker"]["documents"]
    # judgerank on the candidates in the order Haystack's own BM25 gave them (ties keep input order)
    retrieved = [request.items[[i.id for i in request.items].index(d.id)] for d in result["retriever"]["documents"]]
    with Reranker("pointwise", model, store=None) as reranker:
        expected = reranker.rank(request.query, tuple(retrieved))
    assert [d.id for d in docs] == expected.ids[:10]
    assert [d.meta["judgerank"]["rank"] for d in docs] == list(range(1, 11))
    assert docs[0].meta["judgerank"]["costs"]["calls"] == DEPTH
    # serialised and rebuilt, as Haystack pipelines are saved
    import inspect

    trusted = {"allowed_modules": ["judgerank.adapters.haystack"]}  # Haystack 3 loads only allowed modules
    rebuilt = Pipeline.loads(pipe.dumps(), **(trusted if "allowed_modules" in inspect.signature(Pipeline.loads).parameters
                                             else {}))
    assert rebuilt.get_component("ranker").to_dict() == pipe.get_component("ranker").to_dict()


# --- PyTerrier ---------------------------------------------------------------------------------


def test_pyterrier_experiment_matches_judgerank_evaluate(data, tmp_path):
    import pandas as pd
    import pyterrier as pt

    from judgerank.adapters.pyterrier import JudgerankReranker

    requests, qrels = dl19(data)
    model = simulated_model(tmp_path, requests, qrels)
    run = pd.DataFrame([
        {"qid": r.query.id, "query": r.query.text, "docno": i.id, "text": i.text, "rank": n, "score": 100.0 - n}
        for r in requests for n, i in enumerate(r.items)
    ])
    topics = run[["qid", "query"]].drop_duplicates()
    qrels_df = pd.DataFrame([{"qid": q, "docno": d, "label": g} for q, docs in qrels.items() for d, g in docs.items()])
    reranker = JudgerankReranker("pointwise", model, store=str(tmp_path / "c.sqlite"), depth=DEPTH)
    bm25 = pt.Transformer.from_df(run)
    table = pt.Experiment([bm25, bm25 >> reranker], topics, qrels_df, eval_metrics=["ndcg_cut_10"], names=["bm25", "jr"])
    ndcg = dict(zip(table["name"], table["ndcg_cut_10"]))
    assert round(ndcg["bm25"], 4) == 0.5058  # the published BM25 figure: the frame is the real run

    # the same ranking through the CLI, scored by judgerank evaluate
    out = tmp_path / "run.trec"
    cli = [sys.executable, "-m", "judgerank"]
    done = subprocess.run([*cli, "rerank", "--input", data / "trec-dl19" / "bm25_top100_dl19.json", "--method",
                           "pointwise", "--model", model, "--depth", str(DEPTH), "--out", out,
                           "--store", tmp_path / "c.sqlite"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "0 LLM calls" in done.stderr  # every judgment came from the store the transformer filled
    scored = subprocess.run([*cli, "evaluate", out, "--qrels", data / "trec-dl19" / "qrels.dl19-passage.txt",
                             "--metrics", "ndcg@10", "--format", "table"], capture_output=True, text=True)
    assert scored.returncode == 0, scored.stderr
    printed = re.search(r"all\W+(\d\.\d{4})", scored.stdout)
    assert printed, scored.stdout
    assert ndcg["jr"] > ndcg["bm25"] + 0.1
    assert f"{ndcg['jr']:.4f}" == printed.group(1)  # as many digits as judgerank evaluate prints
    assert reranker.costs.calls == len(requests) * DEPTH


def test_pyterrier_frame_without_text_is_one_clear_error(tmp_path):
    import pandas as pd

    from judgerank.adapters.pyterrier import JudgerankReranker

    frame = pd.DataFrame([{"qid": "1", "query": "q", "docno": "d1"}])
    with pytest.raises(JudgerankError, match="lacks text"):
        JudgerankReranker("pointwise", store=None).transform(frame)
