"""What two runs of the same inputs must share, read back for comparing them: every manifest row
and every sample's bytes, with what names the run's own place (input URIs, the run folder) cut
down. Used to compare a cluster run on S3 (clean, or under faults) with a local run."""

import json

from curation.dataset.shard_reader import read_sample
from curation.manifests.manifest_writer import read_manifest
from curation.store.run_store import RunStore

TABLES = ("videos", "rejections", "shots", "tracks", "segments", "pairs", "identities", "references", "shards")


def comparable_tables(out: str) -> dict[str, list[str]]:
    """Every manifest row, with input URIs reduced to file names and sorted, for comparing runs.

    An input identified by its URI (an empty file) has its id reduced too. A shard's checksum is
    left out: its samples' records name their source URI (s3://... in one run, a local path in
    the other); ``comparable_samples`` compares the shards' contents instead."""
    store = RunStore(out)
    tables = {}
    for name in TABLES:
        rows = read_manifest(store, name).to_pylist()
        for row in rows:
            if row.get("uri"):
                row["uri"] = row["uri"].rsplit("/", 1)[-1]
            if str(row.get("entity_id")).startswith("uri-"):
                # An empty file has no content to identify it: its id hashes the full URI.
                row["entity_id"] = "uri-"
            if name == "shards":
                row.pop("sha256")
        tables[name] = sorted(repr(sorted(row.items())) for row in rows)
    return tables


def comparable_samples(out: str) -> dict[str, dict[str, bytes]]:
    """Every sample's members read back from its shard; the record's source URI reduced to the file
    name: everything else must be the same bytes."""
    store = RunStore(out)
    samples = {}
    for segment in read_manifest(store, "segments").to_pylist():
        members = read_sample(store, segment["shard"], segment["key"])
        record = json.loads(members["json"])
        record["provenance"]["uri"] = record["provenance"]["uri"].rsplit("/", 1)[-1]
        samples[segment["key"]] = {**members, "json": json.dumps(record, sort_keys=True).encode()}
    return samples
