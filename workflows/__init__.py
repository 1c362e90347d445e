"""Pipelines, batch runs and the `mts` command line."""
