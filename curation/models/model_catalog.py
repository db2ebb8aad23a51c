"""The models the toolkit can use, with their official sources."""

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
            description="MediaPipe FaceLandmarker: face detector, 478 landmarks, 52 blendshapes, head pose",
            license="Apache-2.0",
            used_by=("faces",),
        ),
        ModelSpec(
            name="silero_vad",
            path="silero_vad.onnx",
            source="bundled",
            description="Silero VAD (ONNX), shipped inside the silero-vad wheel",
            license="MIT",
            used_by=("audio",),
        ),
        ModelSpec(
            name="whisper",
            path="faster-whisper-small",
            source="hf_snapshot",
            repo_id="Systran/faster-whisper-small",
            description="Whisper small, CTranslate2 format, transcribed by whisperx/faster-whisper",
            license="MIT",
            used_by=("asr",),
        ),
        ModelSpec(
            name="whisper_align_en",
            path="wav2vec2_fairseq_base_ls960_asr_ls960.pth",
            source="url",
            url="https://download.pytorch.org/torchaudio/models/wav2vec2_fairseq_base_ls960_asr_ls960.pth",
            description="torchaudio WAV2VEC2_ASR_BASE_960H, whisperx's English word-alignment model",
            license="MIT",
            used_by=("asr",),
        ),
        ModelSpec(
            name="diarization",
            path="speaker-diarization-community-1",
            source="hf_snapshot",
            repo_id="pyannote/speaker-diarization-community-1",
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
            description="OpenCLIP ViT-B-32 (LAION-2B) image embeddings for near-duplicate detection",
            license="MIT",
            used_by=("dedup",),
        ),
        ModelSpec(
            name="syncnet",
            path="syncnet_v2.model",
            source="url",
            # joonson/syncnet_python's download_model.sh; the publisher gives no checksum, so the
            # first fetch records one in the lock file.
            url="http://www.robots.ox.ac.uk/~vgg/software/lipsync/data/syncnet_v2.model",
            description="SyncNet v2 (Chung & Zisserman 2016), audio-visual lip-sync embeddings: the lip-sync "
            "verdict of speaking segments (annotators/models/syncnet); without it the offline av_sync estimator",
            license="MIT (joonson/syncnet_python)",
            used_by=("states",),
        ),
        ModelSpec(
            name="sd_vae_ft_mse",
            path="sd-vae-ft-mse",
            source="hf_snapshot",
            repo_id="stabilityai/sd-vae-ft-mse",
            description="Stable Diffusion VAE (ft-MSE), diffusers AutoencoderKL format: lpm_train's latent path "
            "(model.autoencoder = this folder; 4 latent channels, 8x downsampling)",
            license="MIT",
            used_by=("lpm_train",),
        ),
    )
}
