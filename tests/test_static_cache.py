"""The static web UI is compressed and cached (issue 13 item 18, docs/frontend.md 缓存): gzip for text files,
not for already compressed ones; vendor files asked with their version are immutable; HTML and the app's own
files are revalidated by ETag (304 without body); the security headers still apply to all of them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from anbao.api.static import IMMUTABLE, package_version

WEB = Path(__file__).resolve().parents[1] / "src" / "anbao" / "web"
GZ = {"Accept-Encoding": "gzip"}


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from anbao.app import create_app
    from anbao.config import Settings

    var = tmp_path_factory.mktemp("static")
    settings = Settings(database_url=f"sqlite:///{var / 'anbao.db'}", var_dir=var,
                        secret_key="static-test-secret-key-0123456789abcdef")
    with TestClient(create_app(settings)) as client:
        yield client


def _vendor_urls(page: str) -> list[str]:
    return re.findall(r'"(/vendor/[^"]+)"', (WEB / page).read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", ["/", "/wall/", "/plan/", "/m/"])
def test_html_is_compressed_revalidated_and_keeps_the_security_headers(web: TestClient, path: str) -> None:
    r = web.get(path, headers=GZ)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in r.headers["vary"].lower()
    assert r.headers["cache-control"] == "no-cache"
    assert "default-src" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    etag = r.headers["etag"]
    again = web.get(path, headers={**GZ, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["cache-control"] == "no-cache"
    assert "content-security-policy" in again.headers


@pytest.mark.parametrize("page", ["index.html", "wall/index.html", "plan/index.html"])
def test_pages_ask_vendor_files_with_the_installed_version_and_get_them_immutable(web: TestClient, page: str) -> None:
    urls = _vendor_urls(page)
    assert urls, f"{page} loads no vendor file"
    for url in urls:
        path, _, query = url.partition("?")
        name = path.split("/")[2]
        version = package_version(WEB / "node_modules" / name / "dist")
        assert query == f"v={version}", f"{page}: {url} must carry ?v={version} (the installed {name})"
        r = web.get(url, headers=GZ)
        assert r.status_code == 200
        assert r.headers["cache-control"] == IMMUTABLE
        assert r.headers["content-encoding"] == "gzip"
        assert r.num_bytes_downloaded < len(r.content) / 2, "compressed to less than half"
        assert "content-security-policy" in r.headers
        # without (or with another) version: revalidated, never cached for a year
        assert web.get(path).headers["cache-control"] == "no-cache"
        assert web.get(path + "?v=0.0.1").headers["cache-control"] == "no-cache"


def test_app_scripts_are_revalidated_and_compressed(web: TestClient) -> None:
    r = web.get("/js/app.js", headers=GZ)
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert r.headers["cache-control"] == "no-cache"
    assert web.get("/js/app.js", headers={"If-None-Match": r.headers["etag"]}).status_code == 304


def test_already_compressed_files_and_browsers_without_gzip_get_the_file_as_it_is(web: TestClient) -> None:
    png = web.get("/m/icon-192.png", headers=GZ)
    assert png.status_code == 200 and "content-encoding" not in png.headers
    assert png.content == (WEB / "m" / "icon-192.png").read_bytes()
    plain = web.get("/js/app.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == (WEB / "js" / "app.js").read_bytes()


def test_the_service_worker_is_revalidated(web: TestClient) -> None:
    r = web.get("/m/sw.js", headers=GZ)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"


def test_api_and_missing_files_are_not_given_a_static_cache_policy(web: TestClient) -> None:
    assert web.get("/js/nothing-here.js").headers.get("cache-control") is None
    assert web.get("/api/v1/health").headers.get("cache-control") != IMMUTABLE
