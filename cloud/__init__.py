"""DALE Vision cloud: edge ingest, config push and the operator API."""
