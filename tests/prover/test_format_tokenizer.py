from __future__ import annotations

import pytest

from ilya.prover.format import ProofStep, example_text, parse_step, step_text
from ilya.prover.tokenizer import fit_tokenizer, load_tokenizer

STEP = ProofStep.make("mpd", {"ph": ("ph",), "ps": ("(", "ph", "->", "ph", ")"), "ch": ("F", ":", "A", "-->", "B")})


def test_step_text_round_trip():
    text = step_text(STEP)
    assert text == "mpd {{ ph : ph }} {{ ps : ( ph -> ph ) }} {{ ch : F : A --> B }}"
    assert parse_step(text) == STEP
    assert parse_step("a1i") == ProofStep("a1i")


@pytest.mark.parametrize("bad", ["", "{{ ph : ph }}", "mpd {{ ph ph }}", "mpd {{ ph : }}", "mpd {{ ph : ph",
                                 "mpd {{ ph : ph }} {{ ph : ps }}", "GOAL x", "mpd junk"])
def test_malformed_steps_are_refused(bad):
    assert parse_step(bad) is None


@pytest.mark.parametrize("kind", ["bpe", "char"])
def test_tokenizers_round_trip_and_save(kind, tmp_path):
    goal = ("|-", "(", "ph", "->", "ph", ")")
    p, c = example_text(goal, STEP)
    tok = fit_tokenizer(kind, [p + c] * 20, 200)
    for text in (p, c.strip(), p + c):
        assert tok.decode(tok.encode(text)) == " ".join(text.split())
    tok.save(tmp_path / "t.json")
    again = load_tokenizer(tmp_path / "t.json")
    assert again.encode(p + c) == tok.encode(p + c)
    assert tok.token_id("PROOFSTEP") != tok.token_id("GOAL")


def test_bpe_is_shorter_than_characters():
    goal = ("|-", "(", "ph", "->", "(", "ps", "->", "ph", ")", ")")
    texts = ["".join(example_text(goal, STEP))] * 50
    bpe, char = fit_tokenizer("bpe", texts, 300), fit_tokenizer("char", texts)
    assert len(bpe.encode(texts[0])) * 2 < len(char.encode(texts[0]))
