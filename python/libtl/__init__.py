"""libtl: transfer learning at C speed, as scikit-learn estimators.

The estimator classes are generated at import time from libtl's method registry (the same
descriptors that drive ``tl help`` and the command's options), so a method added to the C
registry appears here with no Python code:

* feature mappings (``PCA``, ``CORAL``, ``SA``, ``GFK``, ``TCA``, ``JDA``, ``BDA``, ...) are
  transformers: ``fit(Xs, ys, Xt)``, ``transform(X, domain="target")``; ``fit_transform`` maps
  the source, so ``Pipeline([..., CORAL(), LogisticRegression()])`` trains on the mapped source
  (``pipe.fit(Xs, ys, coral__Xt=Xt)``) and predicts mapped target rows;
* instance weightings (``KMM``, ``KLIEP``, ``ULSIF``, ``DOMAIN_CLF``, ``RULSIF``): ``fit(Xs, ys,
  Xt)`` sets ``weights_``; ``compute_weights(X)`` weights new source rows where the method can;
* the learners (``NN1``, ``KNN``, ``LOGREG``, ``SVM``, ``RIDGE``) and ensembles
  (``TRADABOOST``) are classifiers: ``predict``, ``predict_proba``, ``score``;
* ``TransferPipeline`` runs libtl's whole protocol (preprocess -> method -> learner, with the
  baselines and the guard: ``report_``) and saves / loads the same ``.tlm`` files as ``tl``.

Constructor keywords are the registry's parameters ('-' written '_'; a Python keyword such as
``lambda`` gets a ``_param`` suffix: ``lambda_param``), plus ``random_state`` (libtl's seed; None:
libtl's default 42) and ``n_jobs`` (libtl's threads; None: as configured). Values are checked by
libtl at ``fit``; its message comes back as :class:`LibtlError` (a ``ValueError``).

float64 C-contiguous arrays reach the library without a copy: a fit reads their rows where they
are (libtl scales a copy when the protocol preprocesses), and so do transform, predict, scores
and the weights of new rows. scipy sparse matrices are passed as CSR (copied). The GIL is
released during every C call, and Ctrl-C during a long fit raises KeyboardInterrupt (libtl stops
between its rounds; the exception's note says where).
"""
import json
import keyword
import os
import tempfile

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_array, column_or_1d
from sklearn.utils.multiclass import check_classification_targets

from . import _tl
from ._tl import LibtlError

__all__ = ["LibtlError", "Network", "TransferPipeline", "methods", "estimator", "version", "mmd",
           "coral_distance", "a_distance", "guard"]

ROLES = {"source": 0, "target": 1, "intermediate": 2}


def version():
    """libtl's version string."""
    return _tl.version()


# ---------------------------------------------------------------- arrays


def _rows(X, what="X"):
    """X as libtl takes it: a float64 C-contiguous 2-D array (the same object when it already
    is one: no copy) or a CSR tuple for scipy sparse input."""
    try:
        import scipy.sparse as sp
    except ImportError:  # pragma: no cover
        sp = None
    if sp is not None and sp.issparse(X):
        X = sp.csr_matrix(X)
        if not X.has_sorted_indices:
            X = X.sorted_indices()
        data = np.ascontiguousarray(X.data, dtype=np.float64)
        indices = np.ascontiguousarray(X.indices, dtype=np.int32)
        indptr = np.ascontiguousarray(X.indptr, dtype=np.uintp)
        return ("csr", data, indices, indptr, X.shape[0], X.shape[1])
    # scikit-learn's checks and messages for shape, dtype and emptiness (no copy of a float64
    # C-contiguous array); NaN and Inf are left to libtl, whose message names the row and column
    return check_array(X, dtype=np.float64, order="C", force_all_finite=False,
                       input_name=what)


def _dense(X):
    """X with scipy sparse matrices made dense (the mappings work on dense rows)."""
    if hasattr(X, "toarray") and not isinstance(X, np.ndarray):
        return np.ascontiguousarray(X.toarray(), dtype=np.float64)
    return X


def _n_rows(X):
    return X[4] if isinstance(X, tuple) else X.shape[0]


def _n_cols(X):
    return X[5] if isinstance(X, tuple) else X.shape[1]


def _encode(y, what="y"):
    """(classes, int32 codes) of class labels y (strings or numbers; scikit-learn's checks:
    a column vector warns, continuous values are refused)."""
    y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    classes, codes = np.unique(y, return_inverse=True)
    return classes, np.ascontiguousarray(codes, dtype=np.int32)


