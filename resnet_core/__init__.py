"""resnet_core: build, measure and draw residual networks. Imports torch, never streamlit."""

from resnet_core.analysis import Analysis, InputTooSmallError, LayerRecord, analyze
from resnet_core.model import BasicBlock, Bottleneck, ResidualBlock, ResNet, build
from resnet_core.spec import FIELD_HELP, PRESETS, ResNetSpec, default_input_size, describe, preset

__all__ = [
    "FIELD_HELP",
    "PRESETS",
    "Analysis",
    "BasicBlock",
    "Bottleneck",
    "InputTooSmallError",
    "LayerRecord",
    "ResNet",
    "ResNetSpec",
    "ResidualBlock",
    "analyze",
    "build",
    "default_input_size",
    "describe",
    "preset",
]
