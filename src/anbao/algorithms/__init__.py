"""Pure, typed algorithms with no I/O: density, capacity, routing, coverage, roster, forecast, evacuation."""