def _labels_for(classes, y):
    """int32 codes of y in classes (unknown labels: ValueError)."""
    y = np.asarray(y).ravel()
    idx = np.searchsorted(classes, y)
    idx[idx >= len(classes)] = 0
    bad = classes[idx] != y
    if np.any(bad):
        raise ValueError(f"y contains labels not seen in fit: {y[bad][:5]!r}")
    return np.ascontiguousarray(idx, dtype=np.int32)


def _seed(random_state):
    if random_state is None:
        return 42
    if isinstance(random_state, (int, np.integer)):
        if random_state < 0:
            raise ValueError(f"random_state must be >= 0, got {random_state}")
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    raise ValueError(f"random_state must be None, an int or a RandomState, got {random_state!r}")


def _threads(n_jobs):
    if n_jobs is None:
        return 0
    n = int(n_jobs)
    if n < 0:
        n = max(1, (os.cpu_count() or 1) + 1 + n)
    return n


def _text(v):
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return str(v)


def _domain(domain, n=None):
    if isinstance(domain, str):
        if domain not in ROLES:
            raise ValueError(f"domain must be one of {sorted(ROLES)} or an index, got {domain!r}")
        return ROLES[domain]
    d = int(domain)
    if d < 0 or (n is not None and d >= n):
        raise ValueError(f"domain {d} does not exist (there are {n})")
    return d


def _dom(role, name, X, y=None, targets=None, weights=None, names=None, labelled=None):
    return (role, name, X, y, targets, weights, names, labelled)


def _vec(w, n, what):
    if w is None:
        return None
    w = np.ascontiguousarray(w, dtype=np.float64).ravel()
    if w.shape[0] != n:
        raise ValueError(f"{what} has {w.shape[0]} entries for {n} rows")
    return w


# ---------------------------------------------------------------- neural networks


class Network:
    """A libtl network (float32 CNN engine): load a .tlm written by `tl pretrain|finetune`,
    predict / embed numpy images, move weights to and from PyTorch through safetensors.

    Images: (n, c*h*w) rows, or (n, h, w) / (n, c, h, w) stacks (C order, as numpy and PyTorch
    keep them), any real dtype; the network's input normalisation is applied on the way in."""

    def __init__(self, cap):
        self._cap = cap
        self._about()

    def _about(self):
        (self.arch, self.input_shape, self.n_outputs, labels, names,
         self.layers) = _tl.nn_about(self._cap)
        self.classes_ = np.asarray(labels) if labels is not None else None
        self.label_names = names.split(",") if names else None

    @classmethod
    def create(cls, arch, input_shape, random_state=None):
        """A new network from an architecture string ("conv:8:3,relu,flatten,dense:10") for
        inputs of shape (c, h, w), initialised as PyTorch does (seeded)."""
        c, h, w = (tuple(input_shape) + (1, 1))[:3] if len(input_shape) < 3 else input_shape
        return cls(_tl.nn_create(arch, int(c), int(h), int(w), _seed(random_state)))

    @classmethod
    def load(cls, path):
        return cls(_tl.nn_load(os.fspath(path)))

    def save(self, path):
        _tl.nn_save(self._cap, os.fspath(path))

    @classmethod
    def from_safetensors(cls, path, arch=None, input_shape=None, name_map=None,
                         allow_missing=False):
        """A network with the weights of a safetensors file: a libtl export carries its
        architecture; a PyTorch state_dict needs `arch` and `input_shape` (and a `name_map`
        such as "@index" for an nn.Sequential)."""
        path = os.fspath(path)
        if arch is None:
            arch, c, h, w = _tl.nn_safetensors_arch(path)
            input_shape = (c, h, w)
        net = cls.create(arch, input_shape)
        net.import_safetensors(path, name_map, allow_missing)
        return net

    def import_safetensors(self, path, name_map=None, allow_missing=False):
        """Loads the tensors of a safetensors file; returns (loaded, missing, unexpected)."""
        r = _tl.nn_import(self._cap, os.fspath(path), name_map, bool(allow_missing))
        return r

    def to_safetensors(self, path, name_map=None):
        """Writes every tensor (F32) for PyTorch (name_map "@index": nn.Sequential names)."""
        _tl.nn_export(self._cap, os.fspath(path), name_map)

    def _rows(self, X):
        X = np.asarray(X)
        if X.ndim > 2:
            X = X.reshape(X.shape[0], -1)
        return _rows(X)

    def _run(self, what, X, layer=-1):
        buf, r, c = _tl.nn_run(self._cap, what, self._rows(X), layer)
        dt = np.int32 if what == 2 else np.float32
        return np.frombuffer(buf, dtype=dt).reshape(r, c)

    def decision_function(self, X):
        """The last layer's outputs (logits), (n, n_outputs) float32."""
        return self._run(0, X).copy()

    def predict_proba(self, X):
        """Softmax probabilities (n, n_outputs) float32, in the order of classes_."""
        return self._run(1, X).copy()

    def predict(self, X):
        """Labels (through the network's labels)."""
        return self._run(2, X).ravel().copy()

    def embed(self, X, layer=None):
        """The output of a layer (its index or name; None: the embedding layer before the
        head), (n, its size) float32."""
        if isinstance(layer, str):
            if layer not in self.layers:
                raise ValueError(f"no layer {layer!r}; layers: {', '.join(self.layers)}")
            layer = self.layers.index(layer)
        return self._run(3, X, -1 if layer is None else int(layer)).copy()

    def __getstate__(self):
        return {"tlm": _to_bytes(_tl.nn_save, self._cap)}

    def __setstate__(self, state):
        self._cap = _from_bytes(_tl.nn_load, state["tlm"])
        self._about()


