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
#: Run only when named (``make bench ARGS=scale``): whole local runs that take minutes.
ON_DEMAND = {
    "scale": "bench.bench_scale",
}


def print_figures(figures: dict[str, Any], indent: str = "   ") -> None:
    for key, value in figures.items():
        if isinstance(value, dict) and value:
            print(f"{indent}{key}")
            print_figures(value, indent + "  ")
        else:
            print(f"{indent}{key:<40} {value}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "names",
        nargs="*",
        choices=[*BENCHMARKS, *ON_DEMAND, []],
        help=f"which benchmarks (default: all but {', '.join(ON_DEMAND)})",
    )
    parser.add_argument("--out", type=Path, default=Path("bench-results") / "latest.json")
    parser.add_argument(
        "--accounts-count",
        type=int,
        metavar="N",
        help="scale: one run of N accounts instead of 1,000 and 10,000",
    )
    arguments = parser.parse_args(argv)
    results: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "machine": platform.machine(),
    }
    for name in arguments.names or list(BENCHMARKS):
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        options = {}
        if name == "scale" and arguments.accounts_count:
            options["counts"] = (arguments.accounts_count,)
        module = importlib.import_module({**BENCHMARKS, **ON_DEMAND}[name])
        figures = module.run_benchmark(**options)
        figures["benchmark_seconds"] = round(time.perf_counter() - started, 1)
        print_figures(figures)
        results[name] = figures
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nSaved {arguments.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
