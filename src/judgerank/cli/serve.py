"""`judgerank serve` and `judgerank mcp`: the HTTP service and the MCP server."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from judgerank.cli.app import app, err
from judgerank.cli.options import NoStoreOpt, StoreOpt, store_spec
from judgerank.core.errors import JudgerankError, needs_extra

ServeModel = Annotated[
    str | None, typer.Option(help="Default model: a named model or GGUF path (embedded default if unset).")
]
ServeModels = Annotated[
    str,
    typer.Option(
        help="Comma-separated further models a request may ask for "
        "(named models, GGUF paths, or with --base-url names that server serves)."
    ),
]
ServeMethod = Annotated[str | None, typer.Option(help="Default rerank method.")]
ApiKeysFile = Annotated[
    Path | None, typer.Option(help="File of API keys, one per line (also: JUDGERANK_API_KEYS, comma-separated).")
]
MaxDocuments = Annotated[int, typer.Option(help="Most documents (or responses) per request.", min=1)]
MaxDocumentChars = Annotated[int, typer.Option(help="Most characters per document.", min=1)]
Concurrency = Annotated[int, typer.Option(help="With --base-url: most requests in flight to that server.", min=1)]
MaxCalls = Annotated[int, typer.Option(help="Ceiling on any request's new LLM calls (a request may ask for fewer; "
                                           "0 serves only stored judgments).", min=0)]
ServeBaseUrl = Annotated[
    str | None, typer.Option(help="Judge with an OpenAI-compatible server (…/v1); --model names its model.")
]
ServePrompt = Annotated[str | None, typer.Option(
    help="A prompt template of your own for every request (TOML, docs/templates.md); checked at start.")]
ServeRubric = Annotated[str | None, typer.Option(
    help="A rubric of your own for every judge request (TOML, docs/templates.md); checked at start.")]


def _server_config(
    model: str | None, models: str, method: str | None, api_keys_file: Path | None, max_documents: int,
    max_document_chars: int, max_calls: int | None, store: str | None, no_store: bool, base_url: str | None,
    concurrency: int, prompt: str | None = None, rubric: str | None = None, **more: Any,
) -> Any:
    """The service's configuration from the command line; API keys from the file and the environment."""
    from judgerank.server.service import ServerConfig
    from judgerank.strategies.registry import DEFAULT_RERANK_METHOD, Options

    Options(prompt=prompt, rubric=rubric).templates()  # a bad file fails now, naming what is wrong

    keys = {k.strip() for k in os.environ.get("JUDGERANK_API_KEYS", "").split(",") if k.strip()}
    if api_keys_file is not None:
        try:
            keys |= {line.strip() for line in api_keys_file.read_text().splitlines() if line.strip()}
        except OSError as exc:
            raise JudgerankError(f"{api_keys_file}: cannot read ({exc.strerror})") from exc
    return ServerConfig(
        model=model,
        models=tuple(m.strip() for m in models.split(",") if m.strip()),
        method=method or DEFAULT_RERANK_METHOD,
        api_keys=frozenset(keys),
        max_documents=max_documents,
        max_document_chars=max_document_chars,
        max_calls=max_calls,
        store=store_spec(store, no_store),
        base_url=base_url,
        concurrency=concurrency,
        prompt=prompt,
        rubric=rubric,
        **more,
    )


