"""A real browser for the page tests: Debian's chromium and chromedriver (the `chromium` session fixture,
registered in tests/conftest.py, installs them with apt-get when missing and never skips), driven headless
(`headless_chrome`), a real uvicorn serving an app on a loopback port (`serving`), the sign-in form
(`browser_sign_in`), and screenshots at phone and desktop sizes in test-artifacts/pages/ (`screenshot`)."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "pages"


@pytest.fixture(scope="session")
def chromium() -> tuple[str, str]:
    """Debian's chromium and chromedriver, installed with apt-get when missing (under a lock: xdist workers
    share the machine). Fails, never skips, when they cannot be had."""
    lock = Path("/tmp/inboxcrm-chromium-install.lock")
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if not (shutil.which("chromium") and shutil.which("chromedriver")):
            if shutil.which("apt-get") is None:
                pytest.fail("chromium/chromedriver are missing and apt-get is not available to install them")
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            command = ["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"]
            done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
            if done.returncode != 0:  # a fresh machine may have no package lists yet
                subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env, check=False)
                done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
            if done.returncode != 0:
                pytest.fail(
                    f"apt-get install chromium chromium-driver failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
                )
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and driver):
        pytest.fail("apt-get installed chromium and chromium-driver, but they are not on PATH")
    return browser, driver


@contextlib.contextmanager
def serving(web: FastAPI) -> Iterator[str]:
    """`web` on a real uvicorn on a free loopback port, in a thread; yields its base URL."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(web, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


# Chromium's own requests (first-run pages, updates, background fetches) are off, and no host but 127.0.0.1
# resolves: nothing leaves this machine, whatever a page asks for.
CHROME_ARGUMENTS = (
    "--headless=new",
    "--no-sandbox",  # we run as root
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--window-size=1280,900",
)


@contextlib.contextmanager
def headless_chrome(chromium: tuple[str, str], *, browser_log: bool = False) -> Iterator[Any]:
    """A selenium driver of the `chromium` fixture's browser and chromedriver (CHROME_ARGUMENTS), quit when
    the block ends; ARTIFACTS exists for `screenshot`. `browser_log`: `driver.get_log("browser")` keeps every
    console message, not only chromedriver's default level."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is missing: install the dev extras (pip install -e '.[dev]')")
    options = Options()
    options.binary_location = chromium[0]
    for argument in CHROME_ARGUMENTS:
        options.add_argument(argument)
    if browser_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromium[1]))
    try:
        yield driver
    finally:
        driver.quit()


def browser_sign_in(driver: Any, token: str) -> None:
    """Fill in and send the sign-in form the browser shows, and wait until it has left it (the click returns
    once the form is sent, not once the cookie is set)."""
    from selenium.webdriver.support.wait import WebDriverWait

    driver.find_element("id", "token").send_keys(token)
    driver.find_element("css selector", "form[action='/sign-in'] button").click()
    WebDriverWait(driver, 20).until(lambda d: "/sign-in" not in d.current_url)


def screenshot(driver: Any, name: str, phone: bool, scroll_to: str | None = None) -> None:
    """A PNG at phone (390×844, a touch device honouring the viewport meta) or desktop (1280×900) size: the
    whole page, or with `scroll_to` (a CSS selector) the screen showing that element. Also checks that the
    page does not scroll sideways."""
    if phone:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
        )
    else:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.refresh()
    width = driver.execute_script("return document.documentElement.scrollWidth")
    viewport = driver.execute_script("return window.innerWidth")
    assert width <= viewport, f"{name}: the page scrolls sideways ({width} > {viewport})"
    if scroll_to:
        driver.execute_script("arguments[0].scrollIntoView()", driver.find_element("css selector", scroll_to))
    # a frame outside the screen is not painted into a whole-page capture: such shots show the screen only
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": not scroll_to})
    (ARTIFACTS / f"{name}-{'phone' if phone else 'desktop'}.png").write_bytes(base64.b64decode(shot["data"]))
