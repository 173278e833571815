"""Timeline reads for the review (the rows are written by :func:`anbao.core.events.record`)."""

from anbao.core.timeline import KIND_ZH, entries

__all__ = ["KIND_ZH", "entries"]
