"""The explainer's check-yourself questions (app.teaching.questions): each answer equals an independent
computation on several specs, and a wrong answer is told so."""

from __future__ import annotations

import math

import pytest

from app.teaching.questions import QUESTIONS, Question, check_answer, questions_for
from app.teaching.sources import SOURCES
from resnet_core import PRESETS, ResNetSpec, analyze
from resnet_core.spec import default_input_size
from tests.closed_form import closed_form_depth, closed_form_params

# -- check yourself --------------------------------------------------------------------------------------

SPECS = [
    PRESETS["resnet18"],
    PRESETS["resnet50"],
    PRESETS["resnet34"].replace(shortcut="C"),
    PRESETS["resnet50"].replace(shortcut="A", stride_on="1x1"),
    PRESETS["resnet20"],
    ResNetSpec(block="bottleneck", layers=(1, 2), stem="cifar", width=8, shortcut="C", num_classes=7),
]


def independent_answer(key: str, spec: ResNetSpec) -> int:
    size = default_input_size(spec)
    w = spec.width
    e = 1 if spec.block == "basic" else 4
    if key == "depth":
        return closed_form_depth(spec)
    if key == "additions":
        return sum(spec.layers)
    if key in ("shortcut_params", "stage2_shortcut"):
        total, in_ch, first_stage2 = 0, w, None
        for i, n in enumerate(spec.layers):
            out = w * 2**i * e
            for b in range(n):
                stride = (1 if i == 0 else 2) if b == 0 else 1
                changes = stride != 1 or in_ch != out
                p = in_ch * out + 2 * out if spec.shortcut == "C" or (spec.shortcut == "B" and changes) else 0
                total += p
                if (i, b) == ((1 if len(spec.layers) > 1 else 0), 0):
                    first_stage2 = p
                in_ch = out
        return total if key == "shortcut_params" else first_stage2
    if key == "conv_macs":
        hw = size // (4 if spec.stem == "imagenet" else 1)
        return hw * hw * w * w * 9
    if key == "out_channels":
        return w * 2 ** (spec.num_stages - 1) * e
    if key == "downsample_paths":
        count, in_ch = 0, w
        for i, n in enumerate(spec.layers):
            out = w * 2**i * e
            for b in range(n):
                stride = (1 if i == 0 else 2) if b == 0 else 1
                changes = stride != 1 or in_ch != out
                count += spec.shortcut == "C" or changes
                in_ch = out
        return count
    if key == "other_layout_macs":
        other = spec.replace(stride_on="3x3" if spec.stride_on == "1x1" else "1x1")
        return round(analyze(other, size).totals.macs / 1e6)
    if key == "zeroed_gammas":
        return sum(n * w * 2**i * e for i, n in enumerate(spec.layers))
    if key == "params":
        return closed_form_params(spec)
    raise KeyError(key)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.block}-{s.layers}-{s.shortcut}-{s.stride_on}")
@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.key)
def test_question_answers_match_an_independent_computation(question: Question, spec: ResNetSpec) -> None:
    if not question.applies(spec):
        assert spec.block == "basic"
        return
    assert "{" not in question.text(spec, "net")
    expected = independent_answer(question.key, spec)
    assert question.answer(spec) == expected
    assert check_answer(question, spec, expected)
    assert not check_answer(question, spec, expected + 1)


def test_every_section_with_code_has_questions() -> None:
    for slug in SOURCES:
        assert questions_for(slug), slug
    assert math.isclose(len(QUESTIONS), 10)
