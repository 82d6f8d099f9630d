"""The combined shorter-proofs patch, checked outside ilya: GNU patch onto a copy of Debian's set.mm, then
metamath-exe verifies every proof of the patched database.

    .venv/bin/python benchmarks/prover_shorten_patch.py runs/prover/shorten-combined/shorter.patch

Prints the number of proofs the patch replaces, their steps (set.mm's -> ours, from the run's
``shorter.jsonl`` beside the patch), metamath-exe's verdict line and time, and ours against the paper's
23 (GPT-f's shorter proofs accepted into set.mm) with the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

SETMM = Path("/usr/share/metamath/databases/set.mm")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("patch", type=Path, help="a shorter.patch written by `ilya prover shorten [--combine ...]`")
    ap.add_argument("--db", type=Path, default=SETMM)
    args = ap.parse_args()
    patch = args.patch.resolve()
    rows = [json.loads(x) for x in (patch.parent / "shorter.jsonl").read_text().splitlines()]
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "set.mm"
        shutil.copyfile(args.db, copy)
        p = subprocess.run(["patch", "--no-backup-if-mismatch", str(copy), str(patch)], capture_output=True, text=True)
        if p.returncode:
            raise SystemExit(f"patch failed: {p.stdout}{p.stderr}")
        hunks = len(re.findall(r"^@@ ", patch.read_text(), flags=re.M))
        t0 = time.perf_counter()
        v = subprocess.run(["metamath", "set scroll continuous", "read set.mm", "verify proof *", "exit"],
                           capture_output=True, text=True, cwd=tmp, env={**os.environ, "TERM": "dumb"})
        wall = time.perf_counter() - t0
    text = v.stdout + v.stderr
    verdict = next((ln.strip() for ln in text.splitlines() if "proofs in the database were verified" in ln),
                   "(no verdict line)")
    errors = len(re.findall(r"\?(Error|Warning)", text))
    for r in rows:
        print(f"{r['label']:28} {r['setmm_steps']:>4} -> {r['steps']}")
    print(json.dumps({"proofs_replaced": len(rows), "hunks": hunks, "metamath_exe": verdict,
                      "errors_or_warnings": errors, "verify_wall_s": round(wall, 1),
                      "ours": len(rows), "paper": 23, "ratio": round(len(rows) / 23, 2)}))


if __name__ == "__main__":
    main()
