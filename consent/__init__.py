"""Consent registry: who consented to what, for whom, with its full history.

No recorded consent means no. A consent is about one person (by log pseudonym) and never
covers data about anyone else. This package holds the rules and tables; it never imports
the web layer.
"""

from consent.models import Consent, ConsentEvent
from consent.rules import (
    AgeBand,
    ConsentDecision,
    GivenBy,
    ObtainedHow,
    check_giver,
    why_not_covered,
)

__all__ = [
    "AgeBand",
    "Consent",
    "ConsentDecision",
    "ConsentEvent",
    "GivenBy",
    "ObtainedHow",
    "check_giver",
    "why_not_covered",
]
