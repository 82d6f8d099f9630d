"""Forward+backward time and peak memory: dense masked SDPA vs strided vs fixed sparse attention.

    .venv/bin/python benchmarks/sparse_attention.py                  # CPU: n = 1k, 2k, 4k, 8k
    .venv/bin/python benchmarks/sparse_attention.py --device cuda --ns 1024 2048 4096 8192 16384 32768

Every (attention, n) runs in a fresh subprocess. Peak memory on CPU: after a small warm-up call and once
the inputs (and, for dense masked SDPA, the boolean mask) exist, the kernel's RSS high-water mark is reset
(``echo 5 > /proc/self/clear_refs``, after ``malloc_trim(0)`` returned freed heap pages to the kernel, so
reused heap memory cannot hide a peak), one forward+backward runs, and the peak is ``VmHWM`` minus the
``VmRSS`` before it: the resident memory the attention itself needed at its peak (activations kept for
backward, scores, gradients, allocator slack). On CUDA it is ``torch.cuda.max_memory_allocated`` over
the same call. Time is the median of ``--repeats`` calls, in process CPU seconds by default on CPU (with one
thread this is what the call costs even when other work shares the machine; wall seconds are kept too).

Rows: ``dense`` = SDPA with the (n, n) boolean strided mask (what a dense implementation of the pattern
costs), ``dense-causal`` = SDPA with ``is_causal=True`` (no mask; FlashAttention-style kernels), and our
``strided`` / ``fixed`` (blocked O(n·√n) on CPU, FlexAttention on CUDA).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _status_kib() -> dict[str, int]:
    rows = Path("/proc/self/status").read_text().splitlines()
    return {r.split(":")[0]: int(r.split()[1]) for r in rows if r.startswith(("VmRSS", "VmHWM"))}


def child(attn: str, n: int, heads: int, d: int, l: int, c: int, repeats: int, device: str, threads: int,  # noqa: E741
          clock: str = "cpu") -> dict:
    import resource

    import torch
    import torch.nn.functional as F

    import ilya.sparse as sp

    torch.set_num_threads(threads)
    dev = torch.device(device)
    torch.manual_seed(0)

    def make(n_: int):
        q, k, v = (torch.randn(1, heads, n_, d, device=dev, requires_grad=True) for _ in range(3))
        g = torch.randn(1, heads, n_, d, device=dev)
        mask = sp.pattern_mask("strided", n_, l, device=dev) if attn == "dense" else None
        return q, k, v, g, mask

    def call(q, k, v, g, mask):
        if attn == "dense":
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        elif attn == "dense-causal":
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            out = sp.attention(q, k, v, attn, l, c if attn == "fixed" else None)
        out.backward(g)
        q.grad = k.grad = v.grad = None

    call(*make(min(n, 2 * l)))                   # warm-up: kernels, thread pools, compilation
    args = make(n)
    if dev.type == "cuda":
        call(*args)                              # compile at this size too
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        call(*args)
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - base
    else:
        try:  # reset the kernel's RSS high-water mark (Linux >= 4.0), then peak = VmHWM - VmRSS before
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)    # give freed heap back, so reuse cannot hide a peak
            Path("/proc/self/clear_refs").write_text("5")
            before = _status_kib()["VmRSS"]
            call(*args)
            peak = (_status_kib()["VmHWM"] - before) * 1024
        except OSError:  # no /proc: the process high-water mark (includes earlier peaks)
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            call(*args)
            peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
    walls, cpus = [], []
    for _ in range(repeats):
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t, c0 = time.perf_counter(), time.process_time()
        call(*args)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c0)
    walls.sort()
    cpus.sort()
    wall, cpu = walls[len(walls) // 2], cpus[len(cpus) // 2]
    # on a shared CPU the process's CPU seconds (one thread) are what the kernel costs; on CUDA, wall time
    t = cpu if (dev.type == "cpu" and clock == "cpu") else wall
    return {"attn": attn, "n": n, "time_s": t, "wall_s": wall, "cpu_s": cpu, "peak_mib": peak / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ns", type=int, nargs="+", default=[1024, 2048, 4096, 8192])
    ap.add_argument("--attns", nargs="+", default=["dense", "dense-causal", "strided", "fixed"])
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--l", type=int, default=128, help="stride / block length (the paper's 128)")
    ap.add_argument("--c", type=int, default=8, help="fixed pattern: summary positions per block")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--clock", choices=["cpu", "wall"], default="cpu",
                    help="CPU time: process CPU seconds (fair on a shared machine with --threads 1), or wall")
    ap.add_argument("--json-out", type=Path, default=ROOT / "benchmarks" / "results" / "sparse_attention.json")
    ap.add_argument("--plot", type=Path, default=ROOT / "docs" / "img" / "sparse_attention_scaling.png")
    ap.add_argument("--child", nargs=2, metavar=("ATTN", "N"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child[0], int(a.child[1]), a.heads, a.d, a.l, a.c, a.repeats, a.device,
                               a.threads, a.clock)))
        return
    rows = []
    print(f"device {a.device}, batch 1, heads {a.heads}, d {a.d}, l {a.l}, c {a.c}, {a.threads} thread(s), "
          f"median of {a.repeats}, {a.clock} clock", flush=True)
    for n in a.ns:
        for attn in a.attns:
            cmd = [sys.executable, __file__, "--child", attn, str(n), "--heads", str(a.heads), "--d", str(a.d),
                   "--l", str(a.l), "--c", str(a.c), "--repeats", str(a.repeats), "--device", a.device,
                   "--threads", str(a.threads), "--clock", a.clock]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{attn} n={n}: failed: {r.stderr.strip().splitlines()[-1:]}", flush=True)
                continue
            row = json.loads(r.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(f"n={n:6d} {attn:13s} {row['time_s'] * 1e3:10.1f} ms {row['peak_mib']:10.1f} MiB", flush=True)
    print("\n| n | attention | fwd+bwd ms | peak MiB | dense/this time | dense/this memory |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        dense = next((r for r in rows if r["n"] == row["n"] and r["attn"] == "dense"), None)
        tr = f"{dense['time_s'] / row['time_s']:.2f}x" if dense else "-"
        mr = f"{dense['peak_mib'] / max(row['peak_mib'], 1e-9):.2f}x" if dense else "-"
        row["speedup_vs_dense"] = dense["time_s"] / row["time_s"] if dense else None
        row["memory_ratio_vs_dense"] = dense["peak_mib"] / max(row["peak_mib"], 1e-9) if dense else None
        print(f"| {row['n']} | {row['attn']} | {row['time_s'] * 1e3:.1f} | {row['peak_mib']:.1f} | {tr} | {mr} |")
    a.json_out.parent.mkdir(parents=True, exist_ok=True)
    a.json_out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(a).items()}, "rows": rows}, indent=1))
    sys.path.insert(0, str(ROOT / "src"))
    from ilya.sparse.plots import plot_scaling

    print(f"\n{a.json_out}\n{plot_scaling(rows, a.plot)}")


if __name__ == "__main__":
    main()
