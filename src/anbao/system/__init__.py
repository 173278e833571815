"""System routes: health, vocabularies, audit log."""