# ---------------------------------------------------------------- measures


def _pair(Xs, Xt):
    Xs, Xt = _rows(Xs, "Xs"), _rows(Xt, "Xt")
    return Xs, Xt


def mmd(Xs, Xt, kernel="rbf", gamma=None, permutations=0, random_state=None):
    """Squared MMD between two domains (libtl's tl_mmd: unbiased, blockwise; RBF bandwidth by
    the median heuristic unless gamma is given). Returns (mmd2, p_value, gamma); p_value is NaN
    without permutations."""
    if kernel not in ("rbf", "linear"):
        raise ValueError(f"kernel must be 'rbf' or 'linear', got {kernel!r}")
    a = float("nan") if kernel == "linear" else (0.0 if gamma is None else float(gamma))
    return _tl.distance("mmd", *_pair(Xs, Xt), a, int(permutations), _seed(random_state))


def coral_distance(Xs, Xt):
    """The CORAL distance: squared Frobenius distance of the covariances / 4 d^2."""
    return _tl.distance("coral", *_pair(Xs, Xt), 0.0, 0, 42)[0]


def a_distance(Xs, Xt, folds=5, C=1.0, random_state=None):
    """The proxy A-distance 2 (1 - 2 err) of a cross-validated linear domain classifier."""
    return _tl.distance("a-distance", *_pair(Xs, Xt), float(C), int(folds),
                        _seed(random_state))[0]


def guard(Xs, ys, Xt, Zs=None, Zt=None, weights=None, margin=0.05, min_correspondence=0.1,
          min_ess=0.5, random_state=None):
    """libtl's negative-transfer guard on a transfer done anywhere: Xs, ys, Xt before it; Zs, Zt
    after it (None: the same rows, for a weighting); weights: the source weights (or None).
    ys None: regression (no reverse validation). Returns the label-free evidence (MMD, reverse
    validation before / after, feature correspondence, prediction entropy, effective sample
    size), the verdict ("ok", "harmful", "unsure") and the reason in words."""
    Xs, Xt = _pair(Xs, Xt)
    Zs = Xs if Zs is None else _rows(Zs, "Zs")
    Zt = Xt if Zt is None else _rows(Zt, "Zt")
    codes = None
    if ys is not None:
        classes, codes = _encode(ys, "ys")
    return _tl.guard_check(Xs, codes, Xt, Zs, Zt, _vec(weights, _n_rows(Xs), "weights"),
                           float(margin), float(min_correspondence), float(min_ess),
                           _seed(random_state))


# ---------------------------------------------------------------- saving through .tlm files


def _to_bytes(save, handle):
    fd, path = tempfile.mkstemp(suffix=".tlm")
    os.close(fd)
    try:
        save(handle, path)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def _from_bytes(load, blob):
    fd, path = tempfile.mkstemp(suffix=".tlm")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        return load(path)
    finally:
        os.unlink(path)


