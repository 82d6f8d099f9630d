"""Dynamic evaluation (Krause et al. 2018): every byte is scored before the model learns from it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ilya.core.errors import IlyaError
from ilya.nn import Transformer, TransformerConfig
from ilya.sparse.data import TokenData
from ilya.sparse.model import LN2, dynamic_evaluate, dynamic_scores, evaluate

BLOCK = 16


def _model(seed: int = 0) -> Transformer:
    torch.manual_seed(seed)
    m = Transformer(TransformerConfig(vocab_size=256, block_size=BLOCK, n_layer=2, n_head=2, n_embd=16,
                                      attn="fixed", stride=4, c=1))
    return m.eval()


def test_score_of_a_byte_ignores_every_later_byte():
    torch.set_num_threads(1)
    model = _model()
    arr = np.random.default_rng(1).integers(0, 256, size=97, dtype=np.uint8)
    a = dynamic_scores(model, arr, stride=5, lr=3e-2, show=False)
    assert a.shape == (96,)
    for cut in (17, 40, 61, 90):                    # change bytes cut.. : the targets arr[1..cut-1] stay put
        b_arr = arr.copy()
        b_arr[cut:] = np.random.default_rng(cut).integers(0, 256, size=len(arr) - cut, dtype=np.uint8)
        b = dynamic_scores(model, b_arr, stride=5, lr=3e-2, show=False)
        np.testing.assert_allclose(a[:cut - 1], b[:cut - 1], rtol=0, atol=1e-5)
        assert np.abs(a[cut - 1:] - b[cut - 1:]).max() > 1e-3   # and the later ones did change


def test_the_model_learns_only_after_scoring_and_is_left_untouched():
    torch.set_num_threads(1)
    model = _model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    arr = np.random.default_rng(2).integers(0, 256, size=65, dtype=np.uint8)
    data = TokenData("toy", "bytes", arr, arr, arr)
    static = evaluate(model, data, "test", stride=4, show=False)
    # the first window is scored with the trained weights: exactly the static scores
    first = dynamic_scores(model, arr, stride=4, lr=1.0, show=False)[:BLOCK]
    with torch.no_grad():
        logits, _ = model(torch.as_tensor(arr[:BLOCK].astype(np.int64))[None])
    nll = torch.nn.functional.cross_entropy(logits[0], torch.as_tensor(arr[1:BLOCK + 1].astype(np.int64)),
                                            reduction="none")
    np.testing.assert_allclose(first, nll.double().numpy(), atol=1e-5)
    # a vanishing learning rate gives the static figure, byte for byte in total
    tiny = dynamic_evaluate(model, data, "test", lr=1e-12, stride=4, show=False)
    assert tiny["exact"] and tiny["tokens"] == static["tokens"] == 64
    assert tiny["min_context"] == static["min_context"] == BLOCK - 3
    assert tiny["bits"] == pytest.approx(static["bits"], abs=1e-5)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


@pytest.mark.parametrize("optim,lr", [("adam", 2e-2), ("sgd", 0.3)])
def test_dynamic_beats_static_on_a_repetitive_corpus(optim, lr):
    torch.set_num_threads(1)
    model = _model()
    unit = np.random.default_rng(3).permutation(256)[:23].astype(np.uint8)   # 23 distinct bytes, repeated
    arr = np.tile(unit, 40)                                                   # 920 bytes
    data = TokenData("rep", "bytes", arr, arr, arr)
    static = evaluate(model, data, "test", stride=8, show=False)["bits"]
    dyn = dynamic_evaluate(model, data, "test", lr=lr, optim=optim, stride=8, show=False)
    assert static > 7.0                                  # an untrained model: about log2(256) = 8 bits
    assert dyn["bits"] < 0.5 * static
    assert dyn["cpu_seconds"] >= 0 and dyn["dynamic"]["optim"] == optim
    # decay toward the trained weights holds the model back: between static and free adaptation
    held = dynamic_evaluate(model, data, "test", lr=lr, optim=optim, decay=0.5, stride=8, show=False)["bits"]
    assert dyn["bits"] < held < static + 1e-6
    assert LN2 > 0


def test_bad_settings_are_errors():
    model = _model()
    arr = np.zeros(40, dtype=np.uint8)
    with pytest.raises(IlyaError):
        dynamic_scores(model, arr, lr=0.0, show=False)
    with pytest.raises(IlyaError):
        dynamic_scores(model, arr, lr=1e-3, optim="rmsprop", show=False)
    with pytest.raises(IlyaError):
        dynamic_scores(model, arr, lr=1e-3, decay=1.0, show=False)
    img = TokenData("img", "image", arr[None], arr[None], arr[None], image_shape=(40, 1, 1))
    with pytest.raises(IlyaError):
        dynamic_evaluate(model, img, "test", lr=1e-3, show=False)
