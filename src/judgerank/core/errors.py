"""The error types users see.

Every user-facing failure is a JudgerankError whose message names the input and what was wrong;
the CLI prints it as one line and exits non-zero, the server maps it to a status by its cause.
"""

from __future__ import annotations

import importlib.util


def shown(value: object, limit: int = 60) -> str:
    """A piece of input quoted in an error message, cut so that garbage cannot flood a terminal."""
    text = value.strip() if isinstance(value, str) else repr(value)
    cut = text if len(text) <= limit else text[:limit] + "..."
    return repr(cut) if isinstance(value, str) else cut


class JudgerankError(Exception):
    """A problem with the user's input, model or configuration."""


class BackendError(JudgerankError):
    """A model server failed (refused, timed out, errors) after every retry: not the input's fault.

    `status` is the HTTP status a gateway answers with: 504 for a timeout, 503 for a server that
    cannot be reached, 502 for a bad or failed reply.
    """

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.status = status


class NoLogprobs(BackendError):
    """A model server gives no log-probabilities (a reply without them, or a request for them
    refused): with verdicts "auto" the judges ask for verdicts in words from then on."""


class StoreError(JudgerankError):
    """The judgment store cannot be opened, read or written; the message names the file."""


class Cancelled(JudgerankError):
    """The caller stopped waiting; the work stopped before its next model call."""


def needs_extra(what: str, extra: str, modules: tuple[str, ...] = (), *, hint: str = "") -> JudgerankError:
    """The one-line error for a feature whose optional dependencies are missing: what needs them
    and the pip command that installs them. `modules` names the missing ones where known."""
    missing = f" ({', '.join(modules)} missing)" if modules else ""
    return JudgerankError(f"{what} needs the [{extra}] extra{missing}: pip install 'judgerank[{extra}]'"
                          + (f" ({hint})" if hint else ""))


def require_modules(what: str, extra: str, *modules: str, hint: str = "") -> None:
    """Fail with needs_extra unless every module can be imported (found without importing it)."""
    missing = tuple(m for m in modules if importlib.util.find_spec(m) is None)
    if missing:
        raise needs_extra(what, extra, missing, hint=hint)
