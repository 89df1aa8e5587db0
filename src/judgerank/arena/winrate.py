"""Win rates against a baseline, raw and length-controlled (AlpacaEval 2's GLM).

For each model, every instruction gives a preference y in [0, 1]: the probability (or the share
of votes) that the judge preferred the model's output to the baseline's; a draw is 0.5. The raw
win rate is the mean of y. The length-controlled (LC) win rate asks what the judge would have
said had the two outputs been equally long: a logistic GLM per model,

    logit P(model preferred) = a * tanh(delta_len / sd) + b * difficulty + c * not_gamed

fitted with an L1 penalty whose strength is chosen by 5-fold cross-validation over instructions
(scikit-learn's liblinear, AlpacaEval's `length_controlled_v1`), then averaged over the
instructions with delta_len set to 0. delta_len is the baseline's output length in characters
minus the model's, sd its standard deviation over the model's instructions (ddof 1).

AlpacaEval ships two tables that it downloads: each instruction's difficulty, and judgments of
the baseline against verbose and concise versions of itself ("gamed" rows, not_gamed = 0, given
weight lambda/2 each), which pull every model's length slope towards the baseline's. Offline,
judgerank takes them from files when given; without them difficulty is estimated from the
annotations themselves (the centred logit of the mean preference over all models, smoothed by
one virtual draw), and without gamed rows the GLM is AlpacaEval's `length_controlled_noreg`.
With the same inputs the figures equal alpaca_eval's `get_length_controlled_winrate` (tested).

scikit-learn is needed (the [stats] extra); it is imported on first use.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit

from judgerank.core.errors import JudgerankError, needs_extra

CV_SPLITS = 5
N_CS = 10  # inverse penalties tried: scikit-learn's default grid, 10 values from 1e-4 to 1e4
GAMED_WEIGHT = 0.2  # AlpacaEval's regularize_to_baseline_lambda


@dataclass(frozen=True)
class Judged:
    """One instruction judged between a model's output and the baseline's."""

    model: str
    instruction: str
    preference: float  # P(model preferred) in [0, 1]; 0.5 a draw
    model_length: int  # characters
    baseline_length: int


@dataclass(frozen=True)
class Gamed:
    """AlpacaEval's gamed-baseline rows: the baseline against a verbose or concise self."""

    instruction: str
    preference: float
    std_delta_len: float


@dataclass
class WinRate:
    model: str
    n: int
    win_rate: float  # percent
    standard_error: float
    lc_win_rate: float  # percent; the baseline's own is 50
    lc_standard_error: float
    length_coefficient: float  # a: how much a longer output (than the baseline's) sways the judge

    def as_dict(self) -> dict:
        return dict(vars(self))


def estimated_difficulty(rows: Sequence[Judged]) -> dict[str, float]:
    """Per instruction: the centred logit of how often models beat the baseline on it, negated
    (harder = higher), with one virtual draw so that unanimous instructions stay finite."""
    sums: dict[str, list[float]] = {}
    for r in rows:
        sums.setdefault(r.instruction, [0.5, 1.0])
        sums[r.instruction][0] += r.preference
        sums[r.instruction][1] += 1.0
    keys = sorted(sums)
    values = -logit(np.array([sums[k][0] / sums[k][1] for k in keys]))
    return dict(zip(keys, values - values.mean()))


def length_controlled_win_rates(
    rows: Sequence[Judged],
    baseline: str,
    difficulty: dict[str, float] | None = None,
    gamed: Sequence[Gamed] = (),
) -> list[WinRate]:
    """Raw and LC win rates of every model in `rows` against `baseline`, best LC first."""
    if not rows:
        raise JudgerankError("no judged instructions to compute win rates from")
    models = sorted({r.model for r in rows})
    if difficulty is None:
        difficulty = estimated_difficulty([r for r in rows if r.model != baseline])
    missing = sorted({r.instruction for r in rows if r.instruction not in difficulty} |
                     {g.instruction for g in gamed if g.instruction not in difficulty})
    if missing:
        raise JudgerankError(f"no instruction difficulty for {len(missing)} instruction(s), e.g. {missing[0]!r}")
    out = [_one_model(m, [r for r in rows if r.model == m], baseline, difficulty, gamed) for m in models]
    return sorted(out, key=lambda w: (-w.lc_win_rate, w.model))


