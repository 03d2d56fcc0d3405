"""Lawful release: more than a hit, only on a legal basis, minimised and pseudonymised."""
