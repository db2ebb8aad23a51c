"""Ray's token authentication, as a client of a cluster sees it: find the token, ask the cluster
whether it takes this client, and say in one line what is missing when it does not.

Ray 2.60 starts clusters with token authentication on (``ray start`` whenever a token exists on
the node or ``RAY_AUTH_MODE=token``; ``ray.init()`` always), and a driver that joins one by its
address must then run with ``RAY_AUTH_MODE=token`` and the cluster's token, or every call is
refused with ``InvalidAuthToken``. Ray's own client never turns token mode on for an explicit
address, and when refused it retries for about 20 s, printing a warning a second, and ends in a
``ConnectionError`` that does not say why. So before ``ray.init`` the driver asks the cluster's
GCS one cheap question (its cluster id), first without a token, then with the token found here:
refused without and accepted with means token mode is switched on for this process; refused
with it (or with none found) becomes one line naming the token's source and the fix.

The token is looked up where Ray looks, in Ray's order (``RAY_AUTH_TOKEN``, the file named by
``RAY_AUTH_TOKEN_PATH``, ``~/.ray/auth_token``); ``ray get-auth-token`` prints the same token.
"""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AUTH_MODE_VAR = "RAY_AUTH_MODE"
TOKEN_VAR = "RAY_AUTH_TOKEN"
TOKEN_PATH_VAR = "RAY_AUTH_TOKEN_PATH"
# The GCS answers at once; a cluster still starting gets the rest of ray.init's own patience.
PROBE_TIMEOUT_S = 5.0
FIX = (
    "on the head node run `ray get-auth-token`, then here export RAY_AUTH_MODE=token and "
    "RAY_AUTH_TOKEN=<that token> (or copy it to ~/.ray/auth_token); see docs/cluster.md"
)


class RayAuthRefusedError(RuntimeError):
    """The cluster refused this client for its token: the message is the one line to show."""


@dataclass(frozen=True)
class RayToken:
    value: str
    source: str  # where it was found, for the message: "RAY_AUTH_TOKEN", a file path


def find_token(environ: dict[str, str] | None = None, home: Path | None = None) -> RayToken | None:
    """The token Ray would send, and where it comes from; ``None`` when there is none."""
    environ = dict(os.environ) if environ is None else environ
    if value := environ.get(TOKEN_VAR, "").strip():
        return RayToken(value, TOKEN_VAR)
    if path := environ.get(TOKEN_PATH_VAR):
        # Ray stops here too: a named file that is missing or empty is an error, not a fallback.
        text = Path(path).read_text().strip() if Path(path).is_file() else ""
        return RayToken(text, f"{TOKEN_PATH_VAR}={path}") if text else None
    default = (home or Path.home()) / ".ray" / "auth_token"
    if default.is_file() and (text := default.read_text().strip()):
        return RayToken(text, str(default))
    return None


def probe(address: str, token: str | None) -> str:
    """``"ok"``, ``"refused"`` (the GCS rejected the token, or its absence) or ``"unreachable"``."""
    import grpc
    from ray.core.generated import gcs_service_pb2, gcs_service_pb2_grpc

    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    with grpc.insecure_channel(address) as channel:
        stub = gcs_service_pb2_grpc.NodeInfoGcsServiceStub(channel)
        try:
            stub.GetClusterId(gcs_service_pb2.GetClusterIdRequest(), timeout=PROBE_TIMEOUT_S, metadata=metadata)
        except grpc.RpcError as err:
            return "refused" if err.code() == grpc.StatusCode.UNAUTHENTICATED else "unreachable"
    return "ok"


def enable_token_mode() -> None:
    """Token mode for this process and what it starts, as ``ray start`` turns it on for itself:
    Ray reads the mode once into its cached config, which has to be read again."""
    from ray._raylet import Config

    os.environ[AUTH_MODE_VAR] = "token"
    Config.initialize("")


def prepare_client(address: str) -> dict[str, str]:
    """Check that the cluster at ``address`` (``host:port`` of its GCS) takes this client, turning
    token mode on when it needs it and a token is here; returns the variables the job's runtime
    env should carry. Raises ``RayAuthRefusedError`` with the one line to show otherwise.

    The token itself stays out of the runtime env (Ray stores that in the job table and shows it
    on the dashboard): the workers run under their node's raylet, which has the node's token."""
    if address.startswith("ray://") or address == "auto":
        # Ray Client goes through its own server; "auto" is a cluster on this machine, where
        # ray.init itself turns token mode on when a token exists.
        return _mode_env()
    mode = os.environ.get(AUTH_MODE_VAR, "").lower()
    if probe(address, None) != "refused":
        # Open (no auth), or not answering: ray.init then says so itself, as before.
        return _mode_env()
    token = find_token()
    if token is None:
        raise RayAuthRefusedError(
            f"the Ray cluster at {address} has token authentication on and no token was found here "
            f"({TOKEN_VAR}, {TOKEN_PATH_VAR}, ~/.ray/auth_token): {FIX}"
        )
    if probe(address, token.value) == "refused":
        raise RayAuthRefusedError(
            f"the Ray cluster at {address} refused the token from {token.source} (not the cluster's token): {FIX}"
        )
    if mode == "disabled":
        raise RayAuthRefusedError(
            f"the Ray cluster at {address} has token authentication on but {AUTH_MODE_VAR}=disabled here: "
            f"export {AUTH_MODE_VAR}=token (the token from {token.source} is accepted)"
        )
    if mode != "token":
        enable_token_mode()
    return _mode_env()


def _mode_env() -> dict[str, str]:
    mode = os.environ.get(AUTH_MODE_VAR)
    return {AUTH_MODE_VAR: mode} if mode else {}


def refusal_line(err: BaseException) -> str | None:
    """The one line for an ``AuthenticationError`` that ``ray.init`` raised after all (token mode
    set by hand with no token at all); ``None`` for any other error."""
    from ray.exceptions import AuthenticationError

    if not isinstance(err, AuthenticationError):
        return None
    return f"Ray refused to connect: {err.message.strip().splitlines()[0]}; {FIX}"


def with_auth_env(runtime_env: dict[str, Any] | None, auth_env: dict[str, str]) -> dict[str, Any] | None:
    """``runtime_env`` with the auth mode added to its ``env_vars`` (nothing added when unset)."""
    if not auth_env:
        return runtime_env
    merged = dict(runtime_env or {})
    merged["env_vars"] = {**merged.get("env_vars", {}), **auth_env}
    return merged