class _Handle:
    """A fitted C object that pickles as the bytes of its .tlm file."""

    def __init__(self, cap, kind):
        self.cap, self.kind = cap, kind

    def _io(self):
        if self.kind == "model":
            return _tl.model_save, _tl.model_load
        return _tl.pipeline_save, _tl.pipeline_load

    def __getstate__(self):
        save, _ = self._io()
        return {"kind": self.kind, "tlm": _to_bytes(save, self.cap)}

    def __setstate__(self, state):
        self.kind = state["kind"]
        _, load = self._io()
        self.cap = _from_bytes(load, state["tlm"])

    def __deepcopy__(self, memo):
        h = _Handle.__new__(_Handle)
        h.__setstate__(self.__getstate__())
        return h


# ---------------------------------------------------------------- the generated estimators


class _Method(BaseEstimator):
    """Base of the classes generated from the registry: _method (the registry name),
    _family, _needs, _pnames (Python keyword -> libtl parameter name)."""

    _method = None
    _family = None
    _needs = 0
    _pnames = {}

    def _libtl_params(self):
        return {c: _text(getattr(self, p)) for p, c in self._pnames.items()}

    def _check_fitted(self):
        if getattr(self, "model_", None) is None:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator.")

    def _fit_model(self, domains, learner=None, learner_params=None):
        cap = _tl.model_fit(self._method, self._libtl_params(), learner, learner_params or {},
                            domains, _seed(self.random_state), _threads(self.n_jobs))
        self.model_ = _Handle(cap, "model")
        name, params, dim, classes, info = _tl.model_about(cap)
        self.params_ = params
        self.info_ = info
        return cap

    def _source_target(self, Xs, ys, Xt, yt=None, sample_weight=None, classes=None):
        Xs = _rows(Xs, "Xs")
        dom = []
        names = None
        codes = None
        if ys is not None:
            if classes is None:
                classes, codes = _encode(ys, "ys")
            else:
                codes = _labels_for(classes, ys)
            if len(codes) != _n_rows(Xs):
                raise ValueError(f"Found input variables with inconsistent numbers of samples: "
                                 f"[{_n_rows(Xs)}, {len(codes)}]")
        self.n_features_in_ = _n_cols(Xs)
        dom.append(_dom(0, "python:source", Xs, codes,
                        weights=_vec(sample_weight, _n_rows(Xs), "sample_weight"), names=names))
        if Xt is not None:
            Xt = _rows(Xt, "Xt")
            lab = None
            if yt is not None:
                raise ValueError("labelled target rows go in Xt_labelled / yt_labelled")
            dom.append(_dom(1, "python:target", Xt, None, labelled=lab))
        return dom, classes

    def save(self, path):
        """Writes the fitted method to a .tlm file (``tl transform --model`` reads it)."""
        self._check_fitted()
        _tl.model_save(self.model_.cap, os.fspath(path))

    @classmethod
    def load(cls, path):
        """A fitted estimator out of a .tlm file written by ``save`` or ``tl ... --save-map``."""
        cap = _tl.model_load(os.fspath(path))
        name, params, dim, classes, info = _tl.model_about(cap)
        est_cls = cls if cls._method == name else estimator(name)
        kw = {}
        for p, c in est_cls._pnames.items():
            kw[p] = _value(est_cls._types[p], params[c])
        est = est_cls(**kw)
        est.model_ = _Handle(cap, "model")
        est.params_, est.info_ = params, info
        if classes is not None and est_cls._family in ("learner", "ensemble"):
            est.classes_ = np.asarray(classes)
            est._codes_are_labels = True
        return est


