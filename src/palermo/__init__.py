"""Palermo."""
