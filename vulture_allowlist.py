"""Names vulture cannot see used, each for a stated reason (make test runs vulture on src and
bench with this file at 60% confidence: unused functions, classes, methods, attributes and
variables). A name belongs here only when something outside Python's own calls uses it; dead
code is deleted, not listed."""

# ruff: noqa
# type: ignore
_ = object()

# Called by frameworks through their hooks and decorators: typer commands and callbacks, FastAPI
# routes and handlers, pydantic validators and settings, the adapters' framework overrides.
_options, winrate, judge_eval, assess, assess_eval, distil, plan, serve, methods, mcp, swiss, evaluate, judge, rerank, arena
invalid, http_error, healthz, metrics_text, swagger, redoc, docs_asset, openapi, leaderboard
_._unicode
model_config, model_post_init
_.to_dict, _.from_dict, _.run_async, _.warm_up, _.acompress_documents, _.compress_documents, _.class_name
_.on_broken_pipe  # rich calls it when stdout closes
_._postprocess_nodes, _.transform, JudgerankRanker, JudgerankCompressor, JudgerankPostprocessor, JudgerankReranker
_.__signature__  # typer reads a command's signature
_.enable_progress_bars, _.preserve_order, _.actor_task_retry_on_errors  # Ray Data's context, read by Ray

# Fields of records that reach users as JSON (asdict, model_dump): the service's bodies, the
# diagnostics, the parse report.
rank_fields, max_chunks_per_doc, relevance_score
naive_tie_rate, mean_p_tie, naive_intransitive_rate, probability_intransitive_rate
naive_score_inconsistency, probability_score_inconsistency
duplicates, invalid, unparseable, _.invalid, _.duplicates

# Public API with no caller inside the package: the facades' batch verbs, and what a runtime has
# loaded (a caller counts constructions with it).
_.rank_many, _.loaded

# The simulated judge's instrumentation, read by tests and studies of strategies.
_.last_tokens, _.calls

# bench/: the peers' and the standard library's hooks that bench scripts replace or implement
# (a hub download patched to read local files, a tokenizer patched to Qwen's, HTTP handlers).
_.hf_hub_download, _.get_encoding, _.encoding_for_model, _.api_base, _.RequestOutput
_.do_GET, _.do_POST, _.log_message

# Python's own hooks: a module's lazy attributes (PEP 562); ONNX Runtime's session options, read by
# the runtime when the session is made.
__getattr__, __dir__
_.intra_op_num_threads, _.inter_op_num_threads, _.log_severity_level

# sentence-transformers reads a model's max_seq_length when it tokenises (the distil bi-encoder sets it).
_.max_seq_length
