"""Risk register 风险评估: risks by category and source, expert scores, the event's matrix, controls, residual risk."""
