"""Message catalogs: zh-CN and en have the same keys and placeholders; every key the pages use exists;
no Chinese text is hard-coded in the JavaScript or HTML outside the catalogs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from anbao.core.auth import Role
from anbao.core.vocab import RULE_KINDS

WEB = Path(__file__).resolve().parents[2] / "src" / "anbao" / "web"
CATALOGS = {name: json.loads((WEB / "i18n" / f"{name}.json").read_text(encoding="utf-8")) for name in ("zh-CN", "en")}
#: the command map and the wall (the mobile app under m/ has catalogs of its own)
SOURCES = [p for p in WEB.rglob("*") if p.suffix in (".js", ".html")
           and not {"node_modules", "m"} & set(p.relative_to(WEB).parts[:-1])]
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def test_both_catalogs_have_the_same_keys_and_placeholders():
    zh, en = CATALOGS["zh-CN"], CATALOGS["en"]
    assert sorted(zh) == sorted(en)
    for key in zh:
        assert zh[key].strip() and en[key].strip(), key
        assert set(re.findall(r"\{(\w+)\}", zh[key])) == set(re.findall(r"\{(\w+)\}", en[key])), key
    assert not any(CJK.search(v) for k, v in en.items() if k != "incidents.comesWith"), "Chinese in en.json"


def _without_comments(js: str) -> str:
    """JavaScript with // and /* */ comments blanked (strings and template literals kept)."""
    out, i, n = [], 0, len(js)
    while i < n:
        c = js[i]
        if c in "'\"`":
            j = i + 1
            while j < n and js[j] != c:
                j += 2 if js[j] == "\\" else 1
            out.append(js[i:j + 1])
            i = j + 1
        elif js.startswith("//", i):
            j = js.find("\n", i)
            i = n if j < 0 else j
        elif js.startswith("/*", i):
            j = js.find("*/", i + 2)
            out.append("\n" * js.count("\n", i, n if j < 0 else j))
            i = n if j < 0 else j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def test_no_chinese_outside_the_catalogs():
    """Comments may name things in Chinese (大屏, 接处警); code and markup may not: UI text is in the catalogs."""
    assert len([p for p in SOURCES if p.suffix == ".js"]) >= 10
    found = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".html":
            text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
            text = re.sub(r">(中|中文)</button>", "></button>", text)  # the language switch's autonyms
        else:
            text = _without_comments(text)
        for n, line in enumerate(text.splitlines(), 1):
            if CJK.search(line):
                found.append(f"{path.relative_to(WEB)}:{n}: {line.strip()}")
    assert found == []


def test_the_comment_stripper_keeps_strings():
    js = 'const a = "中 // not a comment"; // 注释\n/* 块 */ const b = `x`;'
    assert CJK.findall(_without_comments(js)) == ["中"]


def _used_keys() -> set[str]:
    """Static keys: t("a.b"), both arms of t(cond ? "a.b" : "a.c") and data-i18n* attributes."""
    keys: set[str] = set()
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r"""\bt\(\s*["'](\w+\.[\w.]+)["']""", text))
        for pair in re.findall(r"""\?\s*["'](\w+\.[\w.]+)["']\s*:\s*["'](\w+\.[\w.]+)["']""", text):
            keys |= set(pair)
        keys |= set(re.findall(r'data-i18n(?:-[a-z]+)?="([\w.]+)"', text))
    return keys


def test_every_key_the_pages_use_is_in_the_catalog():
    used = _used_keys()
    assert len(used) > 100
    assert sorted(used - set(CATALOGS["zh-CN"])) == []


@pytest.mark.parametrize(("family", "members"), [
    ("level", ["none", "blue", "yellow", "orange", "red"]),
    ("wstatus", ["active", "acknowledged", "closed"]),
    ("health", ["ok", "stale", "silent", "none"]),
    ("conn", ["idle", "connecting", "live", "reconnecting", "offline", "refused"]),
    ("layer", ["zones", "labels", "gates", "posts", "cameras", "sensors", "warnings", "incidents"]),
    ("source", ["video", "manual", "probe", "counter", "none"]),
    ("role", [r.value for r in Role]),
    ("wkind", [*RULE_KINDS, "camera", "external"]),
    ("login.reason", ["expired", "refused", "logout"]),
])
def test_keys_built_at_run_time_exist(family, members):
    for name, catalog in CATALOGS.items():
        missing = [m for m in members if f"{family}.{m}" not in catalog]
        assert missing == [], (name, family)
