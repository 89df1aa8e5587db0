"""Which framework versions each adapter was written for, and a check that the installed one
still has the interface the adapter calls.

Frameworks move modules and rename parameters between releases (RankLLM's LangChain adapter broke
that way). Importing an adapter runs `require`: a missing framework or a changed interface is one
JudgerankError naming the package, the installed version and the supported range; a version
outside the range that still has the interface only warns.
"""

from __future__ import annotations

import importlib
import inspect
import warnings
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from judgerank.core.errors import JudgerankError


@dataclass(frozen=True)
class Interface:
    """A method the adapter overrides or calls: `module:Class.method` and its parameter names."""

    target: str
    params: tuple[str, ...]


@dataclass(frozen=True)
class Framework:
    name: str
    distribution: str  # the PyPI package whose version is checked
    supported: str  # the version range the adapter was written and tested for (pyproject's extra pins it)
    extra: str  # pip install "judgerank[extra]"
    interfaces: tuple[Interface, ...]


FRAMEWORKS = {
    "langchain": Framework(
        "LangChain", "langchain-core", ">=1.0,<2", "langchain",
        (Interface("langchain_core.documents:BaseDocumentCompressor.compress_documents", ("documents", "query", "callbacks")),
         Interface("langchain_core.documents:BaseDocumentCompressor.acompress_documents",
                   ("documents", "query", "callbacks")),
         Interface("langchain_core.documents:Document.__init__", ("page_content",))),
    ),
    "llamaindex": Framework(
        "LlamaIndex", "llama-index-core", ">=0.12,<0.15", "llamaindex",
        (Interface("llama_index.core.postprocessor.types:BaseNodePostprocessor._postprocess_nodes",
                   ("nodes", "query_bundle")),
         Interface("llama_index.core.postprocessor.types:BaseNodePostprocessor.postprocess_nodes",
                   ("nodes", "query_bundle", "query_str")),),
    ),
    "haystack": Framework(
        "Haystack", "haystack-ai", ">=2.9,<4", "haystack",
        (Interface("haystack:component", ()), Interface("haystack:Document.__init__", ("content", "meta", "score"))),
    ),
    "pyterrier": Framework(
        "PyTerrier", "python-terrier", ">=1.0,<2", "pyterrier",
        (Interface("pyterrier:Transformer.transform", ("inp",)), Interface("pyterrier:Experiment", ("retr_systems",)),),
    ),
    "mcp": Framework(
        "MCP", "mcp", ">=2.2,<3", "mcp",
        (Interface("mcp.server.lowlevel:Server.__init__", ("name", "on_list_tools", "on_call_tool")),
         Interface("mcp.server.lowlevel:Server.run", ("read_stream", "write_stream", "initialization_options")),
         Interface("mcp.server.lowlevel:Server.streamable_http_app", ("streamable_http_path", "json_response"))),
    ),
}


def resolve(target: str) -> object:
    """The object `module:attr.attr` names."""
    module_name, _, path = target.partition(":")
    obj: object = importlib.import_module(module_name)
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def interface_problem(interface: Interface) -> str | None:
    """What is missing from `interface` in the installed framework, or None."""
    try:
        obj = resolve(interface.target)
    except (ImportError, AttributeError) as exc:
        return f"{interface.target} is gone ({exc})"
    if not interface.params:
        return None
    try:
        params = inspect.signature(obj).parameters  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None  # a builtin without a signature: nothing to compare
    missing = [p for p in interface.params if p not in params]
    if missing:
        return f"{interface.target} no longer takes {', '.join(missing)} (it takes {', '.join(params)})"
    return None


def require(key: str) -> str:
    """Check that the framework is installed with the interface the adapter uses; its version."""
    fw = FRAMEWORKS[key]
    try:
        installed = version(fw.distribution)
    except PackageNotFoundError:
        raise JudgerankError(
            f"the {fw.name} adapter needs {fw.distribution}{fw.supported}: pip install \"judgerank[{fw.extra}]\""
        ) from None
    problems = [p for p in map(interface_problem, fw.interfaces) if p]
    if problems:
        raise JudgerankError(
            f"{fw.distribution} {installed} changed what judgerank's {fw.name} adapter uses: {problems[0]}; "
            f"the adapter supports {fw.distribution}{fw.supported} (pip install \"{fw.distribution}{fw.supported}\")"
        )
    from packaging.specifiers import SpecifierSet  # in every adapter extra; after the check above, so a
    from packaging.version import Version  # missing framework is reported as such

    if Version(installed) not in SpecifierSet(fw.supported):
        warnings.warn(
            f"{fw.distribution} {installed} is outside the range judgerank's {fw.name} adapter was tested with "
            f"({fw.supported}); its interface checks passed",
            stacklevel=3,
        )
    return installed
