"""Sensing 感知: readings from sensors, cameras and video platforms; zone state."""
