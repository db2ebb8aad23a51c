"""``lpm-curate models train-face-voice``: the face/voice map of the ``learned_av_face_voice`` verdict,
fitted from the feature cache's people (deterministic: the same cache gives the same SHA-256)."""

import argparse
from pathlib import Path


def add_train_face_voice_parser(msub: argparse._SubParsersAction) -> None:
    t = msub.add_parser("train-face-voice", help="fit the face/voice map (annotators/models/face_voice_map) from "
                        "cached corpus features")
    t.add_argument("--features", required=True, help="feature cache of apps.bench.sync_corpus_features (with face "
                   "vectors)")
    t.add_argument("--out", default="face_voice_map.npz", help="map file to write (default: ./face_voice_map.npz)")
    t.set_defaults(handler=handle_train_face_voice)


def handle_train_face_voice(args: argparse.Namespace) -> int:
    from annotators.models.face_voice_map import MODEL, save_map
    from apps.bench.face_voice_training import face_vectors, own_voice_vectors, people_means, train_map
    from apps.bench.learned_sync_training import load_features
    from apps.cli.retrained_model import against_shipped
    from curation.models.model_catalog import MODEL_CATALOG
    from curation.models.model_store import sha256_of

    folder = Path(args.features)
    features = load_features(folder)
    faces, voices = face_vectors(folder, features), own_voice_vectors(features)
    out = Path(args.out)
    save_map(train_map(features, faces, voices), out)
    trained_on = f"{len(people_means(features.segments, faces, voices)[2])} people"
    digest = sha256_of(out)
    print(f"{out}: sha256 {digest} ({trained_on}, {len(features.segments)} segments); "
          f"{against_shipped(digest, MODEL_CATALOG[MODEL], trained_on)}")
    return 0
