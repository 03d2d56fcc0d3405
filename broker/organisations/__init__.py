"""Organisations of the chain, their contact desks and token-verification keys."""
