"""The Dagster layer: thin wrappers that call the domain modules and attach metadata."""
