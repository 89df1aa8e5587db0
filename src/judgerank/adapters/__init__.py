"""judgerank inside other frameworks' pipelines: each adapter is one module and one extra.

    judgerank.adapters.langchain    JudgerankCompressor, a LangChain document compressor
    judgerank.adapters.llamaindex   JudgerankPostprocessor, a LlamaIndex node postprocessor
    judgerank.adapters.haystack     JudgerankRanker, a Haystack component
    judgerank.adapters.pyterrier    JudgerankReranker, a PyTerrier transformer
    judgerank.server.mcp            the MCP server (`judgerank mcp`)

Each turns the framework's documents into one judgerank request per query through the public
API (a Reranker, core.place), so the judgment store, budgets and costs work as they do everywhere else,
and maps the ranking back. Nothing here is imported by `import judgerank`; importing an adapter
checks that the installed framework has the interface it was written for (compat.py).
"""
