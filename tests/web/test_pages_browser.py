"""The server-rendered pages in a real headless Chromium (Debian's chromium + chromium-driver, installed by
the `chromium` fixture if missing; never skipped), against a real uvicorn: sign-in by the form, the timeline,
a hostile HTML mail (nothing it points at is fetched: a local "tracker" counts requests) and the charts, with
screenshots at phone and desktop sizes in test-artifacts/pages/.
"""

from __future__ import annotations

import http.server
import threading
from pathlib import Path
from typing import Any

from inboxcrm import bootstrap
from inboxcrm.adapters.db import migrate
from inboxcrm.web.auth import COOKIE
from tests.conftest import make_settings
from tests.support.browser import browser_sign_in, headless_chrome, screenshot, serving
from tests.support.clock import Clock
from tests.web.pages_support import EXTRA, START, TOKEN, hostile_html, html_mail, ingest, pages_app, work_a_ticket


class Tracker(http.server.ThreadingHTTPServer):
    """A local stand-in for a mail tracker: counts every request it gets."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        tracker = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                tracker.hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/gif")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


def test_the_pages_in_headless_chromium(tmp_path: Path, chromium: tuple[str, str]) -> None:
    tracker = Tracker()
    threading.Thread(target=tracker.serve_forever, daemon=True).start()
    tracker_url = f"http://127.0.0.1:{tracker.server_address[1]}"
    clock = Clock(START)
    app = bootstrap.build(make_settings(tmp_path, f"sqlite:///{tmp_path / 'pages.db'}", EXTRA), clock=clock)
    migrate.upgrade(app.engine)
    try:
        work_a_ticket(app, clock)
        ingest(app, html_mail(hostile_html(tracker_url), message_id="h2@acme-corp.example"))
        with serving(pages_app(app)) as base, headless_chrome(chromium, browser_log=True) as driver:
            from selenium.webdriver.common.by import By

            _browse(driver, base, By)
    finally:
        app.close()
        tracker.shutdown()
    assert tracker.hits == []  # not one request reached the tracker: no pixel, no CSS, no script, no form


def _browse(driver: Any, base: str, by: Any) -> None:
    # not signed in: the browser lands on the sign-in form, and comes back to the page it asked for
    driver.get(f"{base}/contacts/1/page")
    assert driver.current_url == f"{base}/sign-in?next=%2Fcontacts%2F1%2Fpage"
    browser_sign_in(driver, TOKEN)
    assert driver.current_url == f"{base}/contacts/1/page"
    cookie = driver.get_cookie(COOKIE)
    assert cookie["value"] == TOKEN and cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain http on 127.0.0.1: see sign_in.secure_cookie
    assert driver.execute_script("return document.cookie") == ""  # HttpOnly: invisible to scripts

    # the timeline: every entry, and the quoted text opens with a click (a <details>, no script)
    entries = driver.find_elements(by.CSS_SELECTOR, "li[data-kind]")
    assert len(entries) >= 12
    quote = driver.find_element(by.XPATH, "//summary[text()='Quoted text']/following-sibling::div")
    assert not quote.is_displayed()
    quote.find_element(by.XPATH, "../summary").click()
    assert quote.is_displayed() and "please unplug it first" in quote.text
    screenshot(driver, "contact", phone=True)
    screenshot(driver, "contact", phone=False)

    # the hostile mail: rendered inside the sandboxed frame, with nothing of it running or loading
    driver.get(f"{base}/tickets/2/page")
    frame = driver.find_element(by.CSS_SELECTOR, "iframe.mail")
    assert frame.size["height"] > 100 and frame.size["width"] > 300
    driver.switch_to.frame(frame)
    try:
        assert driver.find_element(by.TAG_NAME, "h2").text == "Dear customer,"
        assert "INV-7" in driver.find_element(by.TAG_NAME, "body").text
        assert driver.find_elements(by.TAG_NAME, "script") == []
        assert [i.get_attribute("src") for i in driver.find_elements(by.TAG_NAME, "img")][:2] == [None, None]
        assert driver.find_element(by.LINK_TEXT, "Pay now").get_attribute("href") is None
    finally:
        driver.switch_to.default_content()
    screenshot(driver, "ticket", phone=True)
    screenshot(driver, "ticket-message", phone=True, scroll_to="article")
    driver.switch_to.frame(driver.find_element(by.CSS_SELECTOR, "iframe.mail"))
    try:  # on a phone too, the mail is there and fits the frame's width
        assert driver.find_element(by.TAG_NAME, "h2").is_displayed()
        assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        driver.switch_to.default_content()
    screenshot(driver, "ticket", phone=False)

    # the reports: four SVG charts whose bars have a height on screen
    driver.get(f"{base}/reports/page?days=7")
    charts = driver.find_elements(by.CSS_SELECTOR, "svg.chart")
    assert len(charts) == 4
    for chart in charts:
        heights = [bar.rect["height"] for bar in chart.find_elements(by.CSS_SELECTOR, "rect.bar")]
        assert heights and max(heights) > 10, chart.get_attribute("aria-label")
        assert chart.rect["width"] > 300
    screenshot(driver, "reports", phone=True)
    phone_widths = [c.rect["width"] for c in driver.find_elements(by.CSS_SELECTOR, "svg.chart")]
    assert all(w <= 390 for w in phone_widths)  # single column on a phone
    screenshot(driver, "reports", phone=False)

    # the CSP let everything of ours through, and the browser reported nothing else refused
    problems = [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
    assert problems == []
