"""The trainer's config sections, one dataclass each (``lpm_train.config`` assembles and loads them).

Field comments give units and choices; where a default is taken from the anchors, the comment
gives the reason, so a change of default is a change of argument.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass
class DataConfig:
    shards: list[str] = field(default_factory=list)  # paths, globs, brace patterns or fsspec URLs
    heldout_shards: list[str] = field(default_factory=list)
    resampled: bool = True  # infinite stream of randomly drawn shards (training)
    size: int = 32  # model resolution (square)
    frame_buckets: list[int] = field(default_factory=lambda: [8])  # clip lengths batched together
    max_refs: int = 1
    batch_size: int = 4
    num_workers: int = 0
    shuffle_buffer_mb: float = 32.0  # shuffle before decode, bounded in encoded bytes
    max_pending_samples: int = 64  # samples the shape batcher may hold back across all shapes
    seed: int = 0
    audio_encoder: Literal["log_mel", "wav2vec2"] = "log_mel"
    n_mels: int = 32
    mel_per_frame: int = 2  # mel columns stacked per video frame
    wav2vec2_checkpoint: str = ""  # torch file with {"arch": {...}, "state_dict": {...}}
    text_encoder: Literal["hashed", "sentence"] = "hashed"
    text_max_tokens: int = 32
    text_vocab: int = 4096
    sentence_encoder_path: str = ""  # local HuggingFace model directory
    # segments: every sample on its own; pairs: speak-listen pairs of the pairs manifest, the
    # speaker's and the listener's sample of one exchange in one batch (lpm_train/data/pair_stream.py)
    sampling: Literal["segments", "pairs"] = "segments"
    pairs: list[str] = field(default_factory=list)  # pairs manifest parts or folders; empty: the shards' run's
    # Speaking samples are read only with one of these lip-sync verdicts (empty: any); e.g. [in_sync]
    # trains on confirmed sync alone (lpm_train/data/sample_selection.py)
    sync_verdicts: list[str] = field(default_factory=list)
    skip_picture_twins: bool = False  # leave out samples whose pictures another sample shows under other audio


@dataclass
class ModelConfig:
    channels: int = 3
    patch: list[int] = field(default_factory=lambda: [1, 4, 4])  # frames, height, width
    hidden: int = 64
    depth: int = 4
    heads: int = 4
    mlp_ratio: float = 4.0
    attention: Literal["full", "factorised"] = "full"  # factorised: spatial then temporal
    audio_window: int = 2  # token frames either side that each frame's audio attention sees
    rope_theta: float = 100.0
    max_refs: int = 4  # reference index embeddings
    # A frozen image autoencoder in diffusers' format (folder): the DiT then works on its latents
    # (lpm_train/latent/autoencoder.py). Empty: pixels, as in the CPU tests.
    autoencoder: str = ""
    # Recompute each block's activations in the backward pass instead of keeping them: activation
    # memory of one block instead of ``depth``, for about a third more compute (long GPU clips).
    activation_checkpointing: bool = False


@dataclass
class TrainConfig:
    out_dir: str = "runs/base"
    steps: int = 200
    lr: float = 1e-3
    weight_decay: float = 0.0
    warmup_steps: int = 20
    grad_clip: float = 1.0
    ema_decay: float = 0.99
    seed: int = 0
    log_every: int = 10
    checkpoint_every: int = 100
    logit_normal_mean: float = 0.0
    logit_normal_std: float = 1.0
    per_frame_timesteps: bool = False  # independent t per frame (diffusion forcing)
    p_drop_audio: float = 0.1
    p_drop_text: float = 0.1
    p_drop_refs: float = 0.1
    precision: Literal["auto", "fp32", "bf16"] = "auto"  # auto: bf16 on CUDA, fp32 on CPU
    threads: int = 0  # torch intra-op threads; 0 keeps torch's default (one per core)
    heldout_batches: int = 1
    # torch.compile the trained model in ``base`` (a GPU option: compiling on a CPU needs a C++
    # toolchain and takes minutes). Distillation's streamed rollouts stay eager.
    compile: bool = False
    # newest step checkpoints kept (base and distill), so a late blow-up can be rolled back
    keep_checkpoints: int = field(default=3, metadata={"range": (0, None)})
    # Every this many steps rank 0 writes mp4s (with their audio) of ``validation_samples`` fixed
    # held-out samples under ``<out_dir>/samples/step-<n>/`` (base: the EMA teacher with guidance;
    # distill: the EMA student streamed). 0: never. Losses alone do not show lip sync or identity.
    validate_every: int = 100
    validation_samples: int = 2


@dataclass
class SamplerConfig:
    """The teacher's guided Euler sampler: ``lpm-train sample``, the ODE pairs and DMD's real
    score all use it, so the student is distilled toward the distribution users sample."""

    steps: int = 16
    # Classifier-free guidance > 1, as the anchors distil: CausVid and Self-Forcing take the DMD
    # real score and the ODE-pair teacher with guidance 3-3.5 (a guidance-free teacher's samples
    # are blurry and weakly conditioned; the student inherits whatever its target is).
    guidance_text: float = 3.0
    # Audio-driven talking-head samplers guide audio separately at 3-4.5 (lip sync is the point).
    guidance_audio: float = 3.5
    shift: float = 1.0  # timestep shift; >1 spends more steps at high noise


@dataclass
class DistillConfig:
    out_dir: str = "runs/distill"
    teacher_checkpoint: str = ""
    ode_pairs_dir: str = "runs/ode_pairs"
    ode_pairs: int = 16  # teacher trajectories to write
    ode_pairs_per_shard: int = 8
    # Trajectories are stored as bfloat16: half of float32's bytes (a gpu_small pair of 31 MB in
    # pixels), and bf16's 3 significant digits are below what regression onto them can resolve.
    pair_dtype: Literal["bfloat16", "float32"] = "bfloat16"
    chunk_frames: int = 2
    student_steps: int = 4  # few-step schedule of the student
    regression_steps: int = 200
    straight_fraction: float = 0.75  # regression inputs on the noise-sample line instead of the path
    dmd_steps: int = 100
    # DMD2's two-time-scale rule (Self-Forcing: dfake_gen_update_ratio 5): the critic must track
    # the student's moving distribution, or the fake score lags and the generator gradient is stale.
    critic_updates_per_generator: int = 5
    # CausVid / Self-Forcing: once ODE regression has initialised the student, DMD alone trains it.
    dmd_weight: float = 1.0
    # An optional pull toward the teacher's own sample of the same noise. 0 by default: it pins the
    # student to the teacher's deterministic map, which DMD does not need and which fights the
    # distribution-matching gradient (the old default 1.0 against 0.05 DMD was mostly regression).
    dmd_regression_weight: float = 0.0
    # Rollouts keep the same generated context as ``stream.window_frames`` (references are the
    # sink in both): Self-Forcing trains on its own rolling-window rollouts, so what streaming
    # evicts is evicted in training too. 0: the whole clip.
    rollout_window_frames: int = field(default=4, metadata={"range": (0, None)})
    lr: float = 5e-4
    critic_lr: float = 5e-4
    ema_decay: float = 0.98
    eval_steps: list[int] = field(default_factory=lambda: [1, 2, 4])  # few-step counts evaluated
    seed: int = 0
    log_every: int = 10
    checkpoint_every: int = 100


@dataclass
class StreamConfig:
    checkpoint: str = ""
    audio: str = ""  # driving wav (16 kHz mono); empty: the first sample of data.shards
    state: Literal["speaking", "listening", "idle"] = "speaking"
    caption: str = ""
    reference: str = ""  # reference image; empty: the sample's references
    out: str = "runs/stream.mp4"
    chunks: int = 0  # 0: as many as the audio lasts
    window_frames: int = 4  # frames of generated context kept besides the reference sink
    steps: int = 4  # denoising steps per chunk
    fps: float = 25.0  # frame rate when driven by an audio file
    weights: Literal["ema", "model"] = "ema"
    seed: int = 0


@dataclass
class LiveConfig:
    """``lpm-train live``: the student driven live (a web page) or from two wavs (file mode).

    The model, window, steps and seed are ``stream``'s."""

    port: int = field(default=8770, metadata={"range": (0, 65535)})  # on 127.0.0.1 only; 0: any free port
    reply: str = ""  # the performer's own voice (wav) for the page's Reply button
    reply_text: str = ""  # else a reply spoken by espeak-ng
    text: str = ""  # the instruction the session starts with
    own: str = ""  # file mode: the performer's voice (wav) ...
    partner: str = ""  # ... and everyone else's (wav); either one set selects file mode
    out: str = "runs/live.mp4"  # file mode: written chunk by chunk as it goes
    piece_ms: int = field(default=40, metadata={"range": (1, None)})  # file mode: pieces pushed, as a microphone
    threshold_dbfs: float = -40.0  # voice activity: a frame louder than this is voiced
    hold_frames: int = field(default=6, metadata={"range": (1, None)})  # a heard state holds this long first


@dataclass
class SampleConfig:
    checkpoint: str = ""  # empty: <train.out_dir>/checkpoint.pt
    out_dir: str = "runs/samples"
    count: int = 4  # fixed held-out samples rendered
    frames: int = 0  # frames per video (also for validation videos); 0: the largest training bucket
    weights: Literal["ema", "model"] = "ema"
    seed: int = 0


@dataclass
class ScoreConfig:
    samples: str = ""  # folder of mp4s (``lpm-train score --samples DIR``)
    timeout_s: float = 3600.0


@dataclass
class BenchConfig:
    loader_batches: int = 8
    model_steps: int = 5
    stream_chunks: int = 16
    context_chunks: int = 16  # context length at which KV cache and recomputation are compared
    live_seconds: float = 8.0  # audio fed to the live session figures
    repeats: int = 3
