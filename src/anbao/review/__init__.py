"""Review 复盘: the event timeline (every warning, plan activation and task step), later statistics and reports."""
