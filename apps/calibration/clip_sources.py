"""Where the bytes of a calibration clip come from: a local mirror of git repositories, or GitHub.

Both read one file at one commit, so a clip is the same bytes whichever way it came; the
checksum in the manifest decides whether they are used.
"""

import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Protocol

from apps.calibration.corpus_manifest import CorpusClip

RAW_GITHUB = "https://raw.githubusercontent.com"


class ClipUnavailableError(Exception):
    """The source has no such file at that commit (or cannot be reached); the message says which."""


class ClipSource(Protocol):
    def read(self, clip: CorpusClip) -> bytes: ...


class GitMirrorSource:
    """Repositories fetched beforehand, one git directory (bare or not) per repository under ``root``.

    Accepted layouts: ``root/owner+name/repo`` (what a snapshot fetcher leaves), ``root/owner+name``
    and ``root/owner/name``; the first that exists is read.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def git_dir(self, repo: str) -> Path | None:
        owner, name = repo.split("/", 1)
        flat = self.root / f"{owner}+{name}"
        for candidate in (flat / "repo", flat, self.root / owner / name):
            if candidate.is_dir():
                return candidate
        return None

    def read(self, clip: CorpusClip) -> bytes:
        git_dir = self.git_dir(clip.source_repo)
        if git_dir is None:
            raise ClipUnavailableError(f"{clip.source_repo} is not in the mirror {self.root}")
        done = subprocess.run(
            ["git", "-C", str(git_dir), "cat-file", "blob", f"{clip.commit}:{clip.source_path}"],
            capture_output=True, check=False,
        )
        if done.returncode != 0:
            reason = done.stderr.decode(errors="replace").strip().splitlines()
            raise ClipUnavailableError(
                f"{clip.source_repo}@{clip.commit[:12]}:{clip.source_path} not in the mirror"
                f" ({reason[-1] if reason else 'git cat-file failed'})"
            )
        return done.stdout


class RawGitHubSource:
    """``<base_url>/<owner>/<name>/<commit>/<path>``: raw.githubusercontent.com, or a stand-in for it."""

    def __init__(self, base_url: str = RAW_GITHUB, timeout_s: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def url(self, clip: CorpusClip) -> str:
        quoted = urllib.request.quote(clip.source_path)
        return f"{self.base_url}/{clip.source_repo}/{clip.commit}/{quoted}"

    def read(self, clip: CorpusClip) -> bytes:
        url = self.url(clip)
        try:
            # https to GitHub, or a test's loopback stand-in; the manifest's checksum judges the bytes.
            with urllib.request.urlopen(url, timeout=self.timeout_s) as response:
                return response.read()
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ClipUnavailableError(f"{url}: {exc}") from exc
