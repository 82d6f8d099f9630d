"""Extraction: step every proof of a .v file through coqtop and record each proof state.

For every tactic sentence of every proof we record the proof state *before* it (each goal's hypotheses
and conclusion as term trees, ``Set Printing All``), the sentence, its class and the number of tactic
steps left in the proof (counting this one).  Bullets and braces are executed but are not steps.  The
focused goal comes with its hypotheses; up to ``max_goals - 1`` further goals get theirs with
``Show N.`` (the rest are recorded by conclusion only).

Failures never stop a file: a tactic that Coq rejects (or that runs past the time limit) fails its lemma
(``Admitted.`` is sent so later lemmas can still use it, and the failure is logged with file, line and
Coq's message); a vernacular that fails is logged and skipped (with the proof that follows it).

One output file per source file (see docs/gamepad.md, "Dataset format")::

    {"format": "ilya-gamepad/1", "file": "ssreflect/ssrnat.v", "coq": "8.16.1",
     "terms": [[label, [child ids]], ...],            # hash-consed: a shared subterm is one entry
     "lemmas": [{"name", "line", "split", "qed", "steps": [
         {"tactic", "class", "left", "line", "goals": [{"hyps": [[name, type_id(, body_id)]], "concl": id}],
          "more": k}]}],                               # k further goals not recorded
     "failures": [{"file", "line", "sentence", "message", "kind"}]}
"""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ilya.core.errors import IlyaError
from ilya.gamepad.coqtop import Answer, CoqCrashed, CoqTimeout, Coqtop, coq_version
from ilya.gamepad.sentences import Sentence, is_proof_end, is_proof_start, split_sentences
from ilya.gamepad.tactics import tactic_class
from ilya.gamepad.terms import Goal, TermTable, goal_count, parse_goal_block, parse_goals

FORMAT = "ilya-gamepad/1"
PRELUDE = ("Set Printing All.", "Set Printing Width 100000.")


def lemma_split(file: str, name: str, line: int) -> str:
    """Deterministic 80/10/10 split by lemma: a hash of (file, name, line)."""
    h = int(hashlib.sha1(f"{file}\0{name}\0{line}".encode()).hexdigest()[:8], 16) % 100
    return "train" if h < 80 else ("valid" if h < 90 else "test")


@dataclass
class Step:
    tactic: str
    cls: str
    line: int
    goals: list[Goal]
    more: int = 0


@dataclass
class Lemma:
    name: str
    line: int
    statement: str
    steps: list[Step] = field(default_factory=list)
    qed: bool = False


@dataclass
class FileResult:
    """What one source file gave."""

    file: str
    table: TermTable
    lemmas: list[Lemma]
    failures: list[dict[str, Any]]
    sentences: int
    seconds: float

    def as_json(self, version: str) -> dict[str, Any]:
        return {
            "format": FORMAT, "file": self.file, "coq": version, "sentences": self.sentences,
            "seconds": round(self.seconds, 3),
            "terms": [[lab, list(kids)] for lab, kids in self.table.nodes],
            "lemmas": [{
                "name": lm.name, "line": lm.line, "statement": lm.statement, "qed": lm.qed,
                "split": lemma_split(self.file, lm.name, lm.line),
                "steps": [{"tactic": s.tactic, "class": s.cls, "left": len(lm.steps) - k, "line": s.line,
                           "goals": [g.as_json() for g in s.goals], "more": s.more}
                          for k, s in enumerate(lm.steps)],
            } for lm in self.lemmas if lm.qed],
            "failures": self.failures,
        }


