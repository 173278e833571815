"""Event 活动: the event, its sessions, approval figures and status."""
