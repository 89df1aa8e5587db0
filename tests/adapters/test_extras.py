"""Each framework extra installs what its documented example imports (issue 37: the LangChain
example imported langchain_classic, which `pip install "judgerank[langchain]"` did not install)."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
EXTRAS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
ADAPTERS = {"langchain": "LangChain", "llamaindex": "LlamaIndex", "haystack": "Haystack", "pyterrier": "PyTerrier"}


def _example_imports(framework: str) -> set[str]:
    """The top-level modules the documented example of a framework imports: the lines of a python
    block under its `# Framework:` comment, up to the next blank line."""
    found: set[str] = set()
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for block in re.findall(r"```python\n(.*?)```", page.read_text(), re.S):
            for part in re.split(r"\n\s*\n", block):
                if part.lstrip().startswith(f"# {framework}"):
                    found |= {m.split(".")[0] for m in re.findall(r"^(?:from|import) ([\w.]+)", part, re.M)}
    return found


@pytest.mark.parametrize("extra", sorted(ADAPTERS))
def test_an_adapters_extra_installs_what_its_example_imports(extra: str) -> None:
    imported = _example_imports(ADAPTERS[extra]) - {"judgerank"}
    assert imported or extra != "langchain", "the LangChain example is documented"
    installed = {Requirement(r).name.lower().replace("_", "-") for r in EXTRAS[extra]}
    providers = packages_distributions()
    for module in imported:
        dists = {d.lower().replace("_", "-") for d in providers.get(module, [])}
        assert dists & installed, f"the {extra} example imports {module}, which [{extra}] does not install"
