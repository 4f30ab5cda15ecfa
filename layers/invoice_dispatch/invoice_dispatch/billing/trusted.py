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

from typing import Any, TypeVar

from pydantic import BaseModel

ModelT = TypeVar("ModelT", bound=BaseModel)

_set_attribute = object.__setattr__
_FIELD_ORDER: dict[type[BaseModel], tuple[str, ...]] = {}


def _field_order(model: type[BaseModel]) -> tuple[str, ...]:
    order = _FIELD_ORDER.get(model)
    if order is None:
        order = _FIELD_ORDER[model] = tuple(model.model_fields)
    return order


def build_trusted(model: type[ModelT], values: dict[str, Any]) -> ModelT:
    """An instance of ``model`` holding ``values`` as they are (every field, in field order).

    The order matters: pydantic serializes and prints fields in ``__dict__`` order, so a
    trusted instance must be indistinguishable from a validated one. A missing, extra or
    misplaced field raises ``TypeError`` (a programming error, never bad customer data).
    """
    if tuple(values) != _field_order(model):
        raise TypeError(
            f"{model.__name__} needs exactly {_field_order(model)} in order, got {tuple(values)}"
        )
    instance = model.__new__(model)
    _set_attribute(instance, "__dict__", values)
    _set_attribute(instance, "__pydantic_fields_set__", set(values))
    _set_attribute(instance, "__pydantic_extra__", None)
    _set_attribute(instance, "__pydantic_private__", None)
    return instance
