"""Signals: an organisation's registration that it is involved with a person or family."""
