#!/usr/bin/env python3
"""`warpsim kernel` against measured GEMM times (tests/data/gemm/llama2_vidur.csv).

    scripts/gemm_validation.py build/app/warpsim [--rows] [--select fastest]

Prints the mean absolute percentage error and the share of rows within 15% by GPU and M band
(--rows: every row too; --select: how `warpsim kernel` picks each GEMM's tile and split-K,
heuristic by default). Only the standard library.
"""
import csv
import json
import pathlib
import subprocess
import sys
from collections import defaultdict

GPUS = {"a100": "a100-sxm4-80gb", "h100": "h100-sxm"}


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    warpsim = argv[0]
    select = argv[argv.index("--select") + 1] if "--select" in argv else "heuristic"
    root = pathlib.Path(__file__).resolve().parent.parent
    rows = list(csv.DictReader(open(root / "tests/data/gemm/llama2_vidur.csv")))
    bands = defaultdict(list)
    for r in rows:
        out = subprocess.run([warpsim, "kernel", "--gpu", GPUS[r["gpu"]], "--op", "gemm",
                              "--m", r["m"], "--n", r["n"], "--k", r["k"], "--dtype", "fp16",
                              "--select", select, "--json"], capture_output=True, text=True, check=True).stdout
        sim = json.loads(out)["total_time_s"] * 1e3
        meas = float(r["time_ms"])
        err = (sim - meas) / meas
        m = int(r["m"])
        band = "1-64" if m <= 64 else ("128-512" if m <= 512 else "1024-4096")
        bands[(r["gpu"], band)].append(abs(err))
        if "--rows" in argv:
            print(f'{r["gpu"]} {r["model"]} tp{r["tp"]} {r["op"]:15s} M={m:5d} N={r["n"]:>6s} '
                  f'K={r["k"]:>6s}  measured {meas:.4f} ms  simulated {sim:.4f} ms  {err:+.0%}')
    print("| GPU | M | rows | MAPE | within 15% |\n|---|---|---:|---:|---:|")
    for (gpu, band), errs in sorted(bands.items()):
        within = sum(1 for e in errs if e <= 0.15)
        print(f"| {gpu} | {band} | {len(errs)} | {100 * sum(errs) / len(errs):.1f}% | "
              f"{within} |")
    allerr = [e for v in bands.values() for e in v]
    print(f"| all | | {len(allerr)} | {100 * sum(allerr) / len(allerr):.1f}% | "
          f"{sum(1 for e in allerr if e <= 0.15)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
