"""s3rver as ``bench scale --store s3-files`` runs it: listings in S3's key order, a page at a time,
with the indexed listing that keeps a page's cost from growing with the keys before it."""

from pathlib import Path

import boto3
import pytest

from apps.bench.local_s3 import s3_endpoint

# "a.txt" sorts before the folder "a/" in S3's byte order (0x2e < 0x2f); "b/" is a common prefix
KEYS = ["a.txt", "a/1", "a/2/x", "a/3", "a0", "b/deep/1", "b/deep/2", "c"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    with s3_endpoint(Path(tmp_path_factory.mktemp("s3rver"))) as env:
        s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")
        s3.create_bucket(Bucket="bench")
        for key in reversed(KEYS):
            s3.put_object(Bucket="bench", Key=key, Body=key.encode())
        yield s3


def _pages(client, **kwargs) -> tuple[list[list[str]], list[str]]:
    pages, prefixes = [], []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket="bench", PaginationConfig={"PageSize": 2},
                                                                 **kwargs):
        pages.append([o["Key"] for o in page.get("Contents", [])])
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return pages, prefixes


def test_every_key_comes_once_in_byte_order_two_a_page(client) -> None:
    pages, _ = _pages(client)
    assert [key for page in pages for key in page] == sorted(KEYS) == KEYS
    assert all(len(page) <= 2 for page in pages) and len(pages) >= 4


def test_a_prefix_and_a_delimiter_give_the_keys_beside_and_the_folders_below_once(client) -> None:
    pages, prefixes = _pages(client, Prefix="a/", Delimiter="/")
    assert [key for page in pages for key in page] == ["a/1", "a/3"] and prefixes == ["a/2/"]
    pages, prefixes = _pages(client, Delimiter="/")
    assert [key for page in pages for key in page] == ["a.txt", "a0", "c"] and prefixes == ["a/", "b/"]
    pages, _ = _pages(client, Prefix="b/deep/", StartAfter="b/deep/1")
    assert [key for page in pages for key in page] == ["b/deep/2"]


def test_a_key_written_or_deleted_after_a_listing_is_seen_by_the_next(client) -> None:
    client.put_object(Bucket="bench", Key="a/25", Body=b"new")
    assert "a/25" in [key for page in _pages(client, Prefix="a/")[0] for key in page]
    client.delete_object(Bucket="bench", Key="a/25")
    assert "a/25" not in [key for page in _pages(client, Prefix="a/")[0] for key in page]
