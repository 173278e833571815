"""The ``anbao`` command: :mod:`anbao.cli.main` holds the app; one module per command group."""
