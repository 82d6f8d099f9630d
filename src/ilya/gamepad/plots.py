"""GamePad's figures: confusion matrices and learning curves of a run; the paper-vs-ours table.

* ``confusion.png`` (one run): the test split's confusion matrix, rows normalised.
* ``learning_curve.png`` (one run): valid accuracy against training states (SVM) or steps (GRU/TreeLSTM).
* paper figure ``accuracy``: accuracy per model and task beside the paper's SVM.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ilya.core.figures import HeadlineRow, headline, paper_figure, run_figure
from ilya.core.plotting import new_figure, save_figure
from ilya.core.runs import Run

PAPER_SVM = {"position": 0.5752, "tactic": 0.4945}


@run_figure("gamepad", "confusion")
def confusion_figure(run: Run) -> list[Path]:
    s = run.read_summary()
    conf = s.get("confusion_test")
    if not conf:
        return []
    m = np.asarray(conf, dtype=float)
    norm = m / np.maximum(m.sum(1, keepdims=True), 1.0)
    names = s.get("classes", [str(i) for i in range(len(m))])
    fig, ax = new_figure(figsize=(1.2 + 0.45 * len(m), 1.0 + 0.45 * len(m)))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.grid(False)
    ax.set_xticks(range(len(m)), names, rotation=60, fontsize=7)
    ax.set_yticks(range(len(m)), names, fontsize=7)
    for i in range(len(m)):
        for j in range(len(m)):
            if m[i, j]:
                ax.text(j, i, str(int(m[i, j])), ha="center", va="center", fontsize=6,
                        color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{s.get('task')} / {s.get('model')}: test accuracy {s.get('acc_test', 0):.3f}")
    return [save_figure(fig, run.plots_dir / "confusion.png", curves=0)]


@run_figure("gamepad", "learning_curve")
def learning_curve(run: Run) -> list[Path]:
    steps, acc = run.series("valid/acc")
    if not steps:
        return []
    model = run.config.get("model", "")
    task = str(run.config.get("task", ""))
    fig, ax = new_figure()
    ax.plot(steps, acc, marker="o", label=f"ours ({model}, valid)")
    tsteps, tacc = run.series("train/acc")
    curves = 1
    if model == "svm" and tsteps:
        ax.plot(tsteps, tacc, marker=".", linestyle="--", label="ours (svm, train)")
        curves += 1
    ax.axhline(PAPER_SVM.get(task, 0.0), color="grey", linestyle=":", label="paper's SVM (test, Feit-Thompson)")
    base = run.read_summary().get("majority_valid")
    if isinstance(base, (int, float)):
        ax.axhline(float(base), color="#2ca02c", linestyle="--", label="majority class (valid)")
        curves += 1
    if model in ("svm", "constant") and len(steps) > 1:
        from matplotlib.ticker import NullFormatter, ScalarFormatter

        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("training states" if model in ("svm", "constant") else "gradient steps")
    ax.set_ylabel("accuracy")
    ax.set_title(f"{task}: {model}")
    ax.legend()
    return [save_figure(fig, run.plots_dir / "learning_curve.png", curves=curves + 1)]


def _finished(runs: list[Run]) -> list[Run]:
    return [r for r in runs if "acc_test" in r.read_summary()]


@paper_figure("gamepad", "accuracy", title="Position evaluation and tactic prediction: test accuracy")
def accuracy_figure(runs: list[Run], out: Path) -> list[Path]:
    rows = _finished(runs)
    if not rows:
        return []
    fig, axes = new_figure(1, 2, figsize=(10, 3.8))
    for ax, task in zip(axes, ("position", "tactic"), strict=True):
        best: dict[str, float] = {}
        for r in rows:
            s = r.read_summary()
            if s.get("task") == task:
                best[s["model"]] = max(best.get(s["model"], 0.0), float(s["acc_test"]))
        names = [m for m in ("constant", "svm", "gru", "treelstm") if m in best]
        ax.bar(range(len(names)), [best[m] for m in names], color="#1f77b4", label="ours (mathcomp)")
        ax.axhline(PAPER_SVM[task], color="#d62728", linestyle="--", label="paper's SVM (Feit-Thompson)")
        ax.set_xticks(range(len(names)), names)
        ax.set_ylim(0, 1)
        ax.set_title(task)
        ax.set_ylabel("test accuracy")
        ax.legend()
    return [save_figure(fig, out / "gamepad_accuracy.png", curves=2)]


@headline("gamepad")
def headline_rows(runs: list[Run]) -> list[HeadlineRow]:
    out: list[HeadlineRow] = []
    for r in _finished(runs):
        s = r.read_summary()
        paper = f"{100 * PAPER_SVM[s['task']]:.2f}% (SVM)" if s["model"] == "svm" else ""
        out.append(HeadlineRow(claim=f"{s['task']} accuracy, test split ({s['model']})", paper=paper,
                               ours=f"{100 * s['acc_test']:.2f}%", protocol=f"{s.get('data')}, split by lemma",
                               run=f"gamepad/{r.name}",
                               command=f"ilya gamepad train --task {s['task']} --model {s['model']}"))
    for r in runs:
        s = r.read_summary()
        if s.get("kind") == "rewrite":
            for key, what in (("model", "model alone"), ("fallback", "model with fallback")):
                out.append(HeadlineRow(claim=f"rewrite synthesis, held-out problems proved ({what}, Qed-checked)",
                                       paper="", ours=f"{100 * s[f'{key}_proved']:.1f}% of {s['test_problems']}",
                                       protocol="generated problems, larger than training ones",
                                       run=f"gamepad/{r.name}", command="ilya gamepad rewrite"))
    return out
