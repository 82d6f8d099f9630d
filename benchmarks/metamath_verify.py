"""Benchmark: verifying all of set.mm with ilya vs metamath-exe (the reference C verifier), same machine.

Runs each verifier as a fresh process several times and reports the best and median wall time, the peak
resident memory, and the ratios ilya / metamath-exe.  metamath-exe is driven non-interactively:
``metamath 'read "set.mm"' 'verify proof *' 'exit'`` (read = parse, like ilya's timing, which includes
parsing).  Then runs the slow tests (whole set.mm against metamath-exe, round trip) unless --no-tests.

    .venv/bin/python benchmarks/metamath_verify.py [--db PATH] [--repeat 3] [--no-tests] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(cmd: list[str], cwd: Path | None = None) -> tuple[float, float, int, str]:
    """(wall seconds, peak RSS in MiB, exit code, output) of one fresh process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, proc.returncode, out


def measure(name: str, cmd: list[str], repeat: int, cwd: Path | None = None, ok=lambda out: True) -> dict:
    walls, rss = [], []
    for _ in range(repeat):
        wall, mem, rc, out = run(cmd, cwd)
        if rc != 0 or not ok(out):
            raise SystemExit(f"{name} failed (exit {rc}):\n{out[-2000:]}")
        walls.append(wall)
        rss.append(mem)
    res = {"name": name, "best_s": min(walls), "median_s": statistics.median(walls), "peak_mib": max(rss),
           "runs": walls, "last_output": out.strip().splitlines()[-1]}
    print(f"{name:<34} best {res['best_s']:6.2f} s  median {res['median_s']:6.2f} s  "
          f"peak {res['peak_mib']:7.0f} MiB   [{res['last_output']}]", flush=True)
    return res


def verify_cpu_split(db: Path) -> None:
    """CPU seconds of the compiled core's verification: all proofs in one forked worker vs half each in
    two (what --jobs 2 can gain on idle cores, independent of other load on the machine)."""
    from ilya.metamath._fast import Core
    from ilya.metamath.batch import split_chunks

    core = Core()
    t0 = time.perf_counter()
    core.parse(str(db))
    parse_s = time.perf_counter() - t0
    theorems = core.theorems()

    def workers(parts: list[list[int]]) -> list[float]:
        procs = []
        for part in parts:
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:  # child: verify its share, report its CPU time
                t = time.process_time()
                core.verify(part)
                os.write(w, json.dumps(time.process_time() - t).encode())
                os._exit(0)
            os.close(w)
            procs.append((pid, r))
        out = []
        for pid, r in procs:
            out.append(json.loads(os.read(r, 64)))
            os.close(r)
            os.waitpid(pid, 0)
        return out

    one = min(workers([theorems])[0] for _ in range(3))
    chunks = split_chunks(theorems, 2)
    two = min((workers([sum(chunks[i::2], []) for i in range(2)]) for _ in range(3)), key=max)
    print(f"compiled core, CPU seconds: parse {parse_s:.2f} (wall); verification one worker {one:.2f}, "
          f"two workers {two[0]:.2f} + {two[1]:.2f} (verification speed-up on idle cores "
          f"{one / max(two):.2f}x)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    from ilya.core.data import metamath_database

    ap.add_argument("--db", type=Path, default=metamath_database("set.mm", must_exist=False))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-python", action="store_true", help="skip the pure-Python backend (slow)")
    ap.add_argument("--no-tests", action="store_true", help="skip the slow tests")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()
    mm = shutil.which("metamath")
    if mm is None:
        raise SystemExit("metamath-exe not found (apt install metamath)")
    db = args.db.resolve()
    print(f"database: {db} ({db.stat().st_size / 1e6:.1f} MB); CPUs: {os.cpu_count()}; "
          f"load average: {os.getloadavg()[0]:.2f}")
    ilya = [sys.executable, "-m", "ilya", "metamath", "verify", str(db)]
    results = [
        measure("metamath-exe (read + verify proof *)", [mm, f'read "{db.name}"', "verify proof *", "exit"],
                args.repeat, cwd=db.parent, ok=lambda out: "?Error" not in out and "verified" in out),
        measure("ilya verify (compiled core, 1 job)", [*ilya, "--backend", "fast"], args.repeat),
        measure("ilya verify (compiled core, --jobs 2)", [*ilya, "--backend", "fast", "--jobs", "2"],
                args.repeat),
    ]
    if not args.no_python:
        results.append(measure("ilya verify (pure Python, 1 job)", [*ilya, "--backend", "python"], 1))
        results.append(measure("ilya verify (pure Python, --jobs 2)",
                               [*ilya, "--backend", "python", "--jobs", "2"], 1))
    ref = results[0]["best_s"]
    print("\nratios to metamath-exe (best of runs; < 1 is faster):")
    for r in results[1:]:
        r["ratio"] = r["best_s"] / ref
        print(f"  {r['name']:<34} {r['ratio']:.2f}")
    print()
    verify_cpu_split(db)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if not args.no_tests:
        print("\nslow tests (whole set.mm):", flush=True)
        rc = subprocess.call([sys.executable, "-m", "pytest", "-q", "-m", "slow", "-p", "no:randomly",
                              str(ROOT / "tests" / "metamath")], cwd=ROOT)
        if rc != 0:
            return rc
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
