"""Subject access and erasure: readable reports that protect victims, erasure only after review."""
