import dataclasses

import pytest
import torch
from lpm_tiny_models import conditions
from torch import nn

from lpm_train.config import TrainConfig
from lpm_train.diffusion.euler_sampler import euler_sample, guided_velocity, time_grid
from lpm_train.diffusion.rectified_flow import draw, logit_normal, noised, predicted_clean


def test_logit_normal_timesteps_concentrate_mid_way():
    t = logit_normal((20_000,), 0.0, 1.0, torch.Generator().manual_seed(0))
    assert float(t.min()) > 0.0 and float(t.max()) < 1.0
    assert abs(float(t.median()) - 0.5) < 0.02
    # Logit-normal puts less mass near the ends than uniform (which has 20% in these bands).
    assert float(((t < 0.1) | (t > 0.9)).float().mean()) < 0.1


def test_interpolation_and_clean_prediction_invert_each_other():
    x, noise, t = torch.randn(3, 4, 2), torch.randn(3, 4, 2), torch.tensor([0.0, 0.3, 1.0])
    z = noised(x, t, noise)
    assert torch.equal(z[0], x[0]) and torch.equal(z[2], noise[2])
    torch.testing.assert_close(predicted_clean(z, t, noise - x), x)


def test_dropout_masks_are_independent_per_condition():
    config = dataclasses.replace(TrainConfig(), p_drop_audio=0.5, p_drop_text=0.5, p_drop_refs=0.5)
    d = draw(torch.zeros(4000, 1), config, torch.Generator().manual_seed(0))
    rates = [float(m.float().mean()) for m in (d.drop_audio, d.drop_text, d.drop_refs)]
    assert all(abs(r - 0.5) < 0.03 for r in rates)
    both = float((d.drop_audio & d.drop_text).float().mean())
    assert abs(both - 0.25) < 0.03  # independent, not one shared coin
    config_frames = dataclasses.replace(config, per_frame_timesteps=True)
    assert draw(torch.zeros(2, 5, 3), config_frames, torch.Generator()).t.shape == (2, 5)


class TowardsTarget(nn.Module):
    """The exact velocity field of a point mass at ``target``: ``v = (z - target) / t``."""

    def __init__(self, target):
        super().__init__()
        self.target = target

    def forward(self, z, t, cond):
        return (z - self.target) / t.view(-1, *([1] * (z.dim() - 1)))


def test_euler_sampler_follows_the_flow_to_the_data():
    target = torch.randn(2, 4, 3, 2, 2)
    noise = torch.randn_like(target)
    for shift in (1.0, 3.0):
        sample, kept = euler_sample(TowardsTarget(target), noise, conditions(b=2, t=4), 8, shift, keep_every=2)
        torch.testing.assert_close(sample, target, rtol=1e-4, atol=1e-4)
        assert len(kept) == 4 and torch.equal(kept[0], noise)
        grid = time_grid(8, shift)
        torch.testing.assert_close(kept[1], noised(target, grid[2].expand(2), noise), rtol=1e-4, atol=1e-4)


class ConditionProbe(nn.Module):
    """Velocity = 1 + 10·[text kept] + 100·[audio kept], to read which passes guidance used."""

    def forward(self, z, t, cond):
        text = cond.text_valid.any(1).float() * 10
        audio = (cond.speak_valid | cond.listen_valid).any(1).float() * 100
        return torch.ones_like(z) + (1 + text + audio).view(-1, *([1] * (z.dim() - 1))) - 1


@pytest.mark.parametrize(("g_text", "g_audio", "expected"), [(1.0, 1.0, 111.0), (2.0, 1.0, 121.0), (1.0, 3.0, 311.0)])
def test_guidance_composes_text_then_audio(g_text, g_audio, expected):
    z, t = torch.zeros(2, 4, 1), torch.full((2,), 0.5)
    v = guided_velocity(ConditionProbe(), z, t, conditions(b=2, t=4), g_text, g_audio)
    assert torch.allclose(v, torch.full_like(v, expected))
