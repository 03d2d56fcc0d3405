"""The client half of the blind path: the broker evaluates the OPRF but never sees the BSN.

For each identifier: blind locally, let the broker raise the blinded element to its key
(``POST /v1/pseudonyms/evaluate``), unblind and finalise. The result is the same matching
pseudonym the broker would compute from the identifier itself, sent as ``oprf_output``.
Outputs are cached for the life of the client: a family in many rows costs one evaluation.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from keys import PersonIdentifier, canonical_bytes, oprf

# The broker accepts at most this many elements per evaluation request.
MAX_ELEMENTS = 10_000


def b64url(data: bytes) -> str:
    """Unpadded base64url, as the broker writes it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """Decode unpadded base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Blinded:
    """Identifiers still missing from the cache, blinded and ready for evaluation."""

    inputs: list[bytes]
    blinds: list[oprf.BlindedInput] = field(repr=False)

    def elements(self) -> list[str]:
        """The blinded elements in wire form."""
        return [b64url(b.element) for b in self.blinds]


class BlindCache:
    """OPRF outputs by canonical identifier bytes; safe to share between threads."""

    def __init__(self) -> None:
        self._outputs: dict[bytes, str] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._outputs)

    def unknown(self, identifiers: Iterable[PersonIdentifier]) -> list[bytes]:
        """The canonical bytes of the identifiers not yet cached, each once, in order."""
        with self._lock:
            return list(
                dict.fromkeys(
                    data
                    for data in (canonical_bytes(i) for i in identifiers)
                    if data not in self._outputs
                )
            )

    def missing(self, identifiers: Iterable[PersonIdentifier]) -> list[Blinded]:
        """Blind every identifier not yet cached, in chunks the broker accepts."""
        return blind_all(self.unknown(identifiers))

    def complete(self, blinded: Blinded, evaluated: Sequence[str]) -> None:
        """Unblind and finalise the broker's answers and cache the outputs."""
        if len(evaluated) != len(blinded.blinds):
            raise ValueError("the broker returned a different number of evaluations")
        unblinded = oprf.unblind_many(
            [b.blind for b in blinded.blinds], [unb64url(element) for element in evaluated]
        )
        outputs = {
            data: b64url(oprf.finalize(data, element))
            for data, element in zip(blinded.inputs, unblinded, strict=True)
        }
        with self._lock:
            self._outputs.update(outputs)

    def output(self, identifier: PersonIdentifier) -> str:
        """The cached OPRF output of ``identifier``; KeyError when it was never evaluated."""
        return self._outputs[canonical_bytes(identifier)]


def blind_all(inputs: Sequence[bytes], *, chunk: int = MAX_ELEMENTS) -> list[Blinded]:
    """Blind canonical identifier bytes, in chunks of at most ``chunk`` elements."""
    if not 1 <= chunk <= MAX_ELEMENTS:
        raise ValueError(f"a chunk holds 1 to {MAX_ELEMENTS} elements")
    return [
        Blinded(list(part), [oprf.blind(data) for data in part])
        for part in (inputs[i : i + chunk] for i in range(0, len(inputs), chunk))
    ]
