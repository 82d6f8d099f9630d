"""The four predictors of the paper's tasks, behind one interface: ``scores(examples) -> (n, classes)``.

* `ConstantModel`: the training split's most frequent class.
* `SvmModel`: a linear SVM (scikit-learn ``LinearSVC``) on bag-of-tokens features: the labels of a
  state's distinct term nodes, counted, ``log1p``-scaled and L2-normalised.
* `NeuralModel`: a `StateClassifier` (GRU or TreeLSTM embedder, `ilya.gamepad.models`).

Each is saved into / rebuilt from a run checkpoint (`save_state` / `load_predictor`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Protocol

import numpy as np

from ilya.gamepad.dataset import Example, Store
from ilya.gamepad.tactics import POSITION_BINS, TACTIC_CLASSES


def n_classes(task: str) -> int:
    return len(POSITION_BINS) if task == "position" else len(TACTIC_CLASSES)


def class_names(task: str) -> tuple[str, ...]:
    return POSITION_BINS if task == "position" else TACTIC_CLASSES


class Predictor(Protocol):
    def scores(self, store: Store, examples: list[Example]) -> np.ndarray: ...


class ConstantModel:
    def __init__(self, counts: list[int]) -> None:
        self.counts = np.asarray(counts, dtype=np.float64)

    def scores(self, store: Store, examples: list[Example]) -> np.ndarray:
        p = self.counts / max(self.counts.sum(), 1.0)
        return np.tile(p, (len(examples), 1))

    def state(self) -> dict[str, Any]:
        return {"counts": self.counts}


class SvmModel:
    def __init__(self, features: list[str], coef: np.ndarray, intercept: np.ndarray, classes: np.ndarray,
                 n: int, max_nodes: int) -> None:
        self.features = features
        self.index = {f: i for i, f in enumerate(features)}
        self.coef = coef
        self.intercept = intercept
        self.classes = classes
        self.n = n
        self.max_nodes = max_nodes

    @staticmethod
    def featurize(store: Store, examples: list[Example], index: dict[str, int], max_nodes: int) -> Any:
        from scipy.sparse import csr_matrix

        rows, cols, vals = [], [], []
        for r, ex in enumerate(examples):
            bag = store.tokens(ex, max_nodes)
            feats = [(index[t], np.log1p(c)) for t, c in bag.items() if t in index]
            norm = np.sqrt(sum(v * v for _, v in feats)) or 1.0
            for c, v in feats:
                rows.append(r)
                cols.append(c)
                vals.append(v / norm)
        return csr_matrix((vals, (rows, cols)), shape=(len(examples), len(index)))

    @classmethod
    def fit(cls, store: Store, examples: list[Example], task: str, max_nodes: int, seed: int = 0,
            c: float = 0.5) -> SvmModel:
        from sklearn.svm import LinearSVC

        counts: Counter[str] = Counter()
        for ex in examples:
            counts.update(store.tokens(ex, max_nodes).keys())
        features = sorted(t for t, k in counts.items() if k >= 2)
        index = {f: i for i, f in enumerate(features)}
        x = cls.featurize(store, examples, index, max_nodes)
        y = np.array([ex.label(task) for ex in examples])
        svm = LinearSVC(C=c, random_state=seed, max_iter=5000)
        svm.fit(x, y)
        w = np.asarray(svm.coef_)
        b = np.asarray(svm.intercept_).reshape(-1)
        coef = w if len(svm.classes_) > 2 else np.vstack([-w[0], w[0]])
        icpt = b if len(svm.classes_) > 2 else np.array([-b[0], b[0]])
        return cls(features, coef, icpt, svm.classes_, n_classes(task), max_nodes)

    def scores(self, store: Store, examples: list[Example]) -> np.ndarray:
        x = self.featurize(store, examples, self.index, self.max_nodes)
        dec = np.asarray(x @ self.coef.T) + self.intercept
        out = np.full((len(examples), self.n), -1e9)
        out[:, self.classes] = dec
        return out

    def state(self) -> dict[str, Any]:
        return {"features": self.features, "coef": self.coef, "intercept": self.intercept,
                "classes": self.classes, "n": self.n, "max_nodes": self.max_nodes}


class NeuralModel:
    def __init__(self, net: Any, vocab: Any, max_nodes: int, share: bool = True) -> None:
        self.net = net
        self.vocab = vocab
        self.max_nodes = max_nodes
        self.share = share

    def scores(self, store: Store, examples: list[Example], batch_size: int = 32) -> np.ndarray:
        import torch

        from ilya.gamepad.models import make_batch

        self.net.eval()
        out = []
        with torch.no_grad():
            for k in range(0, len(examples), batch_size):
                b = make_batch(store, examples[k:k + batch_size], self.vocab, self.max_nodes, self.share)
                out.append(self.net(b).numpy())
        self.net.train()
        return np.concatenate(out) if out else np.zeros((0, 1))


def accuracy(model: Predictor, store: Store, examples: list[Example], task: str) -> float:
    if not examples:
        return float("nan")
    pred = model.scores(store, examples).argmax(1)
    return float(np.mean(pred == np.array([e.label(task) for e in examples])))


def confusion(model: Predictor, store: Store, examples: list[Example], task: str) -> list[list[int]]:
    n = n_classes(task)
    m = np.zeros((n, n), dtype=int)
    if examples:
        pred = model.scores(store, examples).argmax(1)
        for y, p in zip((e.label(task) for e in examples), pred, strict=True):
            m[y, p] += 1
    return m.tolist()


def load_predictor(run: Any, store: Store | None = None) -> Predictor:
    """Rebuild a run's trained predictor from its latest checkpoint."""
    from ilya.core.errors import IlyaError

    state = run.load_checkpoint()
    if state is None:
        raise IlyaError(f"run {run.system}/{run.name} has no checkpoint yet", file=run.checkpoints_dir)
    kind = run.config.get("model")
    if kind == "constant":
        return ConstantModel(list(np.asarray(state["predictor"]["counts"])))
    if kind == "svm":
        s = state["predictor"]
        return SvmModel(list(s["features"]), np.asarray(s["coef"]), np.asarray(s["intercept"]),
                        np.asarray(s["classes"]), int(s["n"]), int(s["max_nodes"]))
    import torch  # noqa: F401

    from ilya.gamepad.models import StateClassifier, Vocab

    vocab = Vocab(Counter())
    vocab.itos = list(state["extra"]["vocab"])
    vocab.stoi = {w: i for i, w in enumerate(vocab.itos)}
    cfg = run.config
    net = StateClassifier(str(kind), len(vocab), int(cfg["dim"]), n_classes(str(cfg["task"])))
    net.load_state_dict(state["model"])
    return NeuralModel(net, vocab, int(cfg["max_nodes"]), bool(cfg.get("sharing", True)))
