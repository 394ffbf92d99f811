"""TransferPipeline: libtl's transfer protocol (tl_transfer_run) as one scikit-learn estimator.

fit(Xs, ys, Xt) runs what ``tl adapt`` / ``tl weight`` run: preprocess every domain -> score the
no-transfer baselines -> fit the method -> map or weight -> train the learner -> score the target
rows (when their labels are given) -> the negative-transfer guard; ``report_`` holds the report
(the documented JSON of docs/report.md as a dict). The fitted pipeline predicts new rows of any
domain and saves to the same .tlm file as ``tl adapt --save-model`` (``tl predict`` reads what
``save`` writes, ``load`` reads what the command writes)."""
import json
import os

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import column_or_1d
from sklearn.utils.multiclass import check_classification_targets

from . import _tl
from . import (NotFittedError, _Handle, _domain, _dom, _encode, _labels_for, _n_cols, _n_rows,
               _rows, _seed, _text, _threads, _vec)


class TransferPipeline(ClassifierMixin, BaseEstimator):
    """Preprocessing -> a libtl method -> a libtl learner, fitted by libtl's protocol.

    Parameters
    ----------
    method : str or None, default="jda"
        a registry name ("coral", "jda", "kmm", ...; ``libtl.methods()``); None: the learner
        alone (the no-transfer baseline)
    learner : str, default="1nn"
        a learner-family registry name ("1nn", "knn", "logreg", "svm", "ridge")
    preprocess : str, default="none"
        scaling steps, e.g. "rowsum,zscore,l2" (as ``tl --preprocess``)
    preprocess_on_source : bool, default=False
        fit the scaling on the source and apply it to every domain (default: per domain)
    method_params, learner_params : dict or None
        the method's / learner's parameters by libtl name ({"dim": 30, "kernel": "linear"})
    guard : bool, default=True
        run the negative-transfer guard
    task : "classification" or "regression", default="classification"
        regression: y (and yt) are real-valued targets; learners ridge or knn; predict gives
        values, score R^2, report_ RMSE / MAE / R^2
    random_state : int, RandomState or None (libtl's seed; None: 42)
    n_jobs : int or None (libtl's threads)
    """

    def __init__(self, method="jda", learner="1nn", preprocess="none",
                 preprocess_on_source=False, method_params=None, learner_params=None,
                 guard=True, task="classification", random_state=None, n_jobs=None):
        self.method = method
        self.learner = learner
        self.preprocess = preprocess
        self.preprocess_on_source = preprocess_on_source
        self.method_params = method_params
        self.learner_params = learner_params
        self.guard = guard
        self.task = task
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, y, Xt=None, yt=None, Xt_labelled=None, yt_labelled=None,
            sample_weight=None):
        """X, y: source rows and labels (numbers, or strings: saved as class names);
        Xt: target rows; yt: their labels, only to score the run (report_); Xt_labelled,
        yt_labelled: a few labelled target rows the run trains on."""
        Xs = _rows(X, "X")
        y = column_or_1d(y, warn=True)
        if len(y) != _n_rows(Xs):
            raise ValueError(f"Found input variables with inconsistent numbers of samples: "
                             f"[{_n_rows(Xs)}, {len(y)}]")
        if self.task not in ("classification", "regression"):
            raise ValueError(f"task must be 'classification' or 'regression', got {self.task!r}")
        if self.task == "regression":
            return self._fit_regression(Xs, y, Xt, yt, sample_weight)
        if y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            y = y.astype(np.int64)  # whole numbers read as floats (scipy.io.loadmat): classes
            yt = None if yt is None else np.asarray(yt).astype(np.int64)
            yt_labelled = None if yt_labelled is None else \
                np.asarray(yt_labelled).astype(np.int64)
        check_classification_targets(y)
        if y.dtype.kind in "iub":
            classes = np.unique(y)
            names = None
            code = lambda v: np.ascontiguousarray(np.asarray(v).ravel(), dtype=np.int32)  # noqa
            ys = code(y)
            if not np.array_equal(ys, y):
                raise ValueError("integer labels must fit in 32 bits")
        else:
            classes, ys = _encode(y, "y")
            names = [str(c) for c in classes]
            code = lambda v: _labels_for(classes, v)  # noqa: E731
        doms = [_dom(0, "python:source", Xs, ys, names=names,
                     weights=_vec(sample_weight, _n_rows(Xs), "sample_weight"))]
        if Xt is not None:
            Xt = _rows(Xt, "Xt")
            lab = None
            if Xt_labelled is not None:
                lab = (_rows(Xt_labelled, "Xt_labelled"), code(yt_labelled))
            doms.append(_dom(1, "python:target", Xt, code(yt) if yt is not None else None,
                             names=names, labelled=lab))
        return self._run(doms, Xs)

    def _fit_regression(self, Xs, y, Xt, yt, sample_weight):
        t = lambda v: np.ascontiguousarray(np.asarray(v, dtype=np.float64).ravel())  # noqa
        doms = [_dom(0, "python:source", Xs, targets=t(y),
                     weights=_vec(sample_weight, _n_rows(Xs), "sample_weight"))]
        if Xt is not None:
            Xt = _rows(Xt, "Xt")
            doms.append(_dom(1, "python:target", Xt, targets=t(yt) if yt is not None else None))
        return self._run(doms, Xs)

    def _run(self, doms, Xs):
        mp = {k: _text(v) for k, v in (self.method_params or {}).items()}
        lp = {k: _text(v) for k, v in (self.learner_params or {}).items()}
        js, cap = _tl.transfer_run(doms, self.method, mp, self.learner, lp, self.preprocess,
                                   bool(self.preprocess_on_source), bool(self.guard),
                                   _seed(self.random_state), _threads(self.n_jobs))
        self.report_ = json.loads(js)
        self.pipeline_ = _Handle(cap, "pipeline")
        self.n_features_in_ = _n_cols(Xs)
        self._about()
        return self

    def _about(self):
        method, n, dims, cls, names, reg = _tl.pipeline_about(self.pipeline_.cap)
        self.n_domains_ = n
        self.input_dims_ = dims
        self.regression_ = reg
        self._names = names
        if names is not None:
            self.classes_ = np.asarray(names)
        elif cls is not None:
            self.classes_ = np.asarray(cls)

    def _check_fitted(self):
        if getattr(self, "pipeline_", None) is None:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator.")

    def predict(self, X, domain="target"):
        """Labels of new raw rows of `domain` ("target", "source" or an index)."""
        self._check_fitted()
        X = _rows(X)
        d = _domain(domain, self.n_domains_)
        if self.regression_:
            out = np.empty(_n_rows(X), dtype=np.float64)
            _tl.pipeline_predict(self.pipeline_.cap, d, X, out)
            return out
        out = np.empty(_n_rows(X), dtype=np.int32)
        _tl.pipeline_predict(self.pipeline_.cap, d, X, out)
        if self._names is not None:
            return np.asarray(self._names)[out]
        return out

    def predict_proba(self, X, domain="target"):
        """Class scores (n, classes) in the order of classes_ (probabilities for logreg)."""
        self._check_fitted()
        buf, r, c = _tl.pipeline_scores(self.pipeline_.cap, _domain(domain, self.n_domains_),
                                        _rows(X))
        return np.frombuffer(buf, dtype=np.float64).reshape(r, c).copy()

    def transform(self, X, domain="target"):
        """New raw rows of `domain` scaled and mapped into the shared space."""
        self._check_fitted()
        buf, r, c = _tl.pipeline_transform(self.pipeline_.cap, _domain(domain, self.n_domains_),
                                           _rows(X))
        return np.frombuffer(buf, dtype=np.float64).reshape(r, c).copy()

    def score(self, X, y, domain="target", sample_weight=None):
        """Accuracy on rows of `domain` (R^2 for regression targets)."""
        if getattr(self, "regression_", False):
            from sklearn.metrics import r2_score
            return r2_score(y, self.predict(X, domain), sample_weight=sample_weight)
        from sklearn.metrics import accuracy_score
        return accuracy_score(y, self.predict(X, domain), sample_weight=sample_weight)

    def save(self, path):
        """Writes the fitted pipeline to a .tlm file (``tl predict --model`` reads it)."""
        self._check_fitted()
        _tl.pipeline_save(self.pipeline_.cap, os.fspath(path))

    @classmethod
    def load(cls, path):
        """A fitted TransferPipeline out of a .tlm file written by ``save`` or by ``tl adapt
        --save-model``."""
        cap = _tl.pipeline_load(os.fspath(path))
        method = _tl.pipeline_about(cap)[0]
        est = cls(method=method)
        est.pipeline_ = _Handle(cap, "pipeline")
        est._about()
        return est
