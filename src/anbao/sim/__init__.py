"""Scenario generator and live simulator: demo data, drills and benchmarks feed the real ingest path."""
