"""The disclosure log: every query, match, release, refusal and override, tamper-evident."""
