"""Smoke test of what ``sam build`` produced: the artifact Lambda would run, not the repository.

``make package`` runs it on an x86_64 build (arm64 wheels cannot be imported on the build
machines) and checks the default arm64 build's layer for architecture and size:

* the layer is at most ``--budget-mb`` unzipped (Lambda allows 250 MB for a function and
  all its layers) and every native library in it is built for ``--architecture``;
* every function's handler imports in a fresh runtime interpreter that sees only its own
  folder, the built layer and the runtime's SDK (``tools/package_probe.py``);
* the finalize function draws one invoice to a PDF, with the fonts and templates found
  where the template's ``INVOICE_FONT_DIR`` and ``TEMPLATES_DIR`` say the layer puts them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from build_layer import RUNTIME_SDK, find_runtime_python
from cfnlint.decode import cfn_yaml

from invoice_dispatch.billing.account_schema import CustomerInfo

REPOSITORY = Path(__file__).resolve().parent.parent
TEMPLATE = REPOSITORY / "infra" / "template.yaml"
PROBE = Path(__file__).resolve().parent / "package_probe.py"
LAYER = "DomainLayer"
#: The function whose built code draws the invoice PDF.
RENDERING_FUNCTION = "FinalizeInvoicesFunction"
#: Where Lambda mounts a layer: the template's paths under it are mapped into the build.
LAYER_MOUNT = "/opt/"
#: ELF ``e_machine`` of each architecture (System V ABI supplements).
ELF_MACHINES = {"x86_64": 62, "arm64": 183}


@dataclass(frozen=True)
class LayerReport:
    total_bytes: int
    bytes_by_package: dict[str, int]
    foreign_libraries: list[str]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, required=True)
    parser.add_argument("--architecture", choices=sorted(ELF_MACHINES), required=True)
    parser.add_argument("--budget-mb", type=float, default=80)
    parser.add_argument("--layer-only", action="store_true", help="check size and architecture")
    arguments = parser.parse_args()
    problems = check_layer(arguments.build_dir, arguments.architecture, arguments.budget_mb)
    if not arguments.layer_only:
        problems += check_functions(arguments.build_dir)
    for problem in problems:
        print(f"FAIL {problem}")
    if problems:
        sys.exit(1)
    print(f"smoke test of {arguments.build_dir} ({arguments.architecture}): ok")


def check_layer(build_dir: Path, architecture: str, budget_mb: float) -> list[str]:
    report = measure_layer(build_dir / LAYER, ELF_MACHINES[architecture])
    print(f"{LAYER} unzipped: {report.total_bytes / 1e6:.1f} MB (budget {budget_mb:.0f} MB)")
    for package, size in sorted(report.bytes_by_package.items(), key=lambda item: -item[1])[:15]:
        print(f"  {size / 1e6:6.2f} MB  {package}")
    problems = [f"{path} is not built for {architecture}" for path in report.foreign_libraries]
    if report.total_bytes > budget_mb * 1e6:
        problems.append(f"{LAYER} is {report.total_bytes / 1e6:.1f} MB, over {budget_mb} MB")
    return problems


def measure_layer(layer_dir: Path, elf_machine: int) -> LayerReport:
    """Sizes as Lambda counts them (bytes of every file), per top-level package of python/."""
    site = layer_dir / "python"
    by_package: dict[str, int] = {}
    foreign = []
    for path in layer_dir.rglob("*"):
        if not path.is_file():
            continue
        size = path.stat().st_size
        top = path.relative_to(site).parts[0] if path.is_relative_to(site) else path.name
        package = top.split("-")[0].removesuffix(".py")
        by_package[package] = by_package.get(package, 0) + size
        if ".so" in path.suffixes and _elf_machine(path) != elf_machine:
            foreign.append(str(path.relative_to(layer_dir)))
    return LayerReport(sum(by_package.values()), by_package, foreign)


def _elf_machine(path: Path) -> int:
    with path.open("rb") as library:
        header = library.read(20)
    return int.from_bytes(header[18:20], "little")


def check_functions(build_dir: Path) -> list[str]:
    runtime_python = find_runtime_python()
    if runtime_python is None:
        return ["no working python3.12 (the runtime's Python) to import the functions with"]
    runtime_sdk = install_runtime_sdk(build_dir.parent / "runtime-sdk")
    template = cfn_yaml.load(str(TEMPLATE))
    globals_ = template["Globals"]["Function"]
    environment = lambda_environment(globals_, build_dir / LAYER)
    functions = {
        name: resource["Properties"].get("Handler", globals_["Handler"])
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    locales = list(get_args(CustomerInfo.model_fields["locale"].annotation))

    def probe(name: str) -> list[str]:
        spec = {
            "function_dir": str((build_dir / name).resolve()),
            "layer_site": str((build_dir / LAYER / "python").resolve()),
            "runtime_sdk": str(runtime_sdk.resolve()),
            "handler": functions[name],
            "render": name == RENDERING_FUNCTION,
            "locales": locales,
        }
        return probe_problems(name, run_probe(runtime_python, spec, environment), environment)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return [problem for problems in pool.map(probe, sorted(functions)) for problem in problems]


def install_runtime_sdk(target: Path) -> Path:
    """The runtime's SDK in its own folder, standing in for /var/runtime (installed once)."""
    marker = target / f".{RUNTIME_SDK}"
    if not marker.exists():
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "install", "--quiet", "--no-compile"),
                *("--upgrade", "--no-warn-conflicts", "--target", str(target), RUNTIME_SDK),
            ],
            check=True,
        )
        marker.touch()
    return target


def lambda_environment(globals_: dict[str, Any], layer_dir: Path) -> dict[str, str]:
    """What Lambda sets, plus the template's layer paths mapped from /opt into the build."""
    environment = {
        "AWS_REGION": "eu-central-1",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_LAMBDA_FUNCTION_NAME": "package-smoke",
        "POWERTOOLS_SERVICE_NAME": "package-smoke",
    }
    for name, value in globals_["Environment"]["Variables"].items():
        if isinstance(value, str) and value.startswith(LAYER_MOUNT):
            environment[name] = str(layer_dir.resolve() / value.removeprefix(LAYER_MOUNT))
    return environment


def run_probe(runtime_python: str, spec: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    completed = subprocess.run(
        [runtime_python, "-I", "-S", str(PROBE), json.dumps(spec)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **env},
        check=False,
    )
    if completed.returncode != 0:
        return {"error": completed.stderr.strip().splitlines()[-1:] or ["no output"]}
    return dict(json.loads(completed.stdout.splitlines()[-1]))


def probe_problems(name: str, report: dict[str, Any], env: dict[str, str]) -> list[str]:
    if "error" in report:
        return [f"{name}: {report['error'][0]}"]
    problems = [f"{name}: handler is not callable"] if not report["handler"] else []
    if report["outside"]:
        problems.append(f"{name}: imported from outside the build: {report['outside']}")
    if "pdf_bytes" in report:
        print(
            f"{name}: rendered a {report['pdf_bytes']:,}-byte PDF and the e-mail "
            f"{report['email_subject']!r} with templates from {report['templates_dir']}"
        )
        expected = {
            "pdf_header": "%PDF-",
            "pdf_has_factur_x": True,
            "templates_dir": env["TEMPLATES_DIR"],
            "font_dir": env["INVOICE_FONT_DIR"],
            "missing_locales": [],
        }
        problems += [
            f"{name}: {key} is {report[key]!r}, expected {value!r}"
            for key, value in expected.items()
            if report[key] != value
        ]
    return problems


if __name__ == "__main__":
    main()
