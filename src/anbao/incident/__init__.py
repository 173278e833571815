"""Incident 警情: reports from the field (officers' phones), later calls, camera alarms and warnings; unit positions.

This first part takes officers' reports and positions, each idempotent by the phone's
``client_key`` so that an offline queue can replay safely. The incidents issue adds the life cycle,
plan matching and dispatch.
"""
