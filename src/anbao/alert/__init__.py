"""Alert 预警: four-level warnings, rules, escalation, CAP 1.2."""
