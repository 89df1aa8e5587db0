"""Pooling judges without gold labels: Dawid and Skene's (1979) latent-class model, fitted by EM.

Each item has an unknown true class; each judge reports a class through its own confusion matrix
(P(reported | true)). EM alternates the posterior of each item's class given the reports with the
class priors and confusion matrices given the posteriors, starting from the majority vote. A judge
that agrees with the others where they agree earns a sharper confusion matrix and so more say;
one that answers at random, or always the same, earns almost none. Missing reports (a judge that
failed on an item) are left out of that item's likelihood.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SMOOTHING = 0.01  # pseudo-counts in every confusion cell: no report is ever impossible


@dataclass
class DawidSkene:
    posterior: np.ndarray  # items x classes
    confusion: np.ndarray  # judges x true class x reported class
    prior: np.ndarray  # classes
    iterations: int

    @property
    def labels(self) -> np.ndarray:
        return self.posterior.argmax(axis=1)

    @property
    def judge_accuracy(self) -> np.ndarray:
        """Each judge's estimated accuracy: sum over classes of prior x P(reports it | true)."""
        return np.einsum("c,jcc->j", self.prior, self.confusion)


def dawid_skene(reports: np.ndarray, n_classes: int, max_iter: int = 200, tol: float = 1e-8) -> DawidSkene:
    """reports: items x judges of class indices, -1 where a judge gave none."""
    reports = np.asarray(reports, dtype=int)
    items, judges = reports.shape
    onehot = np.zeros((items, judges, n_classes))
    seen = reports >= 0
    onehot[np.nonzero(seen) + (reports[seen],)] = 1.0
    votes = onehot.sum(axis=1) + 1e-9
    posterior = votes / votes.sum(axis=1, keepdims=True)  # the (soft) majority vote
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        prior = (posterior.sum(axis=0) + SMOOTHING) / (items + n_classes * SMOOTHING)
        confusion = np.einsum("ic,ijk->jck", posterior, onehot) + SMOOTHING
        confusion /= confusion.sum(axis=2, keepdims=True)
        log_post = np.log(prior)[None, :] + np.einsum("ijk,jck->ic", onehot, np.log(confusion))
        log_post -= log_post.max(axis=1, keepdims=True)
        new = np.exp(log_post)
        new /= new.sum(axis=1, keepdims=True)
        change = np.abs(new - posterior).max()
        posterior = new
        if change < tol:
            break
    return DawidSkene(posterior, confusion, prior, iterations)
