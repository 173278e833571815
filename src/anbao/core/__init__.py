"""Shared machinery: storage, time, geometry, errors, auth, audit, bus."""