class _FileExtractor:
    def __init__(self, path: Path, rel: str, coq_args: list[str], timeout: float, max_goals: int) -> None:
        self.path = path
        self.rel = rel
        self.coq_args = coq_args
        self.timeout = timeout
        self.max_goals = max_goals
        self.table = TermTable()
        self.lemmas: list[Lemma] = []
        self.failures: list[dict[str, Any]] = []
        self.replay: list[str] = []  # what rebuilds the environment after a restart (proofs as Admitted)
        self.coq: Coqtop | None = None

    def fail(self, s: Sentence, message: str, kind: str) -> None:
        self.failures.append({"file": self.rel, "line": s.line, "sentence": s.text[:300],
                              "message": " ".join(message.split())[:1000], "kind": kind})

    def start(self) -> Coqtop:
        coq = Coqtop(self.coq_args, cwd=self.path.parent, timeout=self.timeout)
        for cmd in PRELUDE:
            coq.send(cmd)
        return coq

    def restart(self) -> Coqtop:
        """A fresh coqtop with the environment rebuilt (after a timeout or a crash)."""
        if self.coq is not None:
            self.coq.kill()
        coq = self.start()
        for cmd in self.replay:
            coq.send(cmd, timeout=max(self.timeout, 300.0))
        self.coq = coq
        return coq

    def send(self, s: str) -> Answer:
        assert self.coq is not None
        return self.coq.send(s)

    def goals_of(self, ans: Answer) -> tuple[list[Goal], int] | None:
        parsed = parse_goals(ans.output, self.table)
        if parsed is None:
            return None
        first, others = parsed
        if first is None:
            return [], 0
        goals = [first]
        n = goal_count(ans.output) or 1
        for k in range(2, min(n, self.max_goals) + 1):
            shown = self.send(f"Show {k}.")
            if shown.error is None:
                goals.append(parse_goal_block(shown.output.split("\n", 1)[-1], self.table))
        for concl in others[len(goals) - 1:]:
            goals.append(Goal([], concl))
        return goals, max(0, n - len(goals))

    def run(self) -> FileResult:
        t0 = time.monotonic()
        text = self.path.read_text(encoding="utf-8", errors="replace")
        try:
            sents = split_sentences(text, self.rel)
        except IlyaError as e:
            self.failures.append({"file": self.rel, "line": e.line, "sentence": "", "message": e.message,
                                  "kind": "split"})
            return FileResult(self.rel, self.table, [], self.failures, 0, time.monotonic() - t0)
        self.coq = self.start()
        try:
            self._loop(sents)
        finally:
            if self.coq is not None:
                self.coq.close()
        return FileResult(self.rel, self.table, self.lemmas, self.failures, len(sents), time.monotonic() - t0)

    def _loop(self, sents: list[Sentence]) -> None:
        i = 0
        n = len(sents)
        while i < n:
            s = sents[i]
            try:
                ans = self.send(s.text)
            except (CoqTimeout, CoqCrashed) as e:
                self.fail(s, str(e), "timeout" if isinstance(e, CoqTimeout) else "crash")
                i = self._skip_proof(sents, i + 1) if i + 1 < n and is_proof_start(sents[i + 1].text) else i + 1
                self.restart()
                continue
            if ans.error is not None:
                self.fail(s, ans.error, "vernacular")
                # a statement that failed: skip the proof that follows it
                if i + 1 < n and (is_proof_start(sents[i + 1].text)):
                    i = self._skip_proof(sents, i + 1)
                else:
                    i += 1
                continue
            if not ans.proofs:
                self.replay.append(s.text)
                i += 1
                continue
            # a proof opened: step through it
            i = self._proof(sents, i, ans)

    def _skip_proof(self, sents: list[Sentence], i: int) -> int:
        while i < len(sents) and not is_proof_end(sents[i].text):
            i += 1
        return i + 1

    def _proof(self, sents: list[Sentence], i: int, opened: Answer) -> int:
        stmt = sents[i]
        lemma = Lemma(opened.proofs[-1], stmt.line, stmt.text)
        self.lemmas.append(lemma)
        got = self.goals_of(opened)
        goals, more = got if got is not None else ([], 0)
        i += 1
        depth = len(opened.proofs)
        while i < len(sents):
            s = sents[i]
            if is_proof_start(s.text) and not lemma.steps:
                self.send(s.text)
                i += 1
                continue
            try:
                ans = self.send(s.text)
            except (CoqTimeout, CoqCrashed) as e:
                self.fail(s, str(e), "timeout" if isinstance(e, CoqTimeout) else "crash")
                self.replay += [stmt.text, "Admitted."]
                self.restart()
                return self._skip_proof(sents, i)
            if is_proof_end(s.text):
                if ans.error is not None:
                    self.fail(s, ans.error, "qed")
                    self.send("Admitted.")
                else:
                    lemma.qed = s.text in ("Qed.", "Defined.") or s.text.startswith("Save")
                self.replay += [stmt.text, "Admitted."]
                return i + 1
            if ans.error is not None:
                self.fail(s, ans.error, "tactic")
                if len(self.coq.proofs if self.coq else []) >= depth:
                    self.send("Admitted.")
                self.replay += [stmt.text, "Admitted."]
                return self._skip_proof(sents, i)
            if not s.is_bullet:
                lemma.steps.append(Step(s.text, tactic_class(s.text), s.line, goals, more))
            got = self.goals_of(ans)
            if got is not None:
                goals, more = got
            if len(ans.proofs) < depth:  # closed without Qed (e.g. by a custom command)
                self.replay += [stmt.text, "Admitted."]
                return i + 1
            i += 1
        return i


def extract_file(path: Path, rel: str | None = None, coq_args: list[str] | None = None,
                 timeout: float = 120.0, max_goals: int = 4) -> FileResult:
    """Extract one .v file (one coqtop process)."""
    return _FileExtractor(path, rel or path.name, list(coq_args or []), timeout, max_goals).run()


