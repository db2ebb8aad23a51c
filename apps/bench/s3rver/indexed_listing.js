#!/usr/bin/env node
'use strict';
// s3rver with a listing that costs what S3's does: a page of keys in time that does not grow
// with the number of keys before it.
//
// Usage: node indexed_listing.js <path of s3rver's bin script> <s3rver's own arguments...>
//
// s3rver 3.7.1's FilesystemStore.listObjects walks the prefix's folders from the start for every
// page, stat()ing each file until it passes the page's start key: N keys listed a page of 1,000 at
// a time cost O(N^2) stat calls. At 10^5 videos one folder of the bench holds 900,000 files, and
// the driver's one listing of it took more than 25 minutes of the server's CPU, which S3 (an
// index) does in ~100 requests. This replaces only listObjects: each folder's entries are read
// once, sorted by the keys they hold and kept until the folder changes (its mtime in ns), and a
// page starts with a binary search for its start key. Objects are read by s3rver's own code.

const fs = require('fs');
const path = require('path');

const bin = fs.realpathSync(process.argv[2]);
const lib = path.join(path.dirname(bin), '..', 'lib');
const FilesystemStore = require(path.join(lib, 'stores', 'filesystem'));
const S3Object = require(path.join(lib, 'models', 'object'));

const OBJECT_SUFFIX = '._S3rver_object';
const folders = new Map(); // folder path -> { stamp, entries: [{ key, name, folder }] }

function entriesOf(folder) {
  let stamp;
  try {
    const stat = fs.statSync(folder, { bigint: true });
    stamp = `${stat.mtimeNs}:${stat.ctimeNs}`;
  } catch (err) {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
    throw err;
  }
  const known = folders.get(folder);
  if (known && known.stamp === stamp) return known.entries;
  const entries = [];
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      entries.push({ key: `${entry.name}/`, name: entry.name, folder: true });
    } else if (entry.name.endsWith(OBJECT_SUFFIX)) {
      entries.push({ key: entry.name.slice(0, -OBJECT_SUFFIX.length), name: entry.name, folder: false });
    }
  }
  // S3 orders keys by their bytes: a folder "a/" sorts as "a/", after the object "a.txt"
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  folders.set(folder, { stamp, entries });
  return entries;
}

function firstIndex(entries, base, bound, inclusive) {
  // the first entry holding a key > bound (>= bound when inclusive), less the folder holding bound
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const key = base + entries[mid].key;
    if (key < bound || (!inclusive && key === bound)) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && entries[lo - 1].folder && bound.startsWith(base + entries[lo - 1].key)) lo -= 1;
  return lo;
}

// Every key under `folder` (whose keys start with `base`) that is > startAfter and starts with
// prefix, in key order.
function* keysUnder(folder, base, startAfter, prefix) {
  const entries = entriesOf(folder);
  let i = Math.max(firstIndex(entries, base, startAfter, false), firstIndex(entries, base, prefix, true));
  for (; i < entries.length; i++) {
    const entry = entries[i];
    const key = base + entry.key;
    const matches = key.startsWith(prefix) || (entry.folder && prefix.startsWith(key));
    if (!matches) {
      if (key > prefix) return;
      continue;
    }
    if (entry.folder) {
      yield* keysUnder(path.join(folder, entry.name), key, startAfter, prefix);
    } else if (key > startAfter) {
      yield key;
    }
  }
}

FilesystemStore.prototype.listObjects = async function listObjects(bucket, options) {
  const { delimiter = '', startAfter = '', prefix = '', maxKeys = Infinity } = options;
  const commonPrefixes = new Set();
  // s3rver's controller resumes the next page after the page's last key, so a common prefix met
  // after it is left to the next page (else it would be reported twice)
  let pending = [];
  const keys = [];
  let isTruncated = false;
  let walk = keysUnder(this.getBucketPath(bucket), '', startAfter, prefix);
  for (let next = walk.next(); !next.done; next = walk.next()) {
    const key = next.value;
    if (delimiter) {
      const idx = key.slice(prefix.length).indexOf(delimiter);
      if (idx !== -1) {
        // a common prefix stands for every key under it: skip them all, as S3 does
        const common = key.slice(0, prefix.length + idx + delimiter.length);
        pending.push(common);
        walk.return();
        walk = keysUnder(this.getBucketPath(bucket), '', `${common}\uffff`, prefix);
        continue;
      }
    }
    if (keys.length < maxKeys) {
      keys.push(key);
      pending.forEach(common => commonPrefixes.add(common));
      pending = [];
    } else {
      isTruncated = true;
      break;
    }
  }
  if (!isTruncated) pending.forEach(common => commonPrefixes.add(common));
  const metadata = await Promise.all(
    keys.map(key =>
      this.getMetadata(bucket, key).catch(err => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      }),
    ),
  );
  return {
    objects: keys
      .map((key, k) => [key, metadata[k]])
      .filter(([, m]) => m !== undefined)
      .map(([key, m]) => new S3Object(bucket, key, null, m)),
    commonPrefixes: [...commonPrefixes].sort(),
    isTruncated,
  };
};

process.argv.splice(2, 1);
require(bin);
