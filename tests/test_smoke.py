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
    assert r.status_code == 200 and "安保指挥平台" in r.text
