"""Waiting on a page in a real browser (Playwright) from the test's side."""

import time


def wait_for(page, script: str, timeout: float = 60.0):
    """Poll a page expression from Python until it is truthy: Playwright's own wait_for_function
    uses eval, which the pages' Content-Security-Policy forbids (as it should)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {script}: body {page.evaluate('() => ({...document.body.dataset})')}")
