"""Venue 场地: zones, gates, checkpoints, exits, posts and devices, with GeoJSON import/export."""
