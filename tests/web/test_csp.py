"""The web UI runs under its Content-Security-Policy (docs/limits.md): every page logs in, draws and shows
no violation ("Refused to ..." console errors) and no page error, with the policy enforced by the browser."""

from __future__ import annotations

import pytest

from tests.web.conftest import PageWatch, Served


@pytest.mark.parametrize("path", ["/", "/wall/", "/plan/", "/review/"])
def test_every_page_works_under_the_content_security_policy(browser: object, served: Served, path: str) -> None:
    w = PageWatch(browser, served, csp=True)
    try:
        w.login(path=path)  # waits until the page has drawn its data (body[data-ready])
        w.check()
    finally:
        w.close()


def test_the_phone_app_works_under_the_content_security_policy(browser: object, served: Served) -> None:
    w = PageWatch(browser, served, (390, 844), csp=True)
    try:
        w.page.goto(served.url + "/m/")
        w.page.wait_for_load_state("networkidle")
        w.check()
    finally:
        w.close()
