"""The bottom layer every other part stands on: records (types), costs and budgets, errors, and
cancellation. Nothing here imports another part of judgerank or calls a model."""