def _one_model(model: str, rows: list[Judged], baseline: str, difficulty: dict[str, float], gamed) -> WinRate:
    y = np.array([r.preference for r in rows], dtype=float)
    raw, raw_se = 100 * y.mean(), 100 * _sem(y)
    if model == baseline:  # by construction
        return WinRate(model, len(rows), raw, raw_se, 50.0, 0.0, 0.0)
    delta = np.array([r.baseline_length - r.model_length for r in rows], dtype=float)
    sd = delta.std(ddof=1) if len(rows) > 1 else 0.0
    if not sd > 0:
        raise JudgerankError(
            f"{model}: its outputs and the baseline's differ in length by the same amount on every instruction, "
            "so length cannot be separated from quality; give more instructions"
        )
    hard = np.array([difficulty[r.instruction] for r in rows])
    x = np.column_stack([np.tanh(delta / sd), hard, np.ones(len(rows))])
    weights = np.ones(len(rows))
    if gamed:
        xg = np.column_stack([np.tanh([g.std_delta_len for g in gamed]), [difficulty[g.instruction] for g in gamed],
                              np.zeros(len(gamed))])
        x = np.vstack([xg, x])
        y = np.r_[[g.preference for g in gamed], y]
        weights = np.r_[np.full(len(gamed), GAMED_WEIGHT / 2), weights]
    coef = _fit_l1_logistic_cv(x, y, weights if gamed else None)
    predicted = expit(coef[1] * hard + coef[2])  # tanh(0) = 0: equal lengths
    return WinRate(model, len(rows), raw, raw_se, 100 * predicted.mean(), 100 * _sem(predicted), float(coef[0]))


def _fit_l1_logistic_cv(x: np.ndarray, p: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """L1 logistic regression on soft labels p, without intercept; the penalty by grouped CV.

    A soft label is two rows, y = 1 with weight p and y = 0 with weight 1 - p (times the row's
    weight), kept in the same fold. scikit-learn's LogisticRegressionCV picks C from its default
    grid by the held-out log-loss against p (weighted by the rows' weights, not by p) and refits
    on everything; liblinear's coordinate order comes from random_state, so the same call on the
    same rows gives the same coefficients as AlpacaEval's."""
    try:
        import sklearn
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegressionCV
        from sklearn.metrics import make_scorer
        from sklearn.model_selection import GroupKFold
    except ImportError:
        raise needs_extra("length-controlled win rates (scikit-learn)", "stats") from None
    n = len(p)
    if n < CV_SPLITS:
        raise JudgerankError(f"length control needs at least {CV_SPLITS} judged instructions per model, not {n}")
    base = np.ones(n) if weights is None else weights
    xx, yy = np.vstack([x, x]), np.r_[np.ones(n), np.zeros(n)]
    soft = np.r_[p, 1.0 - p]  # the probability of each row's own label
    row_weight = None if weights is None else np.r_[base, base]
    # liblinear warns that the grid's extreme penalties did not converge; AlpacaEval's identical fit
    # does too, and the chosen fit is the same: a user should not read it as a failure
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scorer = make_scorer(
            _soft_log_loss, response_method="predict_proba", greater_is_better=False
        ).set_score_request(soft=True, row_weight=True)
        model = LogisticRegressionCV(
            Cs=N_CS, l1_ratios=(1.0,), cv=GroupKFold(n_splits=CV_SPLITS), scoring=scorer, solver="liblinear",
            fit_intercept=False, random_state=123, use_legacy_attributes=False,
        )
        model.set_fit_request(sample_weight=True)
        model.fit(xx, yy, sample_weight=soft * np.r_[base, base], groups=np.r_[np.arange(n), np.arange(n)],
                  soft=soft, row_weight=row_weight)
    return np.asarray(model.coef_).reshape(-1)


def _soft_log_loss(y: np.ndarray, q: np.ndarray, soft: np.ndarray, row_weight: np.ndarray | None = None) -> float:
    """Mean log-loss of predictions q against the soft target P(y = 1) that each row stands for."""
    target = np.where(y == 1, soft, 1.0 - soft)
    q = np.clip(q, 1e-15, 1 - 1e-15)
    loss = target * np.log(q) + (1 - target) * np.log(1 - q)
    return float(-np.mean(loss if row_weight is None else loss * row_weight))


def _sem(values: np.ndarray) -> float:
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0
