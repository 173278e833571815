"""Import boundaries (DESIGN.md style rules 2, 5 and 9)."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "anbao"
DOMAINS = {"event", "venue", "org", "account", "risk", "plan", "sensing", "alert", "incident", "dispatch",
           "checkpoint", "opinion", "drill", "review", "system"}
WEB_OR_DB = ("fastapi", "starlette", "sqlalchemy", "alembic", "psycopg", "uvicorn", "anbao.core.db",
             "anbao.api.deps", "anbao.app", "paho", "aiomqtt", "websockets")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_algorithms_import_no_web_or_database_code():
    bad = [(p.name, n) for p in (SRC / "algorithms").rglob("*.py") for n in _imports(p)
           if n.startswith(WEB_OR_DB) or (n.startswith("anbao.") and not n.startswith("anbao.algorithms"))]
    assert bad == []


def test_domains_do_not_import_each_others_views_or_flows():
    bad = []
    for domain in DOMAINS:
        for p in (SRC / domain).rglob("*.py") if (SRC / domain).exists() else []:
            for n in _imports(p):
                parts = n.split(".")
                if len(parts) >= 3 and parts[0] == "anbao" and parts[1] in DOMAINS and parts[1] != domain \
                        and parts[2] in ("views", "flows"):
                    bad.append((f"{domain}/{p.name}", n))
    assert bad == []


def test_domain_code_never_imports_messaging_libraries():
    bad = [(str(p.relative_to(SRC)), n) for p in SRC.rglob("*.py") for n in _imports(p)
           if n.startswith(("paho", "aiomqtt", "websockets")) and not str(p.relative_to(SRC)).startswith("core/")]
    assert bad == []


def test_core_imports_no_domain_package():
    bad = [(p.name, n) for p in (SRC / "core").rglob("*.py") for n in _imports(p)
           if n.split(".")[:2] and n.startswith("anbao.") and n.split(".")[1] in DOMAINS]
    assert bad == []


def test_no_naive_datetimes_in_source():
    bad = []
    for p in SRC.rglob("*.py"):
        text = p.read_text(encoding="utf-8")
        for needle in ("datetime.utcnow(", "datetime.now()", "utcfromtimestamp("):
            if needle in text:
                bad.append((str(p.relative_to(SRC)), needle))
    assert bad == []
