"""Identifier schemes, persons and record linkage."""
