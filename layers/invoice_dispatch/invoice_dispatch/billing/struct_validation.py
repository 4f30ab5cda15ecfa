"""A fast path for validating raw records, with pydantic schemas as the reference.

Why: validating an account through eight nested pydantic models cost ~13 us of the ~40 us
per account that issue 5's 25,000 drafts/s allows; ``msgspec.convert`` reads the same raw
dict into ``msgspec.Struct`` records in ~3.5 us. But pydantic stays the one place that says
what is valid and how an error is worded (the quarantine sentence). So the records only
declare shapes and types, and everything else is taken from the schema:

* the constraints (``ge``, ``gt``, ``le``, ``lt``, ``min_length``, ``max_length``, anchored
  ``pattern``) and the ``field_validator`` functions of each schema field are compiled into
  one check function per record type (``derive_checks``), run after the conversion;
* a raw record the fast path declines is validated by the schema, which either raises the
  ``ValidationError`` the quarantine sentence is made of, or accepts it; an accepted model
  is then copied into records (``record_from_model``).

The fast path is deliberately conservative: ``msgspec.convert(..., strict=True)`` takes
only what JSON itself would hold (a string for a ``Decimal`` or a date, a number, a bool),
where msgspec's lax mode reads more than pydantic (``"1e3"`` as an int, ``"-0"`` as a
bool). So it declines some records the schema accepts (a timestamp where a date is usual,
``"yes"`` for a boolean, ``"5"`` for an int), which only costs time, but it must never
accept what the schema refuses nor read a value differently.
``tests/unit/billing/test_billing_fast_validation.py`` checks that with generated records.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar, Union, get_args, get_origin

import annotated_types
import msgspec
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

#: Where a record type takes its constraints and wording from: record type -> schema model.
SchemaMap = Mapping[type[msgspec.Struct], type[BaseModel]]
RecordT = TypeVar("RecordT", bound=msgspec.Struct)

_PLAIN_CONFIG = {"extra": "forbid", "frozen": True}
_BOUNDS = {
    annotated_types.Ge: ("ge", ">="),
    annotated_types.Gt: ("gt", ">"),
    annotated_types.Le: ("le", "<="),
    annotated_types.Lt: ("lt", "<"),
}


def _without_none(annotation: Any) -> tuple[Any, bool]:
    """(``X``, True) for ``X | None``; (annotation, False) otherwise."""
    if get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(members) < len(get_args(annotation)):
            return (members[0] if len(members) == 1 else Union[tuple(members)]), True  # noqa: UP007
    return annotation, False


def _anchored_pattern(pattern: str) -> Callable[[str], re.Match[str] | None]:
    """Python's equivalent of pydantic's (Rust) ``^...$`` match: ``fullmatch``.

    ``re.match`` would let ``$`` match before a trailing newline, which Rust's ``$`` does
    not; ``fullmatch`` never does. Unanchored patterns mean something else and are refused.
    """
    if not (pattern.startswith("^") and pattern.endswith("$")):
        raise TypeError(f"Pattern {pattern!r} is not anchored; derive its check by hand")
    return re.compile(pattern).fullmatch


def _default(default: Any, factory: Any) -> str:
    """A field's default as ``repr`` (``Decimal('1')`` is not ``Decimal('1.0')``)."""
    if factory not in (None, msgspec.NODEFAULT):
        return f"{factory()!r} (from a factory)"
    return "required" if default in (PydanticUndefined, msgspec.NODEFAULT) else repr(default)


def _refuse_what_is_not_derived(record: type[msgspec.Struct], schema: type[BaseModel]) -> None:
    """Raises (at import) when the schema does something the generated checks would miss.

    Fields must be the same, in the same order, with the same defaults; the schema may not
    transform input beyond its field types (config, aliases, model validators).
    """
    if dict(schema.model_config) != _PLAIN_CONFIG:
        raise TypeError(f"{schema.__name__}: only {_PLAIN_CONFIG} is derived")
    if schema.__pydantic_decorators__.model_validators:
        raise TypeError(f"{schema.__name__}: model validators are not derived")
    record_fields = msgspec.structs.fields(record)
    if tuple(schema.model_fields) != tuple(field.name for field in record_fields):
        raise TypeError(f"{record.__name__} and {schema.__name__} have different fields")
    for field in record_fields:
        info = schema.model_fields[field.name]
        if info.alias is not None:
            raise TypeError(f"{schema.__name__}.{field.name}: aliases are not derived")
        schema_default = _default(info.default, info.default_factory)
        if _default(field.default, field.default_factory) != schema_default:
            raise TypeError(f"{record.__name__}.{field.name} must default to {schema_default}")


