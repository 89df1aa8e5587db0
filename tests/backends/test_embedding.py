"""The bi-encoder backend: all-MiniLM-L6-v2 from its pip package (no hub) on ONNX Runtime, no torch;
its vectors equal the bundled model's own, and are kept in the judgment store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from judgerank import Reranker
from judgerank.backends.embedding import EmbeddingBackend, check_installed

pytestmark = pytest.mark.embed

DOCS = ["Stocks rallied on Monday.", "An adult flea can live for up to a year.", "Bread needs flour and yeast."]
TEXTS = [*DOCS, "", "  spaced   out  ", "Ünïcödé, 日本語 and emoji 🙂", "word " * 400,  # past the 256-token cut
         "The flea life cycle has four stages: egg, larva, pupa and adult."]


def test_cosine_ranks_the_answer_first() -> None:
    with Reranker("embedding", store=None) as reranker:
        ranking = reranker.rank("how long does a flea live", DOCS)
    assert ranking.ids[0] == "1"
    assert ranking.costs.embedded_texts == 4 and ranking.costs.calls == 0  # the query and the three texts
    assert all(s is not None and -1.0 <= s <= 1.0 for s in ranking.scores)


def test_the_vectors_equal_the_bundled_models_own() -> None:
    sentence_transformers = pytest.importorskip("sentence_transformers")
    reference = sentence_transformers.SentenceTransformer(str(check_installed()), device="cpu")
    expected = reference.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    got = EmbeddingBackend().vectors(TEXTS)
    assert got.shape == expected.shape == (len(TEXTS), 384)
    assert np.abs(got - expected).max() < 1e-5


def test_vectors_are_kept_in_the_store_and_a_warm_run_loads_no_model(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    with Reranker("embedding", store=store) as reranker:
        first = reranker.rank("how long does a flea live", DOCS)
    assert first.costs.embedded_texts == 4
    with Reranker("embedding", store=store) as reranker:
        again = reranker.rank("how long does a flea live", DOCS)
        other = reranker.rank("bread", DOCS)  # another query over the same passages: only the query is new
        backend = reranker.runtime.embedding().backend
    assert (again.ids, again.scores) == (first.ids, first.scores) and again.costs.embedded_texts == 0
    assert other.costs.embedded_texts == 1 and other.ids[0] == "2"
    assert isinstance(backend, EmbeddingBackend)


def test_a_warm_run_never_builds_the_onnx_session(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    with Reranker("embedding-prf", store=store) as reranker:
        reranker.rank("how long does a flea live", DOCS)
    with Reranker("embedding-prf", store=store) as reranker:
        ranking = reranker.rank("how long does a flea live", DOCS)
        backend = reranker.runtime.embedding().backend
        assert ranking.costs.embedded_texts == 0 and backend._runner is None  # type: ignore[attr-defined]


def test_vectors_are_kept_in_postgresql(postgres_url: str) -> None:
    with Reranker("embedding", store=postgres_url) as reranker:
        first = reranker.rank("how long does a flea live", DOCS)
    with Reranker("embedding", store=postgres_url) as reranker:
        again = reranker.rank("how long does a flea live", DOCS)
    assert first.costs.embedded_texts == 4 and again.costs.embedded_texts == 0 and again.scores == first.scores


def test_the_default_path_imports_no_torch(tmp_path: Path) -> None:
    code = ("import sys, json, judgerank\n"
            "with judgerank.Reranker(store=None) as r:\n"
            "    r.rank('how long does a flea live', " + json.dumps(DOCS) + ")\n"
            "print(json.dumps(sorted(m for m in ('torch', 'sentence_transformers', 'transformers', 'llama_cpp')"
            " if m in sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={"JUDGERANK_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_a_bi_encoder_folder_ranks_as_its_weights_say(tmp_path: Path) -> None:
    """--method bi-encoder --model FOLDER: the bundled model's own folder gives the embedding's
    cosines under an identity of its own (a student's vectors never meet the embedding's)."""
    import shutil

    from judgerank.backends.embedding import check_folder
    from judgerank.core.errors import JudgerankError

    texts = ["fleas live about a year", "paris is in france"]
    bundled = EmbeddingBackend()
    copy = tmp_path / "copy"
    shutil.copytree(check_installed(), copy)
    folder = EmbeddingBackend(folder=copy)
    assert folder.identity.startswith("bi-encoder:copy:") and folder.identity != bundled.identity
    assert folder.similarities("how long do fleas live", texts) == pytest.approx(
        bundled.similarities("how long do fleas live", texts), abs=1e-6)
    with Reranker("bi-encoder", str(copy), store=None) as ranker:
        assert ranker.rank("how long do fleas live", texts).ids == ["0", "1"]
    (copy / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    with pytest.raises(JudgerankError, match="pooling is not the mean"):
        check_folder(copy)
    (copy / "tokenizer.json").unlink()
    with pytest.raises(JudgerankError, match="no tokenizer.json in it"):
        check_folder(copy)
    with pytest.raises(JudgerankError, match="not a folder"):
        check_folder(tmp_path / "nothing")


def test_a_student_marked_int8_runs_its_graph_with_int8_weights(tmp_path: Path) -> None:
    """judgerank distil --int8 marks the folder: the backend then runs a copy of the graph with
    int8 weights, whose vectors are near the float32 ones but not them, under an identity of its
    own (a store filled by one is never served to the other)."""
    import shutil

    from judgerank.backends.int8 import mark_int8, runs_int8
    from judgerank.backends.models import cache_dir

    copy = tmp_path / "student"
    shutil.copytree(check_installed(), copy)
    (copy / "distil.json").write_text(json.dumps({"judgerank": "distilled bi-encoder"}))
    full = EmbeddingBackend(folder=copy)
    mark_int8(copy, True)
    assert runs_int8(copy) and json.loads((copy / "distil.json").read_text())["judgerank"] == "distilled bi-encoder"
    small = EmbeddingBackend(folder=copy)
    assert small.identity == full.identity + ":int8"
    exact, near = full.vectors(TEXTS), small.vectors(TEXTS)
    cosines = (exact * near).sum(axis=1)
    assert cosines.min() > 0.97 and np.abs(exact - near).max() > 1e-3  # close, and not the float32 graph
    assert any(p.name.endswith("-int8.onnx") for p in (cache_dir() / "onnx").iterdir())
    store = tmp_path / "s.sqlite"
    query, texts = "how long do fleas live", ["fleas live about a year", "paris is in france", DOCS[1]]
    with Reranker("bi-encoder", str(copy), store=store) as ranker:
        ranked = ranker.rank(query, texts)
        assert ranked.ids[-1] == "1" and ranked.costs.embedded_texts == 4
    mark_int8(copy, False)
    assert not runs_int8(copy)
    with Reranker("bi-encoder", str(copy), store=store) as ranker:
        assert ranker.rank(query, texts).costs.embedded_texts == 4  # the int8 vectors are not the float32 ones'
