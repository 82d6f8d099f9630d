"""Extraction speed against compiling the same files with coqc, as a ratio (same machine, one script).

For each file: ``ilya``'s extraction (one coqtop, every sentence sent and every proof state printed
with ``Set Printing All`` and parsed into shared trees) and ``coqc`` compiling the same file to a .vo
(``-Q`` on the installed mathcomp), alternated file by file so that a busy machine slows both alike.
Prints tactic steps/s of extraction, the two wall times and their ratio.  Run:

    .venv/bin/python benchmarks/gamepad_extract.py [--files ssreflect/div.v ssreflect/prime.v ...] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

from ilya.gamepad.coqtop import coqc_path
from ilya.gamepad.corpus import mathcomp_dir
from ilya.gamepad.extract import extract_file

DEFAULT = ["ssreflect/div.v", "ssreflect/prime.v", "ssreflect/binomial.v", "fingroup/perm.v",
           "algebra/poly.v"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", nargs="*", default=DEFAULT)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    root = mathcomp_dir()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for rel in args.files:
            path = root / rel
            t0 = time.perf_counter()
            res = extract_file(path, rel)
            t_ext = time.perf_counter() - t0
            t0 = time.perf_counter()
            subprocess.run([coqc_path(), "-w", "-all", "-Q", str(root), "mathcomp", "-o",
                            str(Path(tmp) / (path.stem + ".vo")), str(path)], check=True,
                           capture_output=True)
            t_coqc = time.perf_counter() - t0
            steps = sum(len(lm.steps) for lm in res.lemmas)
            rows.append({"file": rel, "lemmas": sum(lm.qed for lm in res.lemmas), "steps": steps,
                         "failures": len(res.failures), "extract_s": round(t_ext, 2), "coqc_s": round(t_coqc, 2),
                         "ratio": round(t_ext / t_coqc, 2)})
            if not args.json:
                r = rows[-1]
                print(f"{rel:26s} {r['lemmas']:5d} lemmas {steps:5d} steps  extract {t_ext:6.1f} s  "
                      f"coqc {t_coqc:6.1f} s  ratio {r['ratio']:.2f}", flush=True)
    tot_e = sum(r["extract_s"] for r in rows)
    tot_c = sum(r["coqc_s"] for r in rows)
    steps = sum(r["steps"] for r in rows)
    out = {"files": rows, "steps": steps, "extract_s": round(tot_e, 2), "coqc_s": round(tot_c, 2),
           "steps_per_s": round(steps / tot_e, 1), "ratio_extract_to_coqc": round(tot_e / tot_c, 2)}
    if args.json:
        print(json.dumps(out))
    else:
        print(f"total: {steps} steps, extraction {tot_e:.1f} s ({steps / tot_e:.1f} steps/s), coqc {tot_c:.1f} s, "
              f"ratio {tot_e / tot_c:.2f}")


if __name__ == "__main__":
    main()
