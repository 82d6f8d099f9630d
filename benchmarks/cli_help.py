"""Wall time of ``ilya --help``, ``ilya SYSTEM --help`` and ``ilya SYSTEM COMMAND --help`` (target < 0.5 s).

Each invocation is a fresh interpreter (what a user types), timed ``--repeats`` times; the median is
printed with the heavy modules (torch, ray, matplotlib) that the invocation imported (there should be none).
The peer is the bare interpreter start (``python -c pass``): the floor no command line can beat.

    .venv/bin/python benchmarks/cli_help.py --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

CODE = """
import sys
from ilya.cli import main
try:
    main({args!r})
except SystemExit:
    pass
print(",".join(m for m in ("torch", "ray", "matplotlib") if m in sys.modules), file=sys.stderr)
"""


def timed(argv: list[str], repeats: int) -> tuple[float, str]:
    times, heavy = [], ""
    for _ in range(repeats):
        t0 = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        heavy = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
    return statistics.median(times), heavy


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    from ilya import cli

    floor, _ = timed([sys.executable, "-c", "pass"], args.repeats)
    cases = [["--help"]]
    for system in cli.GROUPS:
        cmds = cli.commands(system)
        if cmds:
            cases.append([system, "--help"])
            cases += [[system, name, "--help"] for name in cmds]
    print(f"{'invocation':<40} {'median s':>9} {'x python':>9}  heavy imports")
    print(f"{'python -c pass (floor)':<40} {floor:9.3f} {1.0:9.2f}")
    worst = 0.0
    for case in cases:
        t, heavy = timed([sys.executable, "-c", CODE.format(args=case)], args.repeats)
        worst = max(worst, t)
        print(f"{'ilya ' + ' '.join(case):<40} {t:9.3f} {t / floor:9.2f}  {heavy or '-'}")
    print(f"slowest: {worst:.3f} s (target < 0.5 s); {len(cases)} invocations, {args.repeats} repeats each")


if __name__ == "__main__":
    main()
