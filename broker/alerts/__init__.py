"""Alerts for privacy officers: fishing, override counts, off-hours bursts, no follow-up."""
