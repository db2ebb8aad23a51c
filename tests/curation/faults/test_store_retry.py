"""Run-store requests that fail for a passing reason are sent again, with backoff, and counted;
a missing object or a full disk is answered at once; a store that never answers ends as
``StoreUnavailableError``. Against moto's S3 server behind a proxy that answers 503 SlowDown,
resets connections and delays on a seeded fraction of requests: real HTTP faults met by real
s3fs/botocore."""

import errno
import os
from collections.abc import Iterator

import pytest
import s3fs
from botocore.exceptions import ClientError, EndpointConnectionError

from curation.faults import fault_counts, store_retry
from curation.faults.store_retry import StoreUnavailableError, is_transient, with_retries
from curation.store.run_store import RunStore
from tests.curation.run.faulty_proxy import FaultPlan, faulty_proxy
from tests.curation.runtime.s3_endpoint import s3_endpoint, s3_filesystem


def _client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "PutObject")


def test_transient_errors_are_told_from_permanent_ones() -> None:
    assert is_transient(OSError(errno.EBUSY, "SlowDown"))  # what s3fs makes of a 503
    assert is_transient(OSError(errno.EIO, "unknown code"))
    assert is_transient(ConnectionResetError())
    assert is_transient(TimeoutError())
    assert is_transient(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"))
    assert is_transient(_client_error("SlowDown", 503))
    assert is_transient(_client_error("InternalError", 500))
    assert is_transient(_client_error("TooManyRequestsException", 429))
    assert not is_transient(FileNotFoundError(errno.ENOENT, "no such key"))
    assert not is_transient(PermissionError(errno.EACCES, "denied"))
    assert not is_transient(OSError(errno.ENOSPC, "disk full"))
    assert not is_transient(_client_error("NoSuchBucket", 404))
    assert not is_transient(ValueError("bad argument"))


def test_a_request_is_sent_again_until_it_succeeds_and_each_retry_is_counted(monkeypatch) -> None:
    monkeypatch.setattr(store_retry, "BASE_DELAY_S", 0.001)
    failures = [OSError(errno.EBUSY, "SlowDown"), ConnectionResetError(), TimeoutError()]
    calls = []

    def flaky() -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return "answer"

    before = fault_counts.snapshot()
    assert with_retries(flaky, "reading x") == "answer"
    assert len(calls) == 4
    assert fault_counts.since(before) == {fault_counts.STORE_RETRIES: 3}


def test_a_missing_object_is_not_retried_and_a_dead_store_gives_up(monkeypatch) -> None:
    monkeypatch.setattr(store_retry, "BASE_DELAY_S", 0.001)
    calls = []

    def missing() -> bytes:
        calls.append(1)
        raise FileNotFoundError(errno.ENOENT, "gone")

    with pytest.raises(FileNotFoundError):
        with_retries(missing, "reading x")
    assert len(calls) == 1

    def down() -> bytes:
        calls.append(1)
        raise OSError(errno.EBUSY, "SlowDown")

    calls.clear()
    with pytest.raises(StoreUnavailableError, match="reading x 8 times") as caught:
        with_retries(down, "reading x")
    assert len(calls) == store_retry.ATTEMPTS and caught.value.errno == errno.EIO


@pytest.fixture(scope="module")
def moto() -> Iterator[dict[str, str]]:
    with s3_endpoint() as env:
        s3_filesystem(env).mkdir("faulty")
        yield env


@pytest.fixture
def store_env(moto: dict[str, str], monkeypatch) -> Iterator[dict[str, str]]:
    for key, value in moto.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # nothing may retry behind RunStore's back
    # fsspec reuses a filesystem made with the same options, and with it its endpoint: each test
    # must meet its own proxy
    s3fs.S3FileSystem.clear_instance_cache()
    yield moto
    s3fs.S3FileSystem.clear_instance_cache()


def test_run_store_on_s3_survives_503_resets_and_delays(store_env: dict[str, str], monkeypatch) -> None:
    plan = FaultPlan(error_fraction=0.2, reset_fraction=0.05, slow_fraction=0.1, slow_s=0.2, seed=7)
    with faulty_proxy(store_env["AWS_ENDPOINT_URL"], plan) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        store = RunStore("s3://faulty/run1")
        before = fault_counts.snapshot()
        payloads = {f"work/block0/v{i}.json": os.urandom(100 + i) for i in range(40)}
        for name, data in payloads.items():
            store.write_bytes(name, data)
        assert list(store.list("work/block0", ".json")) == sorted(n.rsplit("/", 1)[-1] for n in payloads)
        for name, data in payloads.items():
            assert store.exists(name)
            assert store.read_bytes(name) == data
        with pytest.raises(FileNotFoundError):
            store.read_bytes("work/block0/absent.json")
        assert not store.exists("work/block0/absent.json")
        retries = fault_counts.since(before).get(fault_counts.STORE_RETRIES, 0)
    # every injected 503 cost exactly one retry, a delay none; a reset one at most (aiohttp sends a
    # request again by itself when the server drops a kept-alive connection it had reused)
    assert plan.seen["errors"] > 0 and plan.seen["resets"] > 0 and plan.seen["slow"] > 0
    assert plan.seen["errors"] <= retries <= plan.seen["errors"] + plan.seen["resets"]
    # the same bytes as written straight to moto
    direct = s3_filesystem(store_env)
    assert all(direct.cat_file(f"faulty/run1/{name}") == data for name, data in payloads.items())


def test_shard_uploads_and_listings_and_the_out_folder_check_are_retried(
    store_env: dict[str, str], monkeypatch, tmp_path
) -> None:
    """The calls that went to s3fs without the retry (found by the two-node fault test: a 503 on
    the shard plan's listing ended the run): uploading a shard, listing shards, looking into --out."""
    from curation.dataset.shard_writer import _place, committed_shards
    from curation.run.run_folder import _entries

    plan = FaultPlan(error_fraction=0.1, seed=5)
    with faulty_proxy(store_env["AWS_ENDPOINT_URL"], plan) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        store = RunStore("s3://faulty/run3")
        before = fault_counts.snapshot()
        for i in range(8):
            local = tmp_path / f"s{i}.tar"
            local.write_bytes(os.urandom(64))
            _place(store, str(local), f"shards/b0/s{i}.tar")
            assert not local.exists()
        for _ in range(5):
            assert sorted(committed_shards(store)) == [f"shards/b0/s{i}.tar" for i in range(8)]
            assert _entries(store) == {"shards"}
        retries = fault_counts.since(before).get(fault_counts.STORE_RETRIES, 0)
    assert plan.seen["errors"] > 0 and retries == plan.seen["errors"], (retries, plan.seen)


def test_a_store_that_never_answers_ends_in_store_unavailable(store_env: dict[str, str], monkeypatch) -> None:
    monkeypatch.setattr(store_retry, "BASE_DELAY_S", 0.001)
    with faulty_proxy(store_env["AWS_ENDPOINT_URL"], FaultPlan(error_fraction=1.0)) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        with pytest.raises(StoreUnavailableError, match=r"writing x\.json"):
            RunStore("s3://faulty/run2").write_bytes("x.json", b"{}")
        assert proxy.plan.seen["requests"] == store_retry.ATTEMPTS  # one HTTP request per attempt
