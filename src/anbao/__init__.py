"""AnBao 安保: command platform for police security of large public events."""

__version__ = "0.1.0"
