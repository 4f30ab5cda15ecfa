"""Runs inside a bare runtime interpreter, as Lambda would start one function of the build.

``tools/package_smoke.py`` starts it as ``python3.12 -I -S package_probe.py SPEC`` so that
nothing of the build machine's site-packages or the repository is importable: ``sys.path``
is the function's own folder (``/var/task``), the built layer's ``python/`` (``/opt/python``)
and a stand-in for the runtime's SDK (``/var/runtime``), in Lambda's order. It imports the
handler and, for the function that renders, draws one invoice and its e-mail. It prints
one JSON line; only the standard library is imported before ``sys.path`` is set.
"""

from __future__ import annotations

import importlib
import json
import sys
import sysconfig

#: Top-level modules of the SDK Lambda's runtime provides (``/var/runtime``).
RUNTIME_SDK = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six"})


def main(spec: dict[str, object]) -> dict[str, object]:
    sys.path[:0] = [str(spec["function_dir"]), str(spec["layer_site"]), str(spec["runtime_sdk"])]
    module_name, handler_name = str(spec["handler"]).rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), handler_name)
    report: dict[str, object] = {
        "handler": callable(handler),
        "outside": _modules_outside([str(spec[key]) for key in ("function_dir", "layer_site")]),
    }
    if spec["render"]:
        report.update(_render_one_invoice(spec["locales"]))  # type: ignore[arg-type]
    return report


def _modules_outside(allowed_roots: list[str]) -> list[str]:
    """Modules loaded from anywhere but the standard library, the function and the layer.

    The runtime's SDK is the one exception, as in Lambda's ``/var/runtime``.
    """
    roots = (sysconfig.get_paths()["stdlib"], *allowed_roots)
    outside = []
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if name == "__main__" or not origin or origin.startswith(roots):
            continue
        if name.split(".")[0] not in RUNTIME_SDK:
            outside.append(name)
    return sorted(outside)


def _render_one_invoice(locales: list[str]) -> dict[str, object]:
    from babel import localedata

    from invoice_dispatch.legal_entity import load_legal_entity
    from invoice_dispatch.rendering import InvoiceRenderer, render_invoice_email, templates_dir
    from invoice_dispatch.rendering.pdf_fonts import _font_directory
    from invoice_dispatch.rendering.preview import sample_invoice

    legal_entity = load_legal_entity()
    invoice = sample_invoice(customer_name="Αθηνά Παπαδοπούλου GmbH")
    pdf = InvoiceRenderer(legal_entity).render_pdf(invoice)
    email = render_invoice_email(invoice, legal_entity)
    return {
        "pdf_bytes": len(pdf),
        "pdf_header": pdf[:5].decode("ascii"),
        "pdf_has_factur_x": b"factur-x.xml" in pdf,
        "email_subject": email.subject,
        "templates_dir": str(templates_dir()),
        "font_dir": str(_font_directory()),
        "missing_locales": [locale for locale in locales if not localedata.exists(locale)],
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
