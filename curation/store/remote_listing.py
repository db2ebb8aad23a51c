"""The names in a folder of an object store, read a page of the listing at a time.

s3fs's ``ls`` gathers every object's details (key, size, ETag, dates: ~1.2 KB an object in Python,
tracemalloc) before it answers, and keeps them in its listings cache. A block's folder holds 3-5
objects a video, so at 10^5 videos the driver that lists it held ~0.5 GB at once, and kept it.
Here each page of the listing (1,000 objects) is read as it comes and only the wanted names are
kept; nothing is cached, so a file a worker wrote since is listed the next time.
"""

from typing import Any

import fsspec.asyn


def folder_names(fs: Any, folder: str, suffix: str) -> list[str]:
    """Names (not paths) of the files and folders directly in ``folder`` ending with ``suffix``;
    none when it is missing."""
    # s3fs's listing by pages (a private method of the s3fs that pyproject's s3 extra pins)
    iterdir = getattr(fs, "_iterdir", None)
    if iterdir is None:
        return _listed(fs, folder, suffix)
    bucket, key, _version = fs.split_path(folder)
    prefix = f"{key.rstrip('/')}/" if key else ""

    async def names() -> list[str]:
        found = []
        try:
            async for entry in iterdir(bucket, prefix=prefix):
                if entry.get("Key") == prefix:  # the folder's own marker object (a console's "create folder")
                    continue
                name = entry["name"].rstrip("/").rsplit("/", 1)[-1]
                if name.endswith(suffix):
                    found.append(name)
        except Exception as err:
            from s3fs.errors import translate_boto_error

            translated = translate_boto_error(err)  # as s3fs's ls() raises it (a 404, a 403)
            if translated is err:
                raise
            raise translated from err
        return found

    try:
        return fsspec.asyn.sync(fs.loop, names)
    except FileNotFoundError:  # no such bucket: a folder that is not there
        return []


def _listed(fs: Any, folder: str, suffix: str) -> list[str]:
    """Another fsspec store's listing. exists() first: s3fs-like stores' ls() of a missing folder
    lists its parent as well, to tell a file from a folder."""
    if not fs.exists(folder):
        return []
    names = [path.rstrip("/").rsplit("/", 1)[-1] for path in fs.ls(folder, detail=False)]
    fs.invalidate_cache(folder)  # the names are wanted once; the next listing is fresh
    return [name for name in names if name.endswith(suffix)]