def write_result(result: FileResult, out: Path, version: str) -> Path:
    """Write one file's record as gzipped JSON, atomically."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8") as f:
        json.dump(result.as_json(version), f, separators=(",", ":"))
    tmp.replace(out)
    return out


def read_file_record(path: Path) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def output_name(rel: str) -> str:
    return rel.replace("/", "__").removesuffix(".v") + ".json.gz"


def _work(args: tuple[str, str, list[str], float, int]) -> FileResult:
    path, rel, coq_args, timeout, max_goals = args
    return extract_file(Path(path), rel, coq_args, timeout, max_goals)


def extract_corpus(files: list[tuple[Path, str]], out_dir: Path, coq_args: list[str], *, workers: int = 2,
                   timeout: float = 120.0, max_goals: int = 4, limit: int | None = None) -> dict[str, Any]:
    """Extract many files in parallel (one coqtop per worker), resuming: files already written are skipped.

    Writes ``out_dir/files/*.json.gz``, appends to ``out_dir/failures.jsonl`` and rewrites
    ``out_dir/manifest.json``; returns the manifest.
    """
    import multiprocessing as mp

    from ilya.core.progress import progress

    version = coq_version()
    files_dir = out_dir / "files"
    files_dir.mkdir(parents=True, exist_ok=True)
    todo = [(p, r) for p, r in files if not (files_dir / output_name(r)).exists()]
    if limit is not None:
        todo = todo[:limit]
    jobs = [(str(p), r, coq_args, timeout, max_goals) for p, r in todo]
    t0 = time.time()
    bar = progress(total=len(files), desc="extract", unit="file", initial=len(files) - len(todo))
    fails = (out_dir / "failures.jsonl").open("a", encoding="utf-8")
    try:
        if workers <= 1 or len(jobs) <= 1:
            results = map(_work, jobs)
            pool = None
        else:
            ctx = mp.get_context("spawn")
            pool = ctx.Pool(min(workers, len(jobs)))
            results = pool.imap_unordered(_work, jobs)
        for res in results:
            write_result(res, files_dir / output_name(res.file), version)
            for f in res.failures:
                fails.write(json.dumps(f) + "\n")
            fails.flush()
            bar.update(1)
            bar.set_postfix(steps=sum(len(lm.steps) for lm in res.lemmas))
        if pool is not None:
            pool.close()
            pool.join()
    finally:
        fails.close()
        bar.close()
    manifest = summarize_dataset(out_dir, version)
    manifest["wall_s_this_session"] = round(time.time() - t0, 1)
    manifest["files_this_session"] = len(todo)
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def summarize_dataset(out_dir: Path, version: str = "") -> dict[str, Any]:
    """Counts over every file record of a dataset folder."""
    files = sorted((out_dir / "files").glob("*.json.gz"))
    lemmas = steps = failed = sentences = 0
    seconds = 0.0
    per_split = {"train": 0, "valid": 0, "test": 0}
    for p in files:
        rec = read_file_record(p)
        lemmas += len(rec["lemmas"])
        steps += sum(len(lm["steps"]) for lm in rec["lemmas"])
        for lm in rec["lemmas"]:
            per_split[lm["split"]] += 1
        failed += len({(f["line"], f["kind"]) for f in rec["failures"] if f["kind"] in ("tactic", "qed",
                                                                                        "timeout", "crash")})
        sentences += rec.get("sentences", 0)
        seconds += rec.get("seconds", 0.0)
    total = lemmas + failed
    return {"format": FORMAT, "coq": version, "files": len(files), "lemmas": lemmas, "steps": steps,
            "lemmas_failed": failed, "failure_rate": failed / total if total else 0.0,
            "sentences": sentences, "coq_seconds": round(seconds, 1), "lemmas_per_split": per_split}


def extract_command(cfg: Any) -> dict[str, Any]:
    """`ilya gamepad extract`: the corpus -> the dataset folder (resumable), a summary line on stderr."""
    import sys

    from ilya.gamepad.corpus import load_corpus

    corpus = load_corpus(cfg.corpus, sha256=cfg.sha256)
    files = [(p, corpus.rel(p)) for p in corpus.files]
    if cfg.only:
        files = [(p, r) for p, r in files if any(o in r for o in cfg.only)]
        if not files:
            raise IlyaError(f"--only {' '.join(cfg.only)}: no file of corpus {corpus.name} matches")
    out = cfg.out or Path("data/gamepad") / corpus.name
    manifest = extract_corpus(files, out, corpus.coq_args, workers=cfg.workers, timeout=cfg.timeout,
                              max_goals=cfg.max_goals, limit=cfg.limit)
    manifest["out"] = str(out)
    manifest["corpus"] = corpus.name
    print(f"{manifest['files']} files, {manifest['lemmas']} lemmas, {manifest['steps']} tactic steps, "
          f"{manifest['lemmas_failed']} lemmas failed ({100 * manifest['failure_rate']:.2f}%; see "
          f"{out / 'failures.jsonl'}) in {manifest['wall_s_this_session']} s -> {out}", file=sys.stderr)
    return manifest
