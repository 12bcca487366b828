"""Debian's headless Chromium for the page tests, driven by Selenium through the system
chromedriver (a path given: Selenium Manager downloads nothing)."""

import os
import shutil

import pytest

from tests.services import services_required


def chromium_or_skip(console_log=False):
    """A headless Chromium; skipped without one (failed when services are required).

    ``console_log`` keeps the page console's messages at every level (``get_log("browser")``).
    """
    webdriver = pytest.importorskip("selenium.webdriver")
    browser = os.environ.get("FS_CC_TEST_CHROMIUM") or shutil.which("chromium")
    driver_path = os.environ.get("FS_CC_TEST_CHROMEDRIVER") or shutil.which("chromedriver")
    if not browser or not driver_path:
        reason = "Chromium is not available (Debian: apt-get install chromium chromium-driver)"
        if services_required():
            pytest.fail(f"{reason}; it is required (CI or FS_CC_REQUIRE_SERVICES is set)",
                        pytrace=False)
        pytest.skip(reason)
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run"):
        options.add_argument(argument)
    if console_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
