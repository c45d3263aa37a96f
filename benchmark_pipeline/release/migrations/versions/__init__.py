"""Warehouse schema revisions."""
