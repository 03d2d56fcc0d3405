"""The match-only hit service: is this family known elsewhere, and whom do I call?"""
