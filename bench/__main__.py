"""``make bench``: every benchmark, side by side with its baseline, printed and saved as JSON.

Each figure is measured in one run against a naive baseline or a peer and reported as a
ratio as well, because these shared machines are noisy: absolute numbers move, ratios
measured in the same run much less.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCHMARKS = {
    "engine": "bench.bench_engine",
    "rendering": "bench.bench_rendering",
    "finalize": "bench.bench_finalize",
    "erp": "bench.bench_erp",
    "numbering": "bench.bench_numbering",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "names", nargs="*", choices=[*BENCHMARKS, []], help="which benchmarks (default: all)"
    )
    parser.add_argument("--out", type=Path, default=Path("bench-results") / "latest.json")
    arguments = parser.parse_args(argv)
    results: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "machine": platform.machine(),
    }
    for name in arguments.names or list(BENCHMARKS):
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        figures = importlib.import_module(BENCHMARKS[name]).run_benchmark()
        figures["benchmark_seconds"] = round(time.perf_counter() - started, 1)
        for key, value in figures.items():
            print(f"   {key:<40} {value}")
        results[name] = figures
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nSaved {arguments.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
