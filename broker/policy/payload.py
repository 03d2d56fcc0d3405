"""Typed payload fields of a signal category, and validation that never echoes values."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass
from enum import StrEnum

from broker.policy.errors import InvalidPayload

# What a cleaned payload holds: JSON-safe scalars; dates as ISO strings (YYYY-MM-DD).
PayloadValue = bool | int | str

MAX_TEXT_LENGTH = 2000

_ENUM_SPEC = re.compile(r"enum\[([a-z0-9_]+(?:,[a-z0-9_]+)*)\]")
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class FieldType(StrEnum):
    """The value types a payload field may have."""

    BOOL = "bool"
    STR = "str"
    INT = "int"
    DATE = "date"
    ENUM = "enum"


@dataclass(frozen=True)
class PayloadField:
    """One named, typed field a category's payload may carry."""

    name: str
    _: KW_ONLY
    kind: FieldType
    allowed: tuple[str, ...] = ()

    @classmethod
    def parse(cls, name: str, spec: str) -> PayloadField:
        """Build a field from a spec such as ``bool`` or ``enum[low,high]``; ValueError if bad."""
        if not _FIELD_NAME.fullmatch(name):
            raise ValueError("field names are lower_snake_case, at most 64 characters")
        spec = spec.replace(" ", "")
        if match := _ENUM_SPEC.fullmatch(spec):
            values = tuple(match.group(1).split(","))
            if len(set(values)) != len(values):
                raise ValueError("enum values must be distinct")
            return cls(name, kind=FieldType.ENUM, allowed=values)
        if spec in {FieldType.BOOL, FieldType.STR, FieldType.INT, FieldType.DATE}:
            return cls(name, kind=FieldType(spec))
        raise ValueError("type must be bool, str, int, date or enum[a,b,...]")

    def clean(self, value: object) -> PayloadValue:
        """Return the normalised value; ValueError with a message that omits the value."""
        match self.kind:
            case FieldType.BOOL:
                if isinstance(value, bool):
                    return value
                raise ValueError("must be true or false")
            case FieldType.INT:
                # bool is an int subclass; true must not pass as 1.
                if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                    return value
                raise ValueError("must be a whole number, zero or more")
            case FieldType.STR:
                if isinstance(value, str) and value.strip() and len(value) <= MAX_TEXT_LENGTH:
                    return value
                raise ValueError(f"must be non-empty text of at most {MAX_TEXT_LENGTH} characters")
            case FieldType.DATE:
                return _clean_date(value)
            case FieldType.ENUM:
                if isinstance(value, str) and value in self.allowed:
                    return value
                raise ValueError(f"must be one of: {', '.join(self.allowed)}")


def _clean_date(value: object) -> str:
    # datetime is a date subclass, but a timestamp would say more than the day.
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise ValueError("must be a date as YYYY-MM-DD")


def validate_payload(
    fields: Mapping[str, PayloadField], payload: Mapping[str, object]
) -> dict[str, PayloadValue]:
    """Return the cleaned payload or raise InvalidPayload naming every bad field."""
    errors: dict[str, str] = {}
    cleaned: dict[str, PayloadValue] = {}
    for name, value in payload.items():
        field = fields.get(name)
        if field is None:
            # Only a name shaped like a field name is echoed back: keys can be anything.
            key = name if isinstance(name, str) and _FIELD_NAME.fullmatch(name) else "_unknown"
            errors[key] = "unknown field for this category"
            continue
        if value is None:
            # Absent and null mean the same: every field is optional (data minimisation).
            continue
        try:
            cleaned[name] = field.clean(value)
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise InvalidPayload(errors)
    return cleaned
