"""Shared fixtures: the torchvision reference (copied from ../shared/reference so tests stand alone)."""

from __future__ import annotations

import json
import math
import zlib
from pathlib import Path

import pytest
import torch

REFERENCE_PATH = Path(__file__).with_name("torchvision_resnets.json")


@pytest.fixture(scope="session")
def torchvision_reference() -> dict:
    return json.loads(REFERENCE_PATH.read_text())


def reference_input() -> torch.Tensor:
    """cos(0.013 i), i = 0 … 2·3·64·64 − 1, in float64, reshaped row-major, cast to float32."""
    i = torch.arange(2 * 3 * 64 * 64, dtype=torch.float64)
    return torch.cos(0.013 * i).reshape(2, 3, 64, 64).float()


def reference_value(key: str, like: torch.Tensor) -> torch.Tensor:
    """The reference's RNG-free value for one state_dict entry (see tests/README or shared/reference)."""
    n = like.numel()
    phase = (zlib.crc32(key.encode("utf-8")) % 1000) / 100
    base = torch.sin(0.61 * torch.arange(n, dtype=torch.float64) + phase)
    if key.endswith("num_batches_tracked"):
        value = torch.zeros(n, dtype=torch.float64)
    elif key.endswith("running_var"):
        value = 1 + 0.5 * base**2
    elif key.endswith("running_mean"):
        value = 0.1 * base
    elif like.dim() == 1 and key.endswith("weight"):
        value = 0.5 + 0.1 * base
    elif key.endswith("bias"):
        value = 0.05 * base
    else:
        fan_in = n / like.shape[0]
        value = base * math.sqrt(2 / fan_in)
    return value.reshape(like.shape).to(like.dtype)


def reference_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: reference_value(k, t) for k, t in model.state_dict().items()}
