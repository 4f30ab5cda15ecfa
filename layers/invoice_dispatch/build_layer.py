"""Build the DomainLayer's content into SAM's ``$ARTIFACTS_DIR`` (called by this folder's Makefile).

SAM runs the Makefile in a scratch copy of ``layers/invoice_dispatch/``, so everything the
layer holds comes from this folder or from PyPI: the ``invoice_dispatch`` package (with its
templates and the two DejaVu faces as package data) and the wheels in ``requirements.txt``
for the function's architecture. Lambda allows 250 MB unzipped for a function and all its
layers, and a plain ``pip install`` of the requirements is 161 MB, so the build leaves out:

* the AWS SDK the python3.12 runtime already provides (``RUNTIME_PROVIDED``). It would
  otherwise come in through aws-xray-sdk, and a layer's botocore shadowing the runtime's
  boto3 mixes two SDK releases in one process;
* babel's CLDR data for languages no invoice is written in (the account schema allows
  ``LAYER_LANGUAGES``); any other locale string already falls back to English;
* the ``holidays`` package's translations of holiday names (``holidays/locale``, 4.7 MB):
  the business-day schedule reads only the dates, and without the catalogs the package
  names holidays in their own language (it asks gettext with ``fallback``);
* C sources, and fontTools' compiled accelerators for code the invoice never runs (their
  pure-Python twins stay, so nothing can fail to import);
* bytecode compiled by the build machine's Python, which the runtime's Python would not
  use. When the runtime's interpreter is on the build machine, the layer is compiled with
  it instead, so a cold start does not compile the dependencies on the read-only ``/opt``.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNTIME_PYTHON = "3.12"
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}

#: Distributions Lambda's python3.12 runtime ships in /var/runtime (boto3 and its own
#: dependencies). The functions use the runtime's SDK; tools/package_smoke.py emulates it.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six")
#: The SDK release the smoke test stands in for /var/runtime: the oldest the project supports
#: (requirements-dev.txt); the runtime's own must be this or newer (README, Deploying).
RUNTIME_SDK = "boto3==1.40.0"
#: The languages ``customer.locale`` may take (``billing/account_schema.py``); babel keeps
#: these with every regional variant, plus ``root``, which all of them inherit from.
LAYER_LANGUAGES = ("en", "de", "fr")
#: fontTools accelerators the subsetter never imports; their ``.py`` sources stay.
UNUSED_ACCELERATORS = ("feaLib/lexer", "cu2qu/cu2qu", "qu2cu/qu2cu", "pens/momentsPen")
#: /opt is read-only and zip timestamps are not trusted: check nothing, the layer is immutable.
INVALIDATION_MODE = "unchecked-hash"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("artifacts_dir", type=Path)
    parser.add_argument("--architecture", choices=sorted(PLATFORMS), default="arm64")
    arguments = parser.parse_args()
    build_layer(arguments.artifacts_dir, arguments.architecture)


def build_layer(artifacts_dir: Path, architecture: str) -> None:
    site = artifacts_dir / "python"
    site.mkdir(parents=True, exist_ok=True)
    pip_install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile"]
    subprocess.run(
        [
            *pip_install,
            *("--upgrade", "--no-warn-conflicts", "--only-binary=:all:"),
            *("--platform", PLATFORMS[architecture], "--implementation", "cp"),
            *("--python-version", RUNTIME_PYTHON, "--target", str(site)),
            *("-r", str(HERE / "requirements.txt")),
        ],
        check=True,
    )
    for distribution in RUNTIME_PROVIDED:
        remove_distribution(site, distribution)
    keep_babel_languages(site / "babel" / "locale-data", LAYER_LANGUAGES)
    shutil.rmtree(site / "holidays" / "locale", ignore_errors=True)
    drop_unused_native_code(site)
    shutil.copytree(
        HERE / "invoice_dispatch",
        site / "invoice_dispatch",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        dirs_exist_ok=True,
    )
    compile_for_runtime(site)


def remove_distribution(site: Path, distribution: str) -> None:
    """Delete every file an installed distribution's RECORD lists, then its metadata."""
    normalized = distribution.replace("-", "_").lower()
    for dist_info in site.glob("*.dist-info"):
        if dist_info.name.split("-", 1)[0].lower() != normalized:
            continue
        with (dist_info / "RECORD").open(newline="") as record:
            for row in csv.reader(record):
                (site / row[0]).unlink(missing_ok=True)
        shutil.rmtree(dist_info)
    _remove_empty_directories(site)


def keep_babel_languages(locale_data: Path, languages: tuple[str, ...]) -> None:
    """Keep ``root`` and each language with its regional variants (``de``, ``de_AT``, ...)."""
    for data_file in locale_data.glob("*.dat"):
        language = data_file.stem.split("_", 1)[0]
        if data_file.stem != "root" and language not in languages:
            data_file.unlink()


def drop_unused_native_code(site: Path) -> None:
    for source in site.rglob("*.c"):
        source.unlink()
    for accelerator in UNUSED_ACCELERATORS:
        for extension in (site / "fontTools").glob(f"{accelerator}.*.so"):
            extension.unlink()
    for cache in list(site.rglob("__pycache__")):
        shutil.rmtree(cache)


def compile_for_runtime(site: Path) -> None:
    """Bytecode for the runtime's Python, hash-checked so the zip's timestamps don't matter."""
    runtime_python = find_runtime_python()
    if runtime_python is None:
        print(f"python{RUNTIME_PYTHON} not found: the layer ships without bytecode")
        return
    subprocess.run(
        [
            *(runtime_python, "-m", "compileall", "-q", "-j", "0"),
            *(f"--invalidation-mode={INVALIDATION_MODE}", str(site)),
        ],
        check=True,
    )


def find_runtime_python() -> str | None:
    """A working ``python3.12``: ``$LAYER_RUNTIME_PYTHON``, on ``PATH``, or a pyenv version.

    A pyenv shim is on ``PATH`` even when its version is not selected, and then fails, so
    each candidate is run once before it is trusted.
    """
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [
        os.environ.get("LAYER_RUNTIME_PYTHON"),
        shutil.which(f"python{RUNTIME_PYTHON}"),
        *sorted(str(path) for path in pyenv_root.glob(f"versions/{RUNTIME_PYTHON}.*/bin/python3")),
    ]
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "pass"], capture_output=True, check=False)
        if probe.returncode == 0:
            return candidate
    return None


def _remove_empty_directories(root: Path) -> None:
    for directory in sorted(root.rglob("*"), key=lambda path: len(path.parts), reverse=True):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()


if __name__ == "__main__":
    main()