def derive_checks(schemas: SchemaMap) -> dict[type[msgspec.Struct], Callable[[Any], bool]]:
    """One generated ``check(record) -> bool`` per record type, from its schema's fields.

    Generated code (as ``trusted.trusted_factory`` does) because the checks run for every
    field of every account: a loop over closures costs about twice as much. A ``Decimal``
    must also be finite: pydantic refuses NaN and infinity, msgspec reads them. A field
    validator must return the value it was given (one that changes it is left to the
    schema). Metadata the generator does not know raises at import.
    """
    record_of = {schema: record for record, schema in schemas.items()}
    namespace: dict[str, Any] = {}
    sources = []
    for record, schema in schemas.items():
        _refuse_what_is_not_derived(record, schema)
        validators: dict[str, list[Callable[[Any], Any]]] = {}
        for decorator in schema.__pydantic_decorators__.field_validators.values():
            if decorator.info.mode != "after":
                raise TypeError(f"{schema.__name__}: only 'after' field validators are derived")
            for name in decorator.info.fields:
                validators.setdefault(name, []).append(decorator.func)
        body = []
        for name, info in schema.model_fields.items():
            annotation, optional = _without_none(info.annotation)
            tests: list[str] = []
            items: list[str] = []  # checks of each item of a tuple of records
            if annotation is Decimal:
                tests.append("v.is_finite()")
            elif get_origin(annotation) is dict and get_args(annotation)[1] is Decimal:
                tests.append("all(x.is_finite() for x in v.values())")
            elif annotation in record_of:
                tests.append(f"check_{record_of[annotation].__name__}(v)")
            elif get_origin(annotation) is tuple and get_args(annotation)[0] in record_of:
                items.append(f"check_{record_of[get_args(annotation)[0]].__name__}")
            for position, constraint in enumerate(info.metadata):
                constant = f"_{record.__name__}_{name}_{position}"
                pattern = getattr(constraint, "pattern", None)
                if type(constraint) in _BOUNDS:
                    attribute, operator = _BOUNDS[type(constraint)]
                    bound = getattr(constraint, attribute)
                    # Decimal against Decimal compares faster than against an int
                    namespace[constant] = Decimal(bound) if annotation is Decimal else bound
                    tests.append(f"v {operator} {constant}")
                elif isinstance(constraint, annotated_types.MinLen):
                    tests.append(f"len(v) >= {constraint.min_length}")
                elif isinstance(constraint, annotated_types.MaxLen):
                    tests.append(f"len(v) <= {constraint.max_length}")
                elif pattern is not None:
                    namespace[constant] = _anchored_pattern(pattern)
                    tests.append(f"{constant}(v) is not None")
                else:
                    raise TypeError(f"{schema.__name__}.{name}: cannot derive {constraint!r}")
            lines = []
            if tests:
                condition = " and ".join(f"({test})" for test in tests)
                condition = f"v is None or ({condition})" if optional else condition
                lines.append(f"    if not ({condition}):\n        return False")
            for check in items:  # a loop: cheaper than all(map(...)) for a few items
                lines.append(
                    f"    for item in v:\n        if not {check}(item):\n            return False"
                )
            for position, validator in enumerate(validators.get(name, ())):
                constant = f"_{record.__name__}_{name}_validator_{position}"
                namespace[constant] = validator
                lines.append(
                    f"    try:\n        if {constant}(v) is not v:\n            return False\n"
                    "    except (ValueError, AssertionError):\n        return False"
                )
            if lines:
                body += [f"    v = record.{name}", *lines]
        sources.append(
            f"def check_{record.__name__}(record):\n" + "\n".join(body) + "\n    return True\n"
        )
    exec("\n".join(sources), namespace)
    return {record: namespace[f"check_{record.__name__}"] for record in schemas}


def record_from_model(model: BaseModel, record_type: type[RecordT], schemas: SchemaMap) -> RecordT:
    """The records of a model the schema accepted where the fast path declined (rare).

    Values are taken as pydantic made them (a timestamp stays a ``datetime``); nested schema
    models become their records.
    """
    record_of = {schema: record for record, schema in schemas.items()}

    def convert(value: Any) -> Any:
        if type(value) in record_of:
            fields = {name: convert(getattr(value, name)) for name in type(value).model_fields}
            return record_of[type(value)](**fields)
        if type(value) is tuple:
            return tuple(convert(item) for item in value)
        return value

    record = convert(model)
    if not isinstance(record, record_type):
        raise TypeError(f"{type(model).__name__} is not the schema of {record_type.__name__}")
    return record
