#!/usr/bin/env python3
"""Figures of the Python package (run inside a private network namespace):

    cargo build --release --example job_latency          # the Rust-only figure of the same run
    ../shared/oracles/netns-run python3 python/bench.py [--jobs 2000] [--rounds 3]

1. Job round trip, zero work, 64-byte job, one after the other: a Python MainNode and a Python
   ComputingNode in this process (`lambda job: job`), against the Rust example job_latency
   (Rust main + Rust computing node in one process, same job, same counts), alternated
   `--rounds` times so both see the same machine load.
2. Pipelined jobs/s from Python: 5 x `--jobs` jobs submitted at once, solutions read with
   next_solution(), a Python computing node (zero work) with one worker, and with four
   (`run(fn, concurrency=4)`); against `amlip demo --delay 0` with as many Rust computing
   nodes (`cargo build --release`).
"""

import argparse
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from amlip import ComputingNode, MainNode

REPO = Path(__file__).resolve().parents[1]
JOB = bytes(range(64))
WARM_UP = 100


def serve(domain, concurrency=1):
    comp = ComputingNode("BenchComputing", domain=domain)
    t = threading.Thread(target=comp.run, args=(lambda job: job, concurrency), daemon=True)
    t.start()
    return comp, t


def python_round_trip(jobs, domain):
    comp, t = serve(domain)
    main = MainNode("BenchMain", domain=domain)
    for _ in range(WARM_UP):
        main.request_job_solution(JOB, timeout=10)
    us = []
    for _ in range(jobs):
        t0 = time.perf_counter()
        main.request_job_solution(JOB, timeout=10)
        us.append((time.perf_counter() - t0) * 1e6)
    main.close()
    comp.stop()
    t.join()
    comp.close()
    us.sort()
    return us[len(us) // 2], us[int((len(us) - 1) * 0.9)], us[int((len(us) - 1) * 0.99)]


def python_pipelined(jobs, domain, concurrency):
    comp, t = serve(domain, concurrency)
    main = MainNode("BenchMain", domain=domain)
    for _ in range(WARM_UP):
        main.request_job_solution(JOB, timeout=10)
    t0 = time.perf_counter()
    for _ in range(jobs):
        main.submit(JOB)
    for _ in range(jobs):
        main.next_solution(timeout=30)
    rate = jobs / (time.perf_counter() - t0)
    main.close()
    comp.stop()
    t.join()
    comp.close()
    return rate


def rust_round_trip(jobs, domain):
    exe = REPO / "target" / "release" / "examples" / "job_latency"
    if not exe.exists():
        return None
    out = subprocess.run([str(exe), str(jobs), "1", str(domain)], capture_output=True, text=True,
                         timeout=600).stdout
    m = re.search(r"p50 ([\d.]+) p90 ([\d.]+) p99 ([\d.]+)", out)
    return tuple(float(x) for x in m.groups()) if m else None


def rust_pipelined(jobs, domain, computing):
    """`amlip demo --delay 0`: Rust main + Rust computing nodes in one process (its throughput
    counts from the nodes' start: discovery included, no warm-up)."""
    exe = REPO / "target" / "release" / "amlip"
    if not exe.exists():
        return None
    out = subprocess.run([str(exe), "demo", "--computing", str(computing), "--jobs", str(jobs),
                          "--delay", "0", "--domain", str(domain)],
                         capture_output=True, text=True, timeout=600).stdout
    m = re.search(r"throughput\s+([\d.]+) jobs/s", out)
    return float(m.group(1)) if m else None


def main():
    p = argparse.ArgumentParser(description="figures of the amlip Python package")
    p.add_argument("--jobs", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    domain = 150
    py50, rs50 = [], []
    for r in range(args.rounds):
        rs = rust_round_trip(args.jobs, domain)
        domain += 1
        py = python_round_trip(args.jobs, domain)
        domain += 1
        py50.append(py[0])
        line = f"round {r + 1}: python p50 {py[0]:.1f} p90 {py[1]:.1f} p99 {py[2]:.1f} us"
        if rs:
            rs50.append(rs[0])
            line += f" | rust p50 {rs[0]:.1f} p90 {rs[1]:.1f} p99 {rs[2]:.1f} us"
            line += f" | ratio p50 {py[0] / rs[0]:.2f}x"
        print(line, flush=True)
    summary = f"round trip p50 (median of {args.rounds}): python {statistics.median(py50):.1f} us"
    if rs50:
        summary += (f", rust {statistics.median(rs50):.1f} us, ratio "
                    f"{statistics.median(py50) / statistics.median(rs50):.2f}x")
    else:
        summary += " (rust figure: build target/release/examples/job_latency)"
    print(summary)
    for concurrency in (1, 4):
        rates, rust = [], []
        for _ in range(args.rounds):
            rates.append(python_pipelined(args.jobs * 5, domain, concurrency))
            domain += 1
            r = rust_pipelined(args.jobs * 5, domain, concurrency)
            domain += 1
            if r:
                rust.append(r)
        line = (f"pipelined, {concurrency} computing: python {statistics.median(rates):.0f} jobs/s "
                f"({', '.join(f'{r:.0f}' for r in rates)})")
        if rust:
            line += (f", rust `amlip demo` {statistics.median(rust):.0f} jobs/s "
                     f"({', '.join(f'{r:.0f}' for r in rust)})")
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
