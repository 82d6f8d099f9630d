"""How fast ``ilya report`` writes and Chromium loads the page with many runs; optionally a screenshot.

    .venv/bin/python benchmarks/report_pages.py --runs 200
    .venv/bin/python benchmarks/report_pages.py --runs-dir runs --screenshot docs/report.png   # a real page

Prints the generation seconds, the page size, and Chromium's DOMContentLoaded and load times.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


@dataclass
class _Cfg:
    run: str = ""
    seed: int = 0
    runs_dir: str = ""
    lr: float = 1e-3


def synthetic(root: Path, n: int) -> None:
    from ilya.core.runs import Run

    for i in range(n):
        run = Run.open("toy", _Cfg(run=f"r{i:03d}", seed=i, runs_dir=str(root)))
        for s in range(20):
            run.log(s, **{"train/loss": 1.0 / (s + 1), "valid/loss": 1.1 / (s + 1)})
        run.summary(loss=0.05 + i / 1e4, curve=list(range(100)))
        run.finish()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200, help="synthetic runs (ignored with --runs-dir)")
    ap.add_argument("--runs-dir", type=Path, default=None, help="report these runs instead")
    ap.add_argument("--screenshot", type=Path, default=None)
    args = ap.parse_args()
    from browser import chromium
    from ilya.cli import _systems
    from ilya.core.report import write_report

    root = args.runs_dir or Path(tempfile.mkdtemp(prefix="ilya-report-"))
    if args.runs_dir is None:
        synthetic(root, args.runs)
    t0 = time.perf_counter()
    out = write_report(root, root / "report.html", systems=_systems())
    gen = time.perf_counter() - t0
    with chromium(1400, 1000) as driver:
        driver.get(out.resolve().as_uri())
        timing = driver.execute_script(
            "const t = performance.timing; return [t.domContentLoadedEventEnd - t.navigationStart,"
            " t.loadEventEnd - t.navigationStart]")
        if args.screenshot:
            args.screenshot.parent.mkdir(parents=True, exist_ok=True)
            driver.set_window_size(1400, 2400)
            driver.save_screenshot(str(args.screenshot))
    print(f"runs: {len(list(root.glob('*/*/config.json')))}  page: {out.stat().st_size / 1024:.0f} KiB")
    print(f"write_report: {gen:.2f} s   chromium DOMContentLoaded: {timing[0]} ms   load: {timing[1]} ms")
    if args.screenshot:
        print(f"screenshot: {args.screenshot}")


if __name__ == "__main__":
    main()
