"""`sikerja simulate` over a generated city month: time and peak memory.

Generates the demo city (15,000 ASN by default, deterministic by seed) into .cache/bench/
once, then times `run_simulation` + `render_json` and reports the peak RSS of the process.
Target (issue 6): under 60 s and under 2 GiB; with employment periods (issue 14: e.g.
`--changes 0.1`, a tenth of the ASN transferred, joining, leaving, with a new pagu or a
gap within the month) under 10 s, also with annulments (`--opd-annulments 5
--nip-annulments 200`: OPD-wide outage days and annulments by NIP in annulments.csv).

    uv run python -m bench.bench_simulate [--employees 15000] [--period 2026-10] [--changes 0.1]
        [--opd-annulments 5] [--nip-annulments 200]
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
    parser.add_argument("--changes", type=float, default=0.0, help="share changing in the month")
    parser.add_argument("--opd-annulments", type=int, default=0, help="OPD-wide annulled days")
    parser.add_argument("--nip-annulments", type=int, default=0, help="annulments by NIP")
    args = parser.parse_args()

    name = f"city-{args.employees}-{args.period}-{args.seed}"
    if args.changes:
        name += f"-changes{args.changes:g}"
    if args.opd_annulments or args.nip_annulments:
        name += f"-annul{args.opd_annulments}-{args.nip_annulments}"
    data = REPO_ROOT / ".cache" / "bench" / name
    if not (data / "reports.csv").is_file():
        started = time.perf_counter()
        generate(
            data, args.employees, args.opds, args.period, args.seed, changes=args.changes,
            opd_annulments=args.opd_annulments, nip_annulments=args.nip_annulments,
        )  # fmt: skip
        print(f"generated {data} in {time.perf_counter() - started:.1f} s")
    scans = _rows(data / "scans.csv")
    reports = _rows(data / "reports.csv")
    absences = _rows(data / "absences.csv")
    periods = _rows(data / "employees.csv")
    annulments = _rows(data / "annulments.csv") if (data / "annulments.csv").is_file() else 0

    started, cpu_started = time.perf_counter(), time.process_time()
    result = run_simulation(data, args.period)
    computed = time.perf_counter() - started
    # CPU seconds of the run: on a shared machine the wall clock also counts waiting
    cpu = time.process_time() - cpu_started
    text = render_json(result)
    total = time.perf_counter() - started
    # ru_maxrss is KiB on Linux
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = sum(len(s.lines) for s in result.statements)
    annulled = sum(ln.annulled_amount is not None for s in result.statements for ln in s.lines)
    assert not result.rejected_inputs, result.rejected_inputs[:3]

    print(
        "| machine | ASN | period rows | scans | absences | reports | annulments "
        "| lines (annulled) | simulate s | simulate CPU s | + json s | peak RSS MiB | JSON MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {platform.machine()} py{platform.python_version()} | {len(result.statements):,} "
        f"| {periods:,} "
        f"| {scans:,} | {absences:,} | {reports:,} | {annulments:,} | {lines:,} ({annulled:,}) "
        f"| {computed:.1f} | {cpu:.1f} | {total:.1f} "
        f"| {peak_mib:,.0f} | {len(text) / 2**20:.0f} |"
    )


if __name__ == "__main__":
    main()
