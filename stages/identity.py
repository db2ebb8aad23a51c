"""Identity clusters across every video of a run, continued from earlier runs when asked.

Run-scope: each video sends one embedding per usable track (ArcFace on aligned crops when its
model is present, else the no-weights landmark/texture descriptor, which is weaker and marked
so); the driver clusters them (tracks seen together in one video are never merged) and, with
``match_run``, gives a cluster the id of an earlier run's identity it matches; each video then
records ``identity_id`` on its tracks and segments.
"""

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import cv2
import numpy as np

from annotators.face_track_embedding import DEFAULT_MAX_FRAMES, TrackEmbedding, embed_track
from annotators.identity_clusterer import IdentityTrack, KnownIdentity, cluster_identities, identity_of_track
from annotators.landmarked_face import FaceEmbedder, LandmarkedFace
from curation.models.registry import is_available
from curation.runtime.resources import Resources
from curation.runtime.run_scope_stage import RunScopeStage
from curation.runtime.video_work import VideoWork


@dataclass
class IdentityStage(RunScopeStage):
    name: ClassVar[str] = "identity"
    resources: ClassVar[Resources] = Resources(cpus=1)
    holds_model: ClassVar[bool] = True

    descriptor: Literal["auto", "arcface", "fallback"] = "auto"
    distance_threshold: float | None = None  # default: per descriptor kind (annotators/identity_clusterer)
    max_frames: int = field(default=8, metadata={"range": (1, 64)})
    match_run: str | None = None  # an earlier run directory whose identities this run continues

    def setup(self) -> None:
        self._embedder = face_embedder(self.descriptor)

    def summarize(self, work: VideoWork) -> list[dict[str, Any]]:
        out = []
        segments_of: dict[str, list[dict[str, Any]]] = {}
        for segment in work.segments:
            segments_of.setdefault(segment["track_id"], []).append(segment)
        for track in work.tracks:
            if not track.get("usable"):
                continue
            embedding = track_embedding(work, track["track_id"], self._embedder, self.max_frames)
            if embedding is None:
                continue
            segs = segments_of.get(track["track_id"], [])
            out.append(
                {
                    "track_id": track["track_id"],
                    "video_id": work.video_id,
                    "t_start": track["t_start"],
                    "t_end": track["t_end"],
                    "vector": embedding.vector,
                    "kind": embedding.kind,
                    "strength": embedding.strength,
                    "n_segments": len(segs),
                    "seconds": float(sum(s["t_end"] - s["t_start"] for s in segs)),
                }
            )
        return out

    def decide(self, summaries: dict[str, Any]) -> dict[str, Any]:
        entries = [e for video_id in sorted(summaries) for e in summaries[video_id] or []]
        tracks = [
            IdentityTrack(e["track_id"], e["video_id"], e["t_start"], e["t_end"], e["vector"], e["kind"])
            for e in entries
        ]
        identities = cluster_identities(tracks, self._earlier(), self.distance_threshold)
        by_track = {e["track_id"]: e for e in entries}
        rows = []
        of_track = {}
        for identity in identities:
            members = [by_track[t] for t in identity.track_ids]
            of_track.update(dict.fromkeys(identity.track_ids, identity.identity_id))
            rows.append(
                {
                    "identity_id": identity.identity_id,
                    "n_tracks": len(members),
                    "n_videos": len({m["video_id"] for m in members}),
                    "n_segments": sum(m["n_segments"] for m in members),
                    "seconds": sum(m["seconds"] for m in members),
                    "descriptor": identity.kind,
                    "cohesion": identity.intra_similarity,
                    "margin": identity.margin,
                    "matched_from": identity.identity_id if identity.earlier_similarity is not None else None,
                    "strength": members[0]["strength"],
                    "centroid": np.asarray(identity.centroid, np.float32).tolist(),
                }
            )
        return {"of_track": of_track, "rows": rows}

    def apply(self, work: VideoWork, decision: dict[str, Any]) -> VideoWork:
        for track in work.tracks:
            track["identity_id"] = decision["of_track"].get(track["track_id"])
        for segment in work.segments:
            segment["identity_id"] = decision["of_track"].get(segment["track_id"])
        return work

    def manifest_rows(self, decision: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        return {"identities": decision["rows"]}

    def _earlier(self) -> list[KnownIdentity]:
        if not self.match_run:
            return []
        from curation.manifests.manifest_writer import read_manifest
        from curation.run.run_store import RunStore

        rows = read_manifest(RunStore(self.match_run), "identities").to_pylist()
        return [KnownIdentity(r["identity_id"], np.asarray(r["centroid"], np.float64), r["descriptor"]) for r in rows]


def face_embedder(descriptor: str = "auto") -> FaceEmbedder:
    """ArcFace when asked for or (``auto``) when its model is present, else the no-weights descriptor."""
    if descriptor == "arcface" or (descriptor == "auto" and is_available("arcface")):
        from annotators.arcface_embedder import ArcFaceEmbedder

        return ArcFaceEmbedder()
    from annotators.face_descriptor import FaceDescriptor

    return FaceDescriptor()


def track_embedding(work: VideoWork, track_id: str, embedder: FaceEmbedder, max_frames: int) -> TrackEmbedding | None:
    """The track's identity vector from its candidate crops (None without crops), computed once per
    video and embedder kind: the states stage groups a video's faces with it before this stage runs."""
    cache = work.extras.setdefault("track_embeddings", {})
    key = f"{track_id}:{embedder.kind}:{max_frames}"
    if key not in cache:
        crops = work.extras.get("candidates", {}).get(track_id, [])
        faces = [
            LandmarkedFace(_decode(c["face_jpg"]), c["face_landmarks"].astype(np.float64), frame_index=i)
            for i, c in enumerate(crops)
        ]
        cache[key] = embed_track(track_id, faces, embedder, max_frames) if faces else None
    return cache[key]


def face_groups(work: VideoWork, tracks: list[dict[str, Any]], embedder: FaceEmbedder) -> dict[str, str]:
    """Track id -> the person within this one video (tracks of one person share a value), by the
    same clustering and cut as the run's identities; a track without crops is its own person."""
    embedded = {t["track_id"]: (t, track_embedding(work, t["track_id"], embedder, DEFAULT_MAX_FRAMES)) for t in tracks}
    members = [
        IdentityTrack(track_id, work.video_id, t["t_start"], t["t_end"], e.vector, e.kind)
        for track_id, (t, e) in embedded.items()
        if e is not None
    ]
    groups = {track_id: track_id for track_id in embedded}
    groups.update(identity_of_track(cluster_identities(members)))
    return groups


def _decode(jpeg: bytes) -> np.ndarray:
    return cv2.cvtColor(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
