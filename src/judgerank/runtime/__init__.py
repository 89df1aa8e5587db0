"""The runtime: models built from specs and held once, the judgment store, and each job's judges.

Runtime (runtime.py) is what every entry point starts from; ModelSpec and build_backend
(specs.py) are the one place a backend is made.
"""

from judgerank.runtime.runtime import EMBEDDING, HeldModel, Runtime, RuntimeUser
from judgerank.runtime.specs import ModelSpec, build_backend, simulated_judge

__all__ = ["EMBEDDING", "HeldModel", "ModelSpec", "Runtime", "RuntimeUser", "build_backend", "simulated_judge"]
