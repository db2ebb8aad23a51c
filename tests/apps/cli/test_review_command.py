"""``lpm-curate review``'s access policy: the printed URL names a host the guard accepts, and any
non-loopback address needs a token (the served behaviour is in tests/apps/review/test_review_app.py)."""

import pytest

from apps.cli.review_command import access_policy, is_loopback
from apps.review.request_guard import LOCAL_HOSTS, refusal


@pytest.mark.parametrize(("host", "allow", "url_host", "needs_token"), [
    ("127.0.0.1", [], "127.0.0.1", False),
    ("localhost", [], "localhost", False),
    ("::1", [], "[::1]", False),
    ("127.0.0.2", [], "127.0.0.2", False),
    ("10.0.0.5", [], "10.0.0.5", True),
    ("fd00::5", [], "[fd00::5]", True),
    ("0.0.0.0", ["review-box.test"], "review-box.test", True),
    ("10.0.0.5", ["review-box.test", "other.test"], "review-box.test", True),
])
def test_the_printed_url_names_a_host_the_guard_accepts(host: str, allow: list[str], url_host: str,
                                                         needs_token: bool) -> None:
    hosts, printed, token = access_policy(host, allow)
    assert printed == url_host and (token is not None) == needs_token
    assert refusal("GET", {"host": f"{printed}:8765"}, hosts) is None
    assert refusal("GET", {"host": "evil.example:8765"}, hosts) is not None
    assert set(LOCAL_HOSTS) <= set(hosts)
    if token:
        assert len(token) >= 32 and token != access_policy(host, allow)[2], "a fresh token per start"


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_every_interface_needs_a_named_host(host: str) -> None:
    with pytest.raises(ValueError, match="--allow-host NAME"):
        access_policy(host, [])


def test_loopback() -> None:
    assert [is_loopback(h) for h in ("127.0.0.1", "::1", "[::1]", "localhost", "0.0.0.0", "10.1.2.3", "box")] == [
        True, True, True, True, False, False, False]
