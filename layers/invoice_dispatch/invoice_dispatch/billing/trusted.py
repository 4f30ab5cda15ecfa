"""Invoice models built from values the engine computed itself, without validating again.

Why: a draft is made of about eight pydantic models (lines, customer, tax subtotal,
invoice). Validating them costs ~20 us per draft in pydantic 2.14, half of the 40 us that
issue 5's 25,000 drafts/s allows, and proves nothing: every value comes from an account
validated at screening, the catalog, or ``Decimal`` arithmetic. ``model_construct`` skips
validation too but is slower still (it walks the fields in Python: ~8 us per line against
~3 us to validate and ~1 us here).

The guard that replaces validation is a test: ``tests/unit/billing`` rebuilds every draft
through ``Invoice.model_validate`` and requires an identical result, so a value of the
wrong type or a missing field fails the build instead of reaching a customer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

ModelT = TypeVar("ModelT", bound=BaseModel)

_set_attribute = object.__setattr__
_FIELD_ORDER: dict[type[BaseModel], tuple[str, ...]] = {}
#: BaseModel's own slot setters: calling them directly skips the frozen ``__setattr__``
#: and the attribute lookup of ``object.__setattr__`` (same effect, a third cheaper).
_SLOT_SETTERS: dict[str, Callable[[Any, Any], None]] = {
    "_set_dict": BaseModel.__dict__["__dict__"].__set__,
    "_set_fields_set": BaseModel.__dict__["__pydantic_fields_set__"].__set__,
    "_set_extra": BaseModel.__dict__["__pydantic_extra__"].__set__,
    "_set_private": BaseModel.__dict__["__pydantic_private__"].__set__,
}


def _field_order(model: type[BaseModel]) -> tuple[str, ...]:
    order = _FIELD_ORDER.get(model)
    if order is None:
        order = _FIELD_ORDER[model] = tuple(model.model_fields)
    return order


def trusted_factory(model: type[ModelT]) -> Callable[..., ModelT]:
    """A keyword-only constructor of ``model`` that skips validation, for engine output.

    The instance holds every field, in field order: pydantic serializes and prints fields
    in ``__dict__`` order, so it is indistinguishable from a validated one (the tests
    re-validate every draft to prove it).

    Why generated code: a draft builds about eight models, and checking a dict's keys
    against the field order on each of them costs as much as building it. A function whose
    parameters are the fields (the technique ``dataclasses`` uses) gets the same guarantees
    from Python itself: a missing or unknown field raises ``TypeError`` at the call, and the
    ``__dict__`` literal is written in field order once, here.
    """
    fields = _field_order(model)
    if not all(name.isidentifier() for name in fields):
        raise TypeError(f"{model.__name__} has a field that is not an identifier")
    parameters = ", ".join(fields)
    entries = ", ".join(f"{name!r}: {name}" for name in fields)
    source = (
        f"def build_{model.__name__}(*, {parameters}):\n"
        "    instance = _new(_model)\n"
        f"    _set_dict(instance, {{{entries}}})\n"
        "    _set_fields_set(instance, _fields_set.copy())\n"
        "    _set_extra(instance, None)\n"
        "    _set_private(instance, None)\n"
        "    return instance\n"
    )
    namespace: dict[str, Any] = {"_new": model.__new__, "_model": model, "_fields_set": set(fields)}
    namespace.update(_SLOT_SETTERS)
    exec(source, namespace)
    return namespace[f"build_{model.__name__}"]
