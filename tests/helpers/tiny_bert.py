"""A tiny BERT sequence classifier (one label) and its word-piece tokenizer, saved as a
CrossEncoder folder with random weights from a fixed seed: a cross-encoder, or a student's base,
that loads and trains in seconds (needs the cross extra: torch and transformers)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def tiny_bert(folder: Path, words: Sequence[str], *, hidden: int = 32, layers: int = 2, seed: int = 0) -> str:
    import torch
    import transformers

    folder.mkdir(parents=True, exist_ok=True)
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *dict.fromkeys(words)]
    # transformers 5 takes the vocabulary as `vocab` (a vocab_file keyword is ignored: every word [UNK])
    tokenizer = transformers.BertTokenizerFast(vocab={w: n for n, w in enumerate(tokens)}, do_lower_case=True)
    torch.manual_seed(seed)
    config = transformers.BertConfig(vocab_size=len(tokens), hidden_size=hidden, num_hidden_layers=layers,
                                     num_attention_heads=2, intermediate_size=2 * hidden, num_labels=1,
                                     max_position_embeddings=128)
    transformers.BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)
