"""How a request names a person, and how the broker turns that into a pseudonym at once.

A person is given as ``{"bsn": ...}``, as ``{"family_name", "given_names", "birth_date"}``,
or, on the blind path, as ``{"oprf_output": ...}``: the 2HashDH OPRF output that the client
computed with ``POST /v1/pseudonyms/evaluate`` without the broker ever seeing the identifier.
Identifiers are pseudonymised in the request and never stored, logged or echoed.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from broker.errors import InvalidRequest
from keys import (
    BsnIdentifier,
    InvalidIdentifier,
    MatchingPseudonym,
    NameIdentifier,
    Pseudonymiser,
    is_valid_bsn,
)


class PersonRef(BaseModel):
    """One person, by BSN, by name and birth date, or by a blind-path OPRF output."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    # repr=False everywhere: a logged or printed model must never show an identifier.
    bsn: str | None = Field(
        default=None, description="Citizen service number (9 digits).", repr=False
    )
    family_name: str | None = Field(default=None, max_length=200, repr=False)
    given_names: str | None = Field(default=None, max_length=200, repr=False)
    birth_date: date | None = Field(default=None, repr=False)
    oprf_output: str | None = Field(
        default=None,
        description="Base64url OPRF output from the blind path (32 bytes).",
        repr=False,
    )

    @field_validator("bsn")
    @classmethod
    def _check_bsn(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_bsn(value.strip()):
            raise ValueError("bsn is not a valid citizen service number (11-proef)")
        return value.strip() if value is not None else None

    @field_validator("oprf_output")
    @classmethod
    def _check_oprf(cls, value: str | None) -> str | None:
        if value is not None and len(decode_b64url(value)) != 32:
            raise ValueError("oprf_output must be 32 bytes, base64url-encoded")
        return value

    @model_validator(mode="after")
    def _exactly_one_form(self) -> Self:
        if self.oprf_output is not None and self.bsn is None and self._no_name_part():
            return self  # the blind path, at once: bulk imports send thousands of these
        by_name = [self.family_name, self.given_names, self.birth_date]
        forms = [
            self.bsn is not None,
            any(part is not None for part in by_name),
            self.oprf_output is not None,
        ]
        if sum(forms) != 1:
            raise ValueError(
                "give exactly one of: bsn; family_name+given_names+birth_date; oprf_output"
            )
        if forms[1] and not all(part not in (None, "") for part in by_name):
            raise ValueError("family_name, given_names and birth_date are all required")
        return self

    def _no_name_part(self) -> bool:
        return self.family_name is None and self.given_names is None and self.birth_date is None

    def pseudonym(self, pseudonymiser: Pseudonymiser) -> MatchingPseudonym:
        """The matching pseudonym y of this person."""
        if self.oprf_output is not None:
            return MatchingPseudonym(decode_b64url(self.oprf_output))
        try:
            if self.bsn is not None:
                return pseudonymiser.matching_pseudonym(BsnIdentifier(self.bsn))
            assert self.family_name and self.given_names and self.birth_date
            return pseudonymiser.matching_pseudonym(
                NameIdentifier(self.family_name, self.given_names, self.birth_date)
            )
        except InvalidIdentifier as exc:
            raise InvalidRequest("A person's identifier is not valid.") from exc


def decode_b64url(value: str) -> bytes:
    """Base64url without padding, as the API uses it; ValueError when malformed."""
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc
