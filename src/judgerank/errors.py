"""The one error type users see.

Every user-facing failure is a JudgerankError whose message names the input and what was wrong;
the CLI prints it as one line and exits non-zero.
"""


class JudgerankError(Exception):
    """A problem with the user's input, model or configuration."""


class BudgetExhausted(JudgerankError):
    """The Budget of calls or tokens is spent; strategies catch it and return a partial ranking."""


class BackendError(JudgerankError):
    """A model server failed (refused, timed out, errors) after every retry: not the input's fault."""