def _log_config() -> dict[str, Any]:
    """uvicorn's logging with an access line per request (client, method, path, status; never a
    header, so no API key) and only warnings from the server itself (the lines above say it started)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["uvicorn.error"]["level"] = "WARNING"
    config["loggers"]["uvicorn.access"]["level"] = "INFO"
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"  # stdout is for results; logs go with the notes
    return config


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=0, max=65535)] = 8000,
    model: ServeModel = None,
    models: ServeModels = "",
    method: ServeMethod = None,
    api_keys_file: ApiKeysFile = None,
    max_documents: MaxDocuments = 1000,
    max_document_chars: MaxDocumentChars = 20_000,
    max_in_flight: Annotated[int, typer.Option(help="Most requests in flight; more get 429.", min=1)] = 64,
    max_in_flight_per_key: Annotated[int | None, typer.Option(
        help="With API keys: most requests in flight for one key, so no client holds every slot (default: half of "
        "--max-in-flight).", min=1)] = None,
    max_body_bytes: Annotated[int, typer.Option(help="Largest request body in bytes; a larger one gets 413.",
                                                min=1)] = 4_000_000,
    body_timeout: Annotated[float, typer.Option(help="Seconds a request body may take to arrive; then 408.",
                                                min=0.1)] = 30.0,
    max_body_buffer: Annotated[int | None, typer.Option(
        help="Bytes of request bodies held at once, all requests together (one API key: half); past it 503 with "
        "Retry-After (default: 16 x --max-body-bytes).", min=1)] = None,
    header_timeout: Annotated[float, typer.Option(help="Seconds a request's headers may take to arrive; then the "
                                                  "connection is closed.", min=0.1)] = 10.0,
    max_connections: Annotated[int, typer.Option(help="Connections held at once; past them new requests get 503.",
                                                 min=1)] = 1000,
    concurrency: Concurrency = 8,
    max_calls: MaxCalls = 2000,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
    base_url: ServeBaseUrl = None,
    prompt: ServePrompt = None,
    rubric: ServeRubric = None,
) -> None:
    """Serve /v1/rerank (Cohere/Jina shape; also /v2/rerank and /rerank), /v1/judge, /v1/arena,
    /healthz and /metrics over HTTP."""
    try:
        import uvicorn

        from judgerank.server.app import create_app
        from judgerank.server.connections import uvicorn_options
    except ImportError as exc:
        raise needs_extra("judgerank serve", "server", hint=str(exc)) from None
    config = _server_config(model, models, method, api_keys_file, max_documents, max_document_chars, max_calls, store,
                            no_store, base_url, concurrency, prompt, rubric, max_in_flight=max_in_flight,
                            max_in_flight_per_key=max_in_flight_per_key, max_body_bytes=max_body_bytes,
                            body_timeout=body_timeout, header_timeout=header_timeout, max_connections=max_connections,
                            max_body_buffer=max_body_buffer)
    _check_port(host, port)
    err.print(f"loading the models of {config.method} before serving …", highlight=False)
    application = create_app(config)  # checks every model and loads the default method's before the port is taken
    err.print(f"judgerank serving on http://{host}:{port} ({'API keys required' if config.api_keys else 'no API keys'})")
    uvicorn.run(application, host=host, port=port, log_config=_log_config(),
                **uvicorn_options(config.header_timeout, config.max_connections))


@app.command()
def mcp(
    transport: Annotated[str, typer.Option(help="stdio (an agent starts this command) or http (streamable HTTP at /mcp).")
                         ] = "stdio",
    host: Annotated[str, typer.Option(help="With --transport http: address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="With --transport http: port.", min=0, max=65535)] = 8001,
    model: ServeModel = None,
    models: ServeModels = "",
    method: ServeMethod = None,
    api_keys_file: ApiKeysFile = None,
    max_documents: MaxDocuments = 1000,
    max_document_chars: MaxDocumentChars = 20_000,
    concurrency: Concurrency = 8,
    max_calls: MaxCalls = 2000,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
    base_url: ServeBaseUrl = None,
    prompt: ServePrompt = None,
    rubric: ServeRubric = None,
) -> None:
    """Serve the tools rerank, judge and arena to agents over the Model Context Protocol.

    The tools take the HTTP service's request bodies; limits and API keys are as for serve."""
    if transport not in ("stdio", "http"):
        raise JudgerankError(f"--transport must be one of stdio, http, not {transport!r}")
    from judgerank.adapters.compat import require

    require("mcp")  # one line naming the extra, not an import traceback
    from judgerank.server import mcp as mcp_server

    config = _server_config(model, models, method, api_keys_file, max_documents, max_document_chars, max_calls, store,
                            no_store, base_url, concurrency, prompt, rubric)
    if transport == "stdio":
        import anyio

        anyio.run(mcp_server.serve_stdio, config)  # stdout is the protocol's: nothing else is printed there
        return
    try:
        import uvicorn
    except ImportError as exc:
        raise needs_extra("judgerank mcp --transport http", "server", hint=str(exc)) from None
    _check_port(host, port)
    err.print(f"loading the models of {config.method} before serving …", highlight=False)
    application, service = mcp_server.http_app(config, host)  # checks and loads the models before the port is taken
    err.print(f"judgerank MCP on http://{host}:{port}/mcp ({'API keys required' if config.api_keys else 'no API keys'})")
    try:
        uvicorn.run(application, host=host, port=port, log_config=_log_config())
    finally:
        service.close()


def _check_port(host: str, port: int) -> None:
    """One line, not uvicorn's traceback, when the address is taken or cannot be had."""
    import socket

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise JudgerankError(
            f"cannot listen on {host}:{port} ({exc.strerror}): another program may use it; choose another --port"
        ) from None
