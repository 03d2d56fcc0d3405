"""Matches between organisations involved with the same person, and their notifications."""
