"""Reading an extracted dataset into examples of the paper's two tasks.

An `Example` is one proof state (before a tactic step) with both labels: the position bin of its steps
left and the class of the tactic applied.  Term ids are global: every file's term table is appended to
one `TermTable`-like store (`Store`), with ids offset per file, so a batch can mix files and a subterm
shared inside a file's proof states stays one node.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ilya.core.errors import IlyaError
from ilya.gamepad.extract import read_file_record
from ilya.gamepad.tactics import TACTIC_CLASSES, position_bin

TINY_V = """(* The built-in sample corpus: small lemmas over nat, lists and booleans (vanilla Coq). *)
Require Import Arith List Bool.
Lemma add0r (n : nat) : 0 + n = n.
Proof. simpl. reflexivity. Qed.
Lemma addr0 (n : nat) : n + 0 = n.
Proof. induction n. reflexivity. simpl. rewrite IHn. reflexivity. Qed.
Lemma addS (n m : nat) : n + S m = S (n + m).
Proof. induction n. simpl. reflexivity. simpl. rewrite IHn. reflexivity. Qed.
Lemma addC (n m : nat) : n + m = m + n.
Proof. induction n. simpl. rewrite addr0. reflexivity. simpl. rewrite IHn. rewrite addS. reflexivity. Qed.
Lemma addA (n m p : nat) : n + (m + p) = n + m + p.
Proof. induction n. simpl. reflexivity. simpl. rewrite IHn. reflexivity. Qed.
Lemma and_swap (A B : Prop) : A /\\ B -> B /\\ A.
Proof. intros H. destruct H as [a b]. split. exact b. exact a. Qed.
Lemma or_swap (A B : Prop) : A \\/ B -> B \\/ A.
Proof. intros H. destruct H as [a | b]. right. exact a. left. exact b. Qed.
Lemma app_nil (A : Type) (l : list A) : l ++ nil = l.
Proof. induction l. reflexivity. simpl. rewrite IHl. reflexivity. Qed.
Lemma len_app (A : Type) (l m : list A) : length (l ++ m) = length l + length m.
Proof. induction l. simpl. reflexivity. simpl. rewrite IHl. reflexivity. Qed.
Lemma negb_inv (b : bool) : negb (negb b) = b.
Proof. destruct b. reflexivity. reflexivity. Qed.
Lemma andb_comm' (a b : bool) : a && b = b && a.
Proof. destruct a. destruct b. reflexivity. reflexivity. destruct b. reflexivity. reflexivity. Qed.
Lemma ex_two : exists n : nat, n + n = 4.
Proof. exists 2. simpl. reflexivity. Qed.
Lemma mul1 (n : nat) : 1 * n = n.
Proof. simpl. apply addr0. Qed.
Lemma le_S_S' (n m : nat) : n <= m -> S n <= S m.
Proof. intros H. apply le_n_S. exact H. Qed.
Lemma impl_trans (A B C : Prop) : (A -> B) -> (B -> C) -> A -> C.
Proof. intros f g a. apply g. apply f. exact a. Qed.
Lemma rev_nil (A : Type) : rev (@nil A) = nil.
Proof. simpl. reflexivity. Qed.
Lemma map_len (A B : Type) (f : A -> B) (l : list A) : length (map f l) = length l.
Proof. induction l. reflexivity. simpl. rewrite IHl. reflexivity. Qed.
Lemma orb_true (b : bool) : b || true = true.
Proof. destruct b. reflexivity. reflexivity. Qed.
Lemma double (n : nat) : 2 * n = n + n.
Proof. simpl. rewrite addr0. reflexivity. Qed.
Lemma succ_inj' (n m : nat) : S n = S m -> n = m.
Proof. intros H. injection H. intros E. exact E. Qed.
"""


@dataclass
class Example:
    """One proof state and its two labels."""

    roots: list[int]
    """term ids of the state: the first goal's conclusion first, then its hypotheses' types"""
    position: int
    """0, 1, 2: steps left < 5, 5-20, > 20"""
    tactic: int
    """index into TACTIC_CLASSES"""
    split: str
    lemma: str
    steps_left: int
    tactic_text: str = ""
    """the tactic sentence applied in this state"""

    def label(self, task: str) -> int:
        return self.position if task == "position" else self.tactic


@dataclass
class Store:
    """All term nodes of a dataset (global ids) and its examples."""

    labels: list[str] = field(default_factory=list)
    children: list[tuple[int, ...]] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    files: int = 0

    def split(self, name: str) -> list[Example]:
        return [e for e in self.examples if e.split == name]

    def state_nodes(self, ex: Example, max_nodes: int) -> list[int]:
        """The distinct nodes of a state (children before parents), cut to ``max_nodes``.

        Roots are taken in order (conclusion first) while they fit.
        """
        seen: set[int] = set()
        order: list[int] = []
        for root in ex.roots:
            new = self._post_order(root, seen)
            if order and len(order) + len(new) > max_nodes:
                break
            order += new
            seen.update(new)
        return order

    def _post_order(self, root: int, seen: set[int]) -> list[int]:
        out: list[int] = []
        local: set[int] = set()
        stack: list[tuple[int, bool]] = [(root, False)]
        while stack:
            j, done = stack.pop()
            if j in seen or (j in local and not done):
                continue
            if done:
                if j not in local:
                    local.add(j)
                    out.append(j)
                continue
            stack.append((j, True))
            for c in self.children[j]:
                if c not in seen and c not in local:
                    stack.append((c, False))
        return out

    def tokens(self, ex: Example, max_nodes: int = 4000) -> Counter[str]:
        """Bag of tokens of a state: node labels counted over the distinct nodes of its trees."""
        return Counter(_norm(self.labels[j]) for j in self.state_nodes(ex, max_nodes))


def _norm(label: str) -> str:
    if label.startswith("binder:"):
        return "binder"
    if label.startswith("let:"):
        return "let"
    return label


def load_dataset(folder: Path) -> Store:
    """Every file record under ``folder/files`` -> a `Store` (examples in a deterministic order)."""
    files = sorted((folder / "files").glob("*.json.gz"))
    if not files:
        raise IlyaError("no extracted files here (run `ilya gamepad extract` first)", file=folder)
    store = Store()
    cls_index = {c: i for i, c in enumerate(TACTIC_CLASSES)}
    for path in files:
        rec = read_file_record(path)
        off = len(store.labels)
        for lab, kids in rec["terms"]:
            store.labels.append(lab)
            store.children.append(tuple(k + off for k in kids))
        for lm in rec["lemmas"]:
            for st in lm["steps"]:
                if not st["goals"]:
                    continue
                g = st["goals"][0]
                roots = [g["concl"] + off] + [h[1] + off for h in reversed(g["hyps"])]
                store.examples.append(Example(roots, position_bin(st["left"]), cls_index.get(st["class"], 0),
                                              lm["split"], f"{rec['file']}:{lm['name']}", st["left"],
                                              st["tactic"]))
        store.files += 1
    return store


def tiny_dataset() -> Path:
    """The built-in sample corpus, extracted once into the temp folder (seconds; for smoke runs and tests)."""
    from ilya.gamepad.extract import extract_corpus

    root = Path(tempfile.gettempdir()) / "ilya-gamepad-tiny-v1"
    if (root / "manifest.json").is_file():
        return root
    src = root / "src"
    src.mkdir(parents=True, exist_ok=True)
    v = src / "tiny.v"
    v.write_text(TINY_V)
    # several copies under different names give the split something to split
    for k in range(4):
        (src / f"tiny{k}.v").write_text(TINY_V.replace("Lemma ", f"Lemma t{k}_"))
    extract_corpus([(p, p.name) for p in sorted(src.glob("*.v"))], root, [], workers=1)
    return root


def resolve_data(spec: str) -> Path:
    if spec == "tiny":
        return tiny_dataset()
    path = Path(spec)
    if not (path / "files").is_dir():
        raise IlyaError("not a dataset folder (run `ilya gamepad extract` first, or pass --data tiny)",
                        file=path)
    return path


def class_counts(examples: list[Example], task: str) -> list[int]:
    n = 3 if task == "position" else len(TACTIC_CLASSES)
    counts = [0] * n
    for e in examples:
        counts[e.label(task)] += 1
    return counts


def manifest(folder: Path) -> dict[str, object]:
    p = folder / "manifest.json"
    return json.loads(p.read_text()) if p.is_file() else {}
