"""The paper's two tasks on the built-in sample corpus: baselines, SVM, GRU/TreeLSTM, embedding sharing."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from ilya.gamepad.dataset import Example, Store, class_counts, load_dataset, tiny_dataset
from ilya.gamepad.models import GRUEmbedder, StateClassifier, TreeLSTMEmbedder, Vocab, make_batch
from ilya.gamepad.predict import ConstantModel, SvmModel, accuracy
from ilya.gamepad.tactics import TACTIC_CLASSES
from ilya.gamepad.terms import TermTable, parse_term


@pytest.fixture(scope="module")
def store() -> Store:
    return load_dataset(tiny_dataset())


def test_dataset_has_both_labels_and_a_lemma_split(store: Store) -> None:
    tr, va, te = store.split("train"), store.split("valid"), store.split("test")
    assert len(tr) > len(va) > 0 and len(te) > 0
    assert not {e.lemma for e in tr} & {e.lemma for e in te}  # split by lemma
    classes = {TACTIC_CLASSES[e.tactic] for e in tr}
    assert {"rewrite", "by", "intro", "simpl", "elim", "case"} <= classes
    assert all(e.position == (0 if e.steps_left < 5 else 1 if e.steps_left <= 20 else 2) for e in tr)


def test_svm_beats_the_constant_baseline_on_tactics(store: Store) -> None:
    tr = store.split("train")
    held = store.split("valid") + store.split("test")
    const = ConstantModel(class_counts(tr, "tactic"))
    svm = SvmModel.fit(store, tr, "tactic", 4000)
    a_const, a_svm = accuracy(const, store, held, "tactic"), accuracy(svm, store, held, "tactic")
    assert a_svm > a_const + 0.15, (a_svm, a_const)


def _toy_store() -> tuple[Store, list[Example]]:
    table = TermTable()
    big = "(f (g (h x y) (h x y)) (g (h x y) (h x y)))"
    roots = [parse_term(f"@eq T {big} {big}", table)]
    st = Store(labels=[lab for lab, _ in table.nodes], children=[k for _, k in table.nodes])
    ex = Example(roots, 0, 0, "train", "toy", 1)
    return st, [ex]


def test_sharing_embeds_each_subterm_once_and_gives_the_same_embedding() -> None:
    torch.manual_seed(0)
    st, ex = _toy_store()
    vocab = Vocab(Counter({lab: 5 for lab in st.labels}))
    shared = make_batch(st, ex, vocab, 10_000, share=True)
    unfolded = make_batch(st, ex, vocab, 10_000, share=False)
    # distinct nodes: @eq T f g h x y, (h x y), (g ..), (f ..), the root; unfolded: 1 + 2 + 2 * 22
    assert shared.nodes == 11 and unfolded.nodes == 47
    for emb in (TreeLSTMEmbedder(len(vocab), 8), GRUEmbedder(len(vocab), 8)):
        hs, hu = emb(shared), emb(unfolded)
        assert torch.allclose(hs[shared.concl], hu[unfolded.concl], atol=1e-5)


def test_gru_and_treelstm_learn_the_tactic_task(store: Store) -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    tr = store.split("train")
    vocab = Vocab.build(store, tr, 4000)
    for kind in ("gru", "treelstm"):
        net = StateClassifier(kind, len(vocab), 16, 14)
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)
        rng = np.random.default_rng(0)
        losses = []
        for _ in range(40):
            b = [tr[i] for i in rng.integers(0, len(tr), 16)]
            logits = net(make_batch(store, b, vocab, 4000))
            loss = torch.nn.functional.cross_entropy(logits, torch.tensor([e.tactic for e in b]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert np.mean(losses[-8:]) < 0.75 * np.mean(losses[:8]), (kind, losses[:8], losses[-8:])
