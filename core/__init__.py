"""The bottom layer: small helpers every app may use. It imports no app."""