class _FeatureMapping(TransformerMixin, _Method):
    """A feature mapping: fit(Xs, ys, Xt) fits it; transform(X, domain) maps rows of a domain
    into the shared space; fit_transform maps the source rows."""

    def fit(self, X, y=None, Xt=None, Xt_labelled=None, yt_labelled=None):
        """X: source rows (n, d); y: source labels (the methods that need them: JDA, BDA, ...);
        Xt: unlabelled target rows; Xt_labelled / yt_labelled: a few labelled target rows."""
        if self._needs & 0x40:  # TL_DENSE_ONLY: sparse rows densified (as transform does)
            X = _dense(X)
            Xt = None if Xt is None else _dense(Xt)
            Xt_labelled = None if Xt_labelled is None else _dense(Xt_labelled)
        dom, classes = self._source_target(X, y, Xt)
        if Xt_labelled is not None:
            if len(dom) < 2:
                raise ValueError("Xt_labelled needs Xt")
            codes = _labels_for(classes, yt_labelled) if classes is not None else \
                _encode(yt_labelled)[1]
            dom[1] = dom[1][:7] + ((_rows(Xt_labelled, "Xt_labelled"), codes),)
        self._fit_model(dom)
        self.n_domains_ = len(dom)
        self.dim_ = _tl.model_about(self.model_.cap)[2]
        return self

    def transform(self, X, domain="target"):
        """Rows of `domain` ("source", "target" or its index) mapped: (n, dim_)."""
        self._check_fitted()
        d = _domain(domain)
        if d >= getattr(self, "n_domains_", 2):
            d = 0  # fitted on the source alone (PCA): one mapping
        buf, r, c = _tl.model_transform(self.model_.cap, d, _rows(_dense(X)))
        return np.frombuffer(buf, dtype=np.float64).reshape(r, c).copy()

    def fit_transform(self, X, y=None, Xt=None, **fit_params):
        """Fits, then maps the source rows X (what a scikit-learn Pipeline trains on)."""
        return self.fit(X, y, Xt, **fit_params).transform(X, domain="source")


class _InstanceWeighting(_Method):
    """An instance weighting: fit(Xs, ys, Xt) sets weights_ (one per source row, mean 1)."""

    def fit(self, X, y=None, Xt=None):
        dom, _ = self._source_target(X, y, Xt)
        cap = self._fit_model(dom)
        w = _tl.model_fit_weights(cap)
        self.weights_ = np.frombuffer(w, dtype=np.float64).copy()
        return self

    def compute_weights(self, X):
        """Weights of new source rows on the fitted scale (LibtlError for a method that only
        weights the rows it was fitted on, KMM)."""
        self._check_fitted()
        X = _rows(X)
        w = np.empty(_n_rows(X), dtype=np.float64)
        _tl.model_weights(self.model_.cap, X, w)
        return w


class _Classifier(ClassifierMixin, _Method):
    """A learner (or a transferring ensemble): fit(X, y), predict, predict_proba, score."""

    _codes_are_labels = False

    def fit(self, X, y, sample_weight=None, Xt=None, Xt_labelled=None, yt_labelled=None):
        """X, y: the (source) training rows and labels, any label type; Xt, Xt_labelled,
        yt_labelled: target rows, for the ensembles (TrAdaBoost needs labelled target rows)."""
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target "
                             "y is None")
        dom, classes = self._source_target(X, y, None, sample_weight=sample_weight)
        if Xt is not None or Xt_labelled is not None:
            lab = None
            if Xt_labelled is not None:
                lab = (_rows(Xt_labelled, "Xt_labelled"), _labels_for(classes, yt_labelled))
            Xtr = _rows(Xt, "Xt") if Xt is not None else lab[0]
            dom.append(_dom(1, "python:target", Xtr, labelled=lab))
        self.classes_ = classes
        self._codes_are_labels = False
        if self._family == "learner":
            # a learner alone runs as libtl's protocol without a method (the same code as the
            # baselines of `tl adapt`), which gives it class scores too; the rows stand in as
            # the (unscored) target
            if len(dom) == 1:
                dom.append(_dom(1, "python:rows", dom[0][2]))
            js, cap = _tl.transfer_run(dom, None, {}, self._method, self._libtl_params(),
                                       "none", False, False, _seed(self.random_state),
                                       _threads(self.n_jobs))
            self.model_ = _Handle(cap, "pipeline")
            self.params_ = self._libtl_params()
            self.info_ = json.loads(js).get("learner_fit", {})
        else:
            self._fit_model(dom)
        return self

    def _labels(self, pred):
        if self._codes_are_labels:
            return pred
        return self.classes_[pred]

    def predict(self, X):
        self._check_fitted()
        X = _rows(X)
        pred = np.empty(_n_rows(X), dtype=np.int32)
        if self.model_.kind == "pipeline":
            _tl.pipeline_predict(self.model_.cap, 0, X, pred)
        else:
            _tl.model_predict(self.model_.cap, X, pred)
        return self._labels(pred)

    def predict_proba(self, X):
        """Class scores (n, classes) in the order of classes_: probabilities (logreg), the
        neighbours' vote shares (k-NN), the rounds' votes (TrAdaBoost), decision values (SVM)."""
        self._check_fitted()
        X = _rows(X)
        if self.model_.kind == "pipeline":
            buf, r, c = _tl.pipeline_scores(self.model_.cap, 0, X)
            return np.frombuffer(buf, dtype=np.float64).reshape(r, c).copy()
        S = np.empty((_n_rows(X), len(self.classes_)), dtype=np.float64)
        _tl.model_scores(self.model_.cap, X, S)
        return S

    @classmethod
    def load(cls, path):
        if cls._family == "learner":
            raise TypeError(f"{cls.__name__}.save writes a pipeline file (what `tl predict` "
                            "reads): load it with libtl.TransferPipeline.load")
        return super().load(path)

    def save(self, path):
        """Writes the fitted classifier to a .tlm file (a learner: a pipeline file, as
        ``tl predict`` reads, loaded again by TransferPipeline.load; an ensemble: a method
        file, loaded by load)."""
        self._check_fitted()
        save = _tl.pipeline_save if self.model_.kind == "pipeline" else _tl.model_save
        save(self.model_.cap, os.fspath(path))


