"""The cross-encoder method on a tiny CrossEncoder built here: the scores sentence-transformers'
own CrossEncoder gives, stored pair by pair, and a cascade's second stage."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch", reason="the [cross] extra")
transformers = pytest.importorskip("transformers", reason="the [cross] extra")

from helpers.tiny_bert import tiny_bert  # noqa: E402

from judgerank import Reranker  # noqa: E402
from judgerank.backends.cross_encoder import CrossEncoderBackend, export_onnx  # noqa: E402
from judgerank.core.errors import JudgerankError  # noqa: E402

WORDS = "the a flea fleas live life cycle egg larva pupa adult months paris capital france how long is of in".split()
QUERY = "how long is the life cycle of a flea"
DOCS = ["the flea life cycle is egg larva pupa adult", "paris is the capital of france",
        "fleas live two to three months", "a flea in paris"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    """A two-layer BERT sequence classifier with one label, saved as a CrossEncoder folder."""
    return tiny_bert(tmp_path_factory.mktemp("cross"), WORDS)


def test_scores_are_sentence_transformers_cross_encoder_probabilities(tiny):
    sentence_transformers = pytest.importorskip("sentence_transformers")
    expected = sentence_transformers.CrossEncoder(tiny, device="cpu").predict([(QUERY, d) for d in DOCS])
    got = CrossEncoderBackend(tiny, batch_size=3).similarities(QUERY, DOCS)  # batches of 3: padding changes nothing
    assert got == pytest.approx([float(x) for x in expected], abs=1e-5)
    assert all(0.0 < p < 1.0 for p in got)


def test_the_method_ranks_by_them_stores_them_and_serves_a_cascade(tiny, tmp_path):
    scores = CrossEncoderBackend(tiny).similarities(QUERY, DOCS)
    store = tmp_path / "c.sqlite"
    with Reranker("cross-encoder", tiny, store=store) as reranker:
        first = reranker.rank(QUERY, DOCS)
        assert first.ids == [str(n) for n in sorted(range(4), key=lambda n: -scores[n])]
        assert first.scores == pytest.approx(sorted(scores, reverse=True), abs=1e-6)
        assert first.costs.calls == 0 and first.costs.embedded_texts == 4
        again = reranker.rank(QUERY, DOCS)
        assert again.costs.cache_hits == 4 and again.costs.embedded_texts == 0 and again.ids == first.ids
        assert reranker.relevance_scale() == "probability"
    from helpers import Stub

    lexical = Stub("lexical", similarity=lambda q, t: len(set(q.split()) & set(t.split())))
    with Reranker("cascade", tiny, store=None, then="cross-encoder", cascade_depth=2, fuse=False, feedback=0, guard="off",
                  similarity_backend=lexical) as cascade:
        ranked = cascade.rank(QUERY, DOCS)
    top_two = sorted(range(4), key=lambda n: -len(set(QUERY.split()) & set(DOCS[n].split())))[:2]
    assert set(ranked.ids[:2]) == {str(n) for n in top_two}  # the cross-encoder orders the first stage's top 2
    assert ranked.ids[:2] == [str(n) for n in sorted(top_two, key=lambda n: -scores[n])]


def test_its_onnx_export_scores_as_torch_does_and_runs_without_torch(tiny, tmp_path):
    folder = tmp_path / "fast"
    shutil.copytree(tiny, folder)
    export_onnx(folder)
    fast = CrossEncoderBackend(folder, batch_size=3)
    assert fast.engine == "onnx" and CrossEncoderBackend(tiny).engine == "torch"
    expected = CrossEncoderBackend(folder, engine="torch").similarities(QUERY, DOCS)
    assert fast.similarities(QUERY, DOCS) == pytest.approx(expected, abs=1e-5)
    assert fast.identity != CrossEncoderBackend(tiny).identity
    script = (f"import sys; from judgerank.backends.cross_encoder import CrossEncoderBackend as C; "
              f"print(C({str(folder)!r}).similarities('flea', ['a flea', 'paris'])); assert 'torch' not in sys.modules")
    assert subprocess.run([sys.executable, "-c", script], capture_output=True, text=True).returncode == 0
    with pytest.raises(JudgerankError, match="runs on torch"):
        CrossEncoderBackend(tiny, engine="onnx")


def test_a_folder_that_is_not_a_cross_encoder_is_one_line(tmp_path):
    with pytest.raises(JudgerankError, match="not a folder"):
        Reranker("cross-encoder", str(tmp_path / "none"), store=None)
    with pytest.raises(JudgerankError, match="no config.json"):
        Reranker("cross-encoder", str(tmp_path), store=None)
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"id": "a", "text": "x"}\n')
    result = subprocess.run([sys.executable, "-m", "judgerank", "rerank", "--query", "q", "--docs", str(docs),
                             "--method", "cross-encoder", "--model", str(tmp_path)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2 and "no config.json" in result.stderr and "Traceback" not in result.stderr


def test_a_student_marked_int8_runs_on_int8_weights_made_in_the_cache(tiny, tmp_path, monkeypatch):
    """A cross-encoder folder whose distil.json says int8 runs a quantised copy of model.onnx, made
    in the user's cache (the folder is left as it is), under an identity of its own; its
    probabilities stay near the float32 ones."""
    from judgerank.backends.int8 import mark_int8

    monkeypatch.setenv("JUDGERANK_HOME", str(tmp_path / "home"))
    folder = tmp_path / "student"
    shutil.copytree(tiny, folder)
    export_onnx(folder)
    (folder / "distil.json").write_text('{"settings": {"max_length": 64}}')
    full = CrossEncoderBackend(folder)
    exact = full.similarities(QUERY, DOCS)
    mark_int8(folder, True)
    before = sorted(p.name for p in folder.iterdir())
    small = CrossEncoderBackend(folder)
    assert small.int8 and small.identity.endswith(":int8") and small.identity.removesuffix(":int8") != full.identity
    assert small.similarities(QUERY, DOCS) == pytest.approx(exact, abs=0.02)
    assert sorted(p.name for p in folder.iterdir()) == before
    assert (tmp_path / "home" / "onnx" / f"cross-encoder-{small._digest}-int8.onnx").is_file()
    assert not CrossEncoderBackend(folder, engine="torch").int8  # torch runs the float32 weights
