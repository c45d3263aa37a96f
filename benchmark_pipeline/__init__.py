"""Yearly benchmark of Danish municipalities' use of citizen-related data, orchestrated by Dagster."""

__version__ = "0.1.0"
