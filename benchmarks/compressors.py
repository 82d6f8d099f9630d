"""The standard compressors on the bytes a byte-level model is scored on: bits per byte of each.

Every compressor comes from Debian (gzip, xz-utils, zstd, p7zip-full, zpaq) and compresses exactly the
given bytes; bits/byte = 8 * compressed size / original size (container headers included, which is
what a user of the tool pays).  The corpora are those of the Sparse Transformer's headline
(docs/sparse.md): set.mm's test split (its last 5 %, as ilya.sparse splits it) and bytes 1-3 MB of
iset.mm, a database a set.mm model never saw.

    .venv/bin/python benchmarks/compressors.py                     # both corpora, every compressor
    .venv/bin/python benchmarks/compressors.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

DB = Path("/usr/share/metamath/databases")

# name -> command compressing IN to OUT ({i}, {o}); the file at {o} is what is measured
COMPRESSORS: dict[str, str] = {
    "gzip -9": "gzip -9 -c {i} > {o}",
    "xz -9e": "xz -9e -c {i} > {o}",
    "zstd --ultra -22 --long=27": "zstd -q --ultra -22 --long=27 -c {i} > {o}",
    "7z PPMd (order 32, 1 GB)": "7z a -bd -bso0 -bsp0 -m0=PPMd:o=32:mem=1g {o}.7z {i} && mv {o}.7z {o}",
    "zpaq -m5 (context mixing)": "zpaq a {o}.zpaq {i} -m5 >/dev/null 2>&1 && mv {o}.zpaq {o}",
}


def corpora() -> dict[str, bytes]:
    setmm = (DB / "set.mm").read_bytes()
    n = len(setmm)
    test = setmm[n - n // 20:]  # the last 5 % (train 90 %, valid 5 %, test 5 %, in order)
    iset = (DB / "iset.mm").read_bytes()[1_000_000:3_000_000]
    return {"set.mm test split": test, "iset.mm bytes 1-3 MB": iset}


def bits_per_byte(data: bytes, command: str) -> tuple[float, float, float]:
    """(bits/byte, wall seconds, CPU seconds of the compressor's processes) of compressing ``data``."""
    with tempfile.TemporaryDirectory() as d:
        src, dst = Path(d) / "in.bin", Path(d) / "out.bin"
        src.write_bytes(data)
        t0 = time.perf_counter()
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command.format(i=src, o=dst), shell=True, check=True)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        return 8.0 * dst.stat().st_size / len(data), time.perf_counter() - t0, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None, help="compressor names to run (default: all)")
    ap.add_argument("--json", type=Path, default=None, help="also write the table as JSON")
    args = ap.parse_args()
    data = corpora()
    table: dict[str, dict[str, float]] = {}
    print(f"{'compressor':<30}" + "".join(f"{c:>24}" for c in data))
    for name, cmd in COMPRESSORS.items():
        if args.only and name not in args.only:
            continue
        if not shutil.which(cmd.split()[0]):
            print(f"{name:<30} (not installed: apt-get install gzip xz-utils zstd p7zip-full zpaq)")
            continue
        row = {}
        for corpus, raw in data.items():
            bpb, _, _ = bits_per_byte(raw, cmd)
            row[corpus] = round(bpb, 4)
        table[name] = row
        print(f"{name:<30}" + "".join(f"{row[c]:>24.3f}" for c in data), flush=True)
    print("bytes: " + ", ".join(f"{c} {len(b):,}" for c, b in data.items()))
    if args.json:
        args.json.write_text(json.dumps(table, indent=2) + "\n")


if __name__ == "__main__":
    main()
