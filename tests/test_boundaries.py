"""Conventions import-linter cannot express (the package layers, cycles and purity of algorithms are
import-linter contracts in pyproject.toml, run by `make lint`)."""

from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "anbao"


def test_no_naive_datetimes_in_source():
    bad = []
    for p in SRC.rglob("*.py"):
        text = p.read_text(encoding="utf-8")
        for needle in ("datetime.utcnow(", "datetime.now()", "utcfromtimestamp("):
            if needle in text:
                bad.append((str(p.relative_to(SRC)), needle))
    assert bad == []


def test_no_listener_registered_at_import_time():
    """Capabilities react to each other through typed changes wired in anbao/wiring.py, never through
    registration as a side effect of importing a module."""
    wired = {"wiring.py", "core/events.py"}  # where handlers are registered, and the registry itself
    bad = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
           if str(p.relative_to(SRC)) not in wired and "events.on(" in p.read_text(encoding="utf-8")]
    assert bad == []
