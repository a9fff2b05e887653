"""Ingest of edge records: validation, group commit and the SQL that stores them."""
