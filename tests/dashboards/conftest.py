"""The browser fixtures of test_browser.py (Chromium, a page that fails on JavaScript errors),
shared with the other page tests of this folder."""

from tests.dashboards.test_browser import browser, page  # noqa: F401  (fixtures, registered by name)
