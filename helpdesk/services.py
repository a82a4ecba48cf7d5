"""Writes of this app: typed, keyword-only functions named <thing>_<verb>."""
