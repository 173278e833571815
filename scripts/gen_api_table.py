"""Print the REST route table of docs/api.md from the real app.

    .venv/bin/python scripts/gen_api_table.py                       # print the table
    .venv/bin/python scripts/gen_api_table.py --update docs/api.md  # rewrite it between the markers

Routes, methods, success codes and summaries come from ``app.openapi()``; the permission of each
route comes from walking the app's routers and finding the dependency made by
``anbao.api.deps.require`` (it carries ``required_permissions``), as tests/test_permissions.py does.
The script fails when a documented operation has no route or a route has no permission rule, so
the table cannot silently drift from the code. It builds the app from fixed settings and ignores the
caller's ANBAO_* environment (a bad or misspelt variable in the shell cannot break or change it).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from anbao.app import create_app
from anbao.config import Settings
from anbao.api.deps import current_principal

START = "<!-- routes:start -->"
END = "<!-- routes:end -->"
METHODS = ("get", "post", "put", "patch", "delete")
#: routes that answer without a login (tests/test_permissions.py PUBLIC)
PUBLIC = {("GET", "/api/v1/health"), ("POST", "/api/v1/auth/login")}


class DocSettings(Settings):
    """Settings from the arguments only: no ANBAO_* environment variables, no files."""

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) for every APIRoute, following included routers and their prefixes."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):  # FastAPI's lazily included router
            context = getattr(route, "include_context", None)
            yield from walk(route.original_router.routes, prefix + (getattr(context, "prefix", "") or ""))


def permission(dependant: Any) -> tuple[str, ...] | None:
    """The permissions a route requires: a tuple (empty = any logged-in user), or None if unguarded."""
    perms = getattr(dependant.call, "required_permissions", None)
    if perms is not None:
        return tuple(p.value for p in perms)
    if dependant.call is current_principal:
        return ()
    found = [p for p in (permission(d) for d in dependant.dependencies) if p is not None]
    return max(found, key=len) if found else None


def table() -> str:
    # the engine connects lazily and the key is given: nothing is written under /tmp
    app = create_app(DocSettings(database_url="sqlite:////tmp/apidoc.db", var_dir=Path("/tmp/apidoc"),
                                 secret_key="x" * 32))
    spec = app.openapi()
    rules: dict[tuple[str, str], tuple[str, ...] | None] = {}
    for path, route in walk(app.routes):
        for method in route.methods or ():
            rules[(method.upper(), path)] = permission(route.dependant)
    lines = ["| Group | Method | Path | Permission | Success | Purpose |", "|---|---|---|---|---|---|"]
    problems = []
    for path, ops in spec["paths"].items():
        for method in METHODS:
            op = ops.get(method)
            if op is None:
                continue
            key = (method.upper(), path)
            if key in PUBLIC:
                perm = "public (no login)"
            elif key not in rules:
                problems.append(f"{method.upper()} {path}: in the OpenAPI schema but no route found")
                continue
            elif rules[key] is None:
                problems.append(f"{method.upper()} {path}: no permission rule")
                continue
            else:
                perm = ", ".join(f"`{p}`" for p in rules[key] or ()) or "any logged-in user"
            success = ", ".join(c for c in op.get("responses", {}) if c.startswith("2"))
            tag = op.get("tags", [""])[0]
            summary = op.get("summary", "")
            lines.append(f"| {tag} | {method.upper()} | `{path}` | {perm} | {success} | {summary} |")
    if problems:
        sys.exit("gen_api_table: " + "; ".join(problems))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", type=Path, help=f"rewrite this file between {START} and {END}")
    args = parser.parse_args()
    text = table()
    if args.update is None:
        print(text)
        return
    doc = args.update.read_text(encoding="utf-8")
    head, sep1, rest = doc.partition(START)
    _, sep2, tail = rest.partition(END)
    if not (sep1 and sep2):
        sys.exit(f"gen_api_table: {args.update} lacks the markers {START} ... {END}")
    args.update.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")
    print(f"updated {args.update}", file=sys.stderr)


if __name__ == "__main__":
    main()
