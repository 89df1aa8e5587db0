"""Defences against text that tries to steer the ranker that reads it.

Passages and responses are untrusted: they go into prompts, and a model that follows
instructions may follow theirs. Four layers, each switchable:

- `neutral`: chat-template markers in untrusted text are rewritten so that no backend (llama.cpp
  in process, an OpenAI-compatible server) can read them as control tokens;
- `detect`: text addressed to the ranker (instructions, forged answers, template markers, the
  query's words stuffed in) is flagged before any model reads it;
- `support`: what the LLM lifts from the bottom of both the input order and the embedding's into
  its top half is flagged whatever the text says (the words an attack uses can be new; its effect
  cannot);
- `policy`: what a flag does to the ranking (flag only, demote below the unflagged, drop).

Flags travel with the Ranking (`Ranking.flags`), and each code is explained in one line
(`FLAG_HELP`).
"""

from judgerank.guard.detect import FLAG_HELP, detect, detect_items
from judgerank.guard.neutral import neutralise
from judgerank.guard.policy import GUARD_POLICIES, apply_policy, guarded, guarded_verdict

__all__ = ["FLAG_HELP", "GUARD_POLICIES", "apply_policy", "detect", "detect_items", "guarded", "guarded_verdict",
           "neutralise"]
