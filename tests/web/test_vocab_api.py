"""GET /api/v1/meta/vocab: the code lists, warning levels and default thresholds the web UI reads, served from
their Python definitions (the pages keep no copies of their own)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from anbao.alert.rules import DEFAULT_RULES
from anbao.algorithms.levels import DEFAULT_DENSITY, Level
from anbao.core.auth import ROLE_LABELS, ROLE_PERMISSIONS, Perm, Role
from anbao.core.vocab import VOCABULARIES, WARNING_COLOURS, WARNING_LEVELS
from anbao.system.views import router
from tests.web.test_i18n import _without_comments

URL = "/api/v1/meta/vocab"
WEB = Path(__file__).resolve().parents[2] / "src" / "anbao" / "web"
JS = [p for p in WEB.rglob("*.js") if "node_modules" not in p.parts]


def _expected() -> dict:
    lists = {name: [{"code": c, "zh": zh, "en": en} for c, (zh, en) in items.items()]
             for name, items in VOCABULARIES.items()}
    lists["role"] = [{"code": r.value, "zh": zh, "en": r.value} for r, zh in ROLE_LABELS.items()]
    return {
        **lists,
        "warning_levels": [{"code": c, "zh": zh, "en": en, "rank": Level[c.upper()].value, "colour": WARNING_COLOURS[c]}
                           for c, (zh, en) in WARNING_LEVELS.items()],
        "density_thresholds": {"blue": DEFAULT_DENSITY.blue, "yellow": DEFAULT_DENSITY.yellow,
                               "orange": DEFAULT_DENSITY.orange, "red": DEFAULT_DENSITY.red},
        "rule_thresholds": {r["kind"]: {c: r[c] for c in ("blue", "yellow", "orange", "red")} for r in DEFAULT_RULES},
    }


def test_the_vocab_is_the_python_definitions(client, login):
    r = client.get(URL, headers=login("officer"))
    assert r.status_code == 200, r.text
    assert r.json() == _expected()


def test_warning_levels_rank_blue_to_red_with_screen_colours(client, login):
    levels = client.get(URL, headers=login("analyst")).json()["warning_levels"]
    assert [lv["code"] for lv in levels] == ["blue", "yellow", "orange", "red"]
    assert [lv["rank"] for lv in levels] == [1, 2, 3, 4]
    assert [lv["zh"] for lv in levels] == ["蓝色", "黄色", "橙色", "红色"]  # the words the pages show
    assert all(re.fullmatch(r"#[0-9a-f]{6}", lv["colour"]) for lv in levels)


def test_the_stylesheet_starts_with_the_served_level_colours():
    """base.css paints with --lv-<code> before the vocab arrives (js/vocab.js then sets them from it)."""
    css = (WEB / "css" / "base.css").read_text(encoding="utf-8")
    assert {c: re.search(rf"--lv-{c}:\s*(#[0-9a-fA-F]{{6}})", css).group(1).lower() for c in WARNING_LEVELS} \
        == WARNING_COLOURS


def test_anonymous_gets_401(client):
    r = client.get(URL)
    assert r.status_code == 401
    assert r.headers.get("www-authenticate") == "Bearer"


@pytest.mark.parametrize("role", list(Role))
def test_every_role_may_read_it(client, login, role):
    headers = login(role.value, agency="fire" if role is Role.partner else None)
    assert client.get(URL, headers=headers).status_code == 200


def test_it_needs_a_read_permission_every_role_holds():
    route = next(r for r in router.routes if getattr(r, "path", None) == "/meta/vocab")

    def perms(dependant) -> set:
        found = set(getattr(dependant.call, "required_permissions", None) or ())
        for d in dependant.dependencies:
            found |= perms(d)
        return found

    assert perms(route.dependant) == {Perm.venue_read}
    assert all(Perm.venue_read in held for held in ROLE_PERMISSIONS.values())


def test_an_unknown_query_parameter_is_refused(client, login):
    r = client.get(URL, params={"lang": "en"}, headers=login("officer"))
    assert r.status_code == 422 and "lang" in r.text


@pytest.mark.parametrize("name", ["warning_level", "risk_level", "incident_type"])
def test_no_page_keeps_its_own_copy_of_a_code_list(name):
    """No line of the JavaScript (comments left out) names three or more codes of one list: the pages read
    the list from the vocab (js/vocab.js) instead."""
    codes = list(VOCABULARIES[name])
    found = []
    for path in JS:
        for n, line in enumerate(_without_comments(path.read_text(encoding="utf-8")).splitlines(), 1):
            named = [c for c in codes if re.search(rf"""["']{c}["']|\b{c}\s*:""", line)]
            if len(named) >= 3:
                found.append(f"{path.relative_to(WEB)}:{n}: {line.strip()}")
    assert found == []
