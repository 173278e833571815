def test_health(client):
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_api_docs_are_served_without_a_cdn(client):
    html = client.get("/api/docs").text
    assert "/api/docs-static/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "https://" not in html.replace("https://fastapi", "")
    js = client.get("/api/docs-static/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 500_000


def test_start_page_is_served(client):
    r = client.get("/")
    assert r.status_code == 200 and 'lang="zh-CN"' in r.text and 'data-i18n="app.name"' in r.text
    # its words come from the catalog, its map library from the app itself (no CDN)
    assert client.get("/i18n/zh-CN.json").json()["app.name"] == "安保指挥平台"
    for src in ("/vendor/leaflet/leaflet.js", "/vendor/leaflet/leaflet.css"):
        assert src in r.text and client.get(src).status_code == 200
    assert "http://" not in r.text and "https://" not in r.text


def test_unknown_query_parameters_are_rejected_everywhere(client, login):
    h = login("admin")
    for path in ("/api/v1/events?bogus=1", "/api/v1/users?x=2", "/api/v1/audit?limt=5"):
        r = client.get(path, headers=h)
        assert r.status_code == 422, path
        assert r.json()["detail"][0]["loc"][0] == "query" and "unknown query parameter" in r.json()["detail"][0]["msg"]
    assert client.get("/api/v1/audit?limit=5&entity=event", headers=h).status_code == 200
