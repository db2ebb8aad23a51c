import pytest
import torch
from lpm_tiny_models import SIZE, conditions, model

from lpm_train.models.patchify import patchify, unpatchify
from lpm_train.stream.kv_cache import StreamingKVCache


def test_patchify_round_trips_with_temporal_patches():
    video = torch.randn(2, 4, 3, SIZE, SIZE)
    tokens = patchify(video, (2, 4, 4))
    assert tokens.shape == (2, 2, 16, 3 * 2 * 4 * 4)
    assert torch.equal(unpatchify(tokens, (2, 4, 4), 3, SIZE), video)


@torch.no_grad()
def test_adaln_zero_initialisation_predicts_zero_velocity():
    m = model(perturb=False)
    out = m(torch.randn(2, 8, 3, SIZE, SIZE), torch.rand(2), conditions())
    assert float(out.abs().max()) == 0.0
    assert float(model()(torch.randn(2, 8, 3, SIZE, SIZE), torch.rand(2), conditions()).abs().mean()) > 0.01


@pytest.mark.parametrize("attention", ["full", "factorised"])
def test_block_causal_forward_equals_chunkwise_kv_cached_inference(attention):
    m = model(attention, chunk_frames=2)
    cond = conditions()
    cond.ref_valid[1] = False  # a dropped reference must be masked the same way in both paths
    x = torch.randn(2, 8, 3, SIZE, SIZE)
    t = torch.rand(2, 4).repeat_interleave(2, dim=1)  # one timestep per chunk
    with torch.no_grad():
        full = m(x, t, cond)
        cache = StreamingKVCache(window_frames=8)
        cache.set_sink(m.reference_kv(cond))
        chunks = []
        for first in range(0, 8, 2):
            v, kvs = m.forward_cached(x[:, first : first + 2], t[:, first : first + 2], cond, first, cache.past(), 1)
            cache.append(kvs)
            chunks.append(v)
    torch.testing.assert_close(torch.cat(chunks, 1), full, rtol=1e-5, atol=1e-5)


def test_student_is_causal_and_teacher_is_not():
    x = torch.randn(1, 8, 3, SIZE, SIZE)
    later = x.clone()
    later[:, 6:] += 1.0
    cond = conditions(b=1)
    t = torch.full((1,), 0.5)
    with torch.no_grad():
        student = model(chunk_frames=2)
        a, b = student(x, t, cond), student(later, t, cond)
        assert torch.allclose(a[:, :6], b[:, :6], atol=1e-6)
        assert not torch.allclose(a[:, 6:], b[:, 6:], atol=1e-3)
        teacher = model(chunk_frames=0)
        assert not torch.allclose(teacher(x, t, cond)[:, :6], teacher(later, t, cond)[:, :6], atol=1e-4)


def test_audio_attention_sees_only_a_window_around_each_frame():
    # One block: audio reaches a frame only through its own window (no later self-attention).
    m = model(depth=1)
    cond = conditions(b=1)
    cond.speak_valid[:] = True
    x, t = torch.randn(1, 8, 3, SIZE, SIZE), torch.full((1,), 0.5)
    changed = conditions(b=1)
    changed.speak_valid[:] = True
    changed.audio_speak = cond.audio_speak.clone()
    changed.audio_speak[:, 7] += 5.0
    with torch.no_grad():
        diff = (m(x, t, cond) - m(x, t, changed)).abs().amax(dim=(0, 2, 3, 4))
    assert float(diff[:6].max()) == 0.0  # frames 0-5 are more than one frame from frame 7
    assert float(diff[6]) > 0 and float(diff[7]) > 0


def test_speak_and_listen_streams_alternate_and_respect_state_masks():
    m = model(depth=1)  # block 0 hears the speak stream only
    cond, x, t = conditions(b=1), torch.randn(1, 8, 3, SIZE, SIZE), torch.full((1,), 0.5)
    louder_listen = conditions(b=1)
    louder_listen.audio_listen = cond.audio_listen + 3.0
    masked_speech = conditions(b=1)
    masked_speech.audio_speak = cond.audio_speak.clone()
    masked_speech.audio_speak[:, 6:] += 3.0  # frames 6, 7 are listening: speak audio is masked
    with torch.no_grad():
        base = m(x, t, cond)
        assert torch.equal(base, m(x, t, louder_listen))
        assert torch.equal(base, m(x, t, masked_speech))
        two_blocks = model(depth=2)
        assert not torch.allclose(two_blocks(x, t, cond), two_blocks(x, t, louder_listen), atol=1e-4)


def test_dropped_references_and_text_are_ignored():
    m, x, t = model(), torch.randn(2, 8, 3, SIZE, SIZE), torch.full((2,), 0.5)
    cond = conditions()
    other = conditions(seed=1)
    other.audio_speak, other.audio_listen, other.state = cond.audio_speak, cond.audio_listen, cond.state
    other.speak_valid, other.listen_valid = cond.speak_valid, cond.listen_valid
    rows = torch.tensor([True, True])
    with torch.no_grad():
        dropped_a = m(x, t, cond.drop(text=rows, refs=rows))
        dropped_b = m(x, t, other.drop(text=rows, refs=rows))
        torch.testing.assert_close(dropped_a, dropped_b)
        assert not torch.allclose(m(x, t, cond), m(x, t, other), atol=1e-4)


def test_per_frame_timesteps_condition_each_frame():
    m, x, cond = model(), torch.randn(1, 8, 3, SIZE, SIZE), conditions(b=1)
    with torch.no_grad():
        uniform = m(x, torch.full((1,), 0.5), cond)
        per_frame = m(x, torch.full((1, 8), 0.5), cond)
        torch.testing.assert_close(uniform, per_frame)
        varied = torch.full((1, 8), 0.5)
        varied[:, 3] = 0.9
        assert not torch.allclose(m(x, varied, cond), uniform, atol=1e-4)


def test_activation_checkpointing_recomputes_blocks_with_the_same_loss_and_gradients():
    import copy

    plain = model(seed=3).train()
    recomputing = copy.deepcopy(plain)
    recomputing.config.activation_checkpointing = True
    calls = {"plain": 0, "recomputing": 0}
    for name, m in (("plain", plain), ("recomputing", recomputing)):
        for block in m.blocks:
            # a pre-hook: the recomputation stops as soon as backward has what it needs, before a
            # forward hook would run
            block.register_forward_pre_hook(lambda *_, name=name: calls.__setitem__(name, calls[name] + 1))
    g = torch.Generator().manual_seed(0)
    x, t, cond = torch.randn(2, 4, 3, SIZE, SIZE, generator=g), torch.rand(2, generator=g), conditions(t=4)
    losses = []
    for m in (plain, recomputing):
        loss = m(x, t, cond).square().mean()
        loss.backward()
        losses.append(loss.detach())
    assert calls == {"plain": 2, "recomputing": 4}  # each of the 2 blocks runs again in backward
    torch.testing.assert_close(losses[0], losses[1], rtol=0, atol=0)
    for a, b in zip(plain.parameters(), recomputing.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-6, atol=1e-7)
    with torch.no_grad():  # inference never recomputes
        recomputing(x, t, cond)
    assert calls["recomputing"] == 6  # two more block calls, none repeated
