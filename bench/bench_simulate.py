"""`sikerja simulate` over a generated city month: time and peak memory.

Generates the demo city (15,000 ASN by default, deterministic by seed) into .cache/bench/
once, then times `run_simulation` + `render_json` and reports the peak RSS of the process.
Target (issue 6): under 60 s and under 2 GiB.

    uv run python -m bench.bench_simulate [--employees 15000] [--period 2026-10]
"""

from __future__ import annotations

import argparse
import platform
import resource
import time
from pathlib import Path

from services.shared.settings import REPO_ROOT
from sikerja_cli.demo_data import generate
from sikerja_cli.simulate import render_json, run_simulation


def _rows(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--employees", type=int, default=15_000)
    parser.add_argument("--opds", type=int, default=44)
    parser.add_argument("--period", default="2026-10")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    data = REPO_ROOT / ".cache" / "bench" / f"city-{args.employees}-{args.period}-{args.seed}"
    if not (data / "reports.csv").is_file():
        started = time.perf_counter()
        generate(data, args.employees, args.opds, args.period, args.seed)
        print(f"generated {data} in {time.perf_counter() - started:.1f} s")
    scans = _rows(data / "scans.csv")
    reports = _rows(data / "reports.csv")
    absences = _rows(data / "absences.csv")

    started = time.perf_counter()
    result = run_simulation(data, args.period)
    computed = time.perf_counter() - started
    text = render_json(result)
    total = time.perf_counter() - started
    # ru_maxrss is KiB on Linux
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = sum(len(s.lines) for s in result.statements)

    print(
        "| machine | ASN | scans | absences | reports | lines | simulate s | + json s "
        "| peak RSS MiB | JSON MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {platform.machine()} py{platform.python_version()} | {len(result.statements):,} "
        f"| {scans:,} | {absences:,} | {reports:,} | {lines:,} | {computed:.1f} | {total:.1f} "
        f"| {peak_mib:,.0f} | {len(text) / 2**20:.0f} |"
    )


if __name__ == "__main__":
    main()
