"""Account 账号: local users, login and user administration."""
