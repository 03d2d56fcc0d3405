"""Authentication: organisation-signed bearer tokens, verified in one module."""