def _pyname(c):
    p = c.replace("-", "_")
    return p + "_param" if keyword.iskeyword(p) else p


def _value(t, text):
    """A parameter's text as the Python value its type gives."""
    if t == "bool":
        return text.strip().lower() in ("true", "1", "yes")
    if t == "int":
        try:
            return int(text)
        except ValueError:
            return text
    if t == "real":
        try:
            return float(text)
        except ValueError:
            return text
    return text


def _classname(name):
    n = name.upper().replace("-", "_")
    i = 0
    while i < len(n) and n[i].isdigit():
        i += 1
    return n[i:] + n[:i] if i else n


_BASES = {"feature": _FeatureMapping, "instance": _InstanceWeighting, "learner": _Classifier,
          "ensemble": _Classifier}
_REGISTRY = {}


def _make_class(name, family, needs, summary, reference, params):
    pnames, types, defaults, docs = {}, {}, {}, []
    for (c, t, d, lo, hi, choices, helptext, grid) in params:
        p = _pyname(c)
        pnames[p], types[p], defaults[p] = c, t, _value(t, d)
        rng = ""
        if t in ("int", "real"):
            rng = f" in [{lo:g}, {hi:g}]" + (f" or {choices}" if choices else "")
        elif t == "choice":
            rng = f": one of {choices}"
        docs.append(f"    {p} : {t}, default={defaults[p]!r}\n        {helptext}{rng}"
                    + (f" (grid: {grid})" if grid else ""))
    args = list(pnames) + ["random_state", "n_jobs"]
    src = "def __init__(self, *, " + ", ".join(f"{a}=_d[{a!r}]" for a in args) + "):\n"
    src += "".join(f"    self.{a} = {a}\n" for a in args)
    ns = {"_d": dict(defaults, random_state=None, n_jobs=None)}
    exec(src, ns)  # an explicit signature: what scikit-learn's get_params reads
    doc = f"{summary}\n\n{reference}\n\nlibtl method '{name}' ({family}).\n\nParameters\n" \
          "----------\n" + "\n".join(docs) + \
          "\n    random_state : int, RandomState or None\n        libtl's seed (None: 42)" \
          "\n    n_jobs : int or None\n        libtl's threads (None: as configured)\n"
    cls = type(_classname(name), (_BASES[family],), {
        "__init__": ns["__init__"], "__doc__": doc, "__module__": __name__,
        "_method": name, "_family": family, "_needs": needs, "_pnames": pnames,
        "_types": types})
    return cls


def _build():
    for (name, family, needs, summary, reference, params) in _tl.methods():
        if family not in _BASES:
            continue  # neural and relational methods: not exposed as estimators yet
        cls = _make_class(name, family, needs, summary, reference, params)
        _REGISTRY[name] = cls
        globals()[cls.__name__] = cls
        __all__.append(cls.__name__)


def methods():
    """The registry: {name: (family, summary, [parameter names])} of every method libtl has."""
    return {m[0]: (m[1], m[3], [p[0] for p in m[5]]) for m in _tl.methods()}


def estimator(name):
    """The estimator class of a registry method, by name ("jda", "kmm", "logreg", ...)."""
    try:
        return _REGISTRY[name.lower()]
    except KeyError:
        raise ValueError(f"libtl has no estimator for method {name!r}; known: "
                         f"{', '.join(sorted(_REGISTRY))}") from None


_build()

from ._pipeline import TransferPipeline  # noqa: E402
