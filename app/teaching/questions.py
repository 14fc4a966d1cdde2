"""The explainer's check-yourself questions: a text template and an answer computed from a
``ResNetSpec`` the learner picks, so every answer is the live model's. No Streamlit here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.teaching.numbers import analysis_of, block_summary, downsample_blocks, zeroed_norms
from resnet_core.analysis import BlockSummary
from resnet_core.spec import ResNetSpec


@dataclass(frozen=True)
class Question:
    section: str
    key: str
    template: str  # str.format fields: name (the spec's description), and what ``fields`` returns
    answer: Callable[[ResNetSpec], int]
    applies: Callable[[ResNetSpec], bool] = lambda spec: True
    fields: Callable[[ResNetSpec], dict[str, object]] = lambda spec: {}
    why: str = ""

    def text(self, spec: ResNetSpec, name: str) -> str:
        return self.template.format(name=name, **self.fields(spec))


def _first_block_of_stage2(spec: ResNetSpec) -> BlockSummary:
    a = analysis_of(spec)
    return block_summary(a, "layer2.0" if spec.num_stages > 1 else "layer1.0")


QUESTIONS: tuple[Question, ...] = (
    Question(
        "degradation",
        "depth",
        "How many weighted layers (convolutions and the final fully connected layer, shortcut projections "
        "not counted) does {name} have?",
        lambda s: analysis_of(s).weighted_depth,
        why="The paper's depth: convs on the main path plus the fc layer.",
    ),
    Question(
        "residual",
        "additions",
        "How many residual additions F(x) + x does one forward pass of {name} perform?",
        lambda s: sum(1 for r in analysis_of(s).layers if r.kind == "ResidualAdd"),
        why="One per block.",
    ),
    Question(
        "shortcuts",
        "shortcut_params",
        "How many parameters sit on the shortcuts of {name} if every shortcut is option {option} "
        "(all blocks, BatchNorm included)?",
        lambda s: sum(b.shortcut_params for b in analysis_of(s).blocks),
        fields=lambda s: {"option": s.shortcut},
        why="Each projection holds a 1×1 conv (in × out weights) and a BN (2 × out).",
    ),
    Question(
        "shortcuts",
        "stage2_shortcut",
        "How many parameters does the shortcut of the first block of stage 2 of {name} hold?",
        lambda s: _first_block_of_stage2(s).shortcut_params,
        why="Zero for option A; in × out + 2 × out for a projection (B, C).",
    ),
    Question(
        "vgg_rules",
        "conv_macs",
        "How many multiply-adds does the first 3×3 conv of the last block of stage 1 of {name} perform, "
        "for one image at its default input size?",
        lambda s: analysis_of(s).layer(f"layer1.{s.layers[0] - 1}.conv{2 if s.block == 'bottleneck' else 1}").macs,
        why="H × W × C_in × C_out × 9 / groups for the output map H × W.",
    ),
    Question(
        "blocks",
        "out_channels",
        "How many channels leave the last stage of {name}?",
        lambda s: analysis_of(s).stage(f"layer{s.num_stages}").output_shape[1],
        why="planes of the last stage × expansion.",
    ),
    Question(
        "blocks",
        "downsample_paths",
        "How many blocks of {name} have a downsample module on their shortcut?",
        lambda s: downsample_blocks(analysis_of(s)),
        why="B: where stride ≠ 1 or channels change; C: every block; A: the zero-pad module where the shape changes.",
    ),
    Question(
        "stride",
        "other_layout_macs",
        "{name} puts the bottleneck's stride on the {here} conv. How many multiply-adds (in millions, rounded) "
        "would it perform with the stride on the {there} conv instead?",
        lambda s: round(analysis_of(s.replace(stride_on="3x3" if s.stride_on == "1x1" else "1x1")).totals.macs / 1e6),
        applies=lambda s: s.block == "bottleneck",
        fields=lambda s: {
            "here": "3×3" if s.stride_on == "3x3" else "first 1×1",
            "there": "first 1×1" if s.stride_on == "3x3" else "3×3",
        },
        why="Only the first block of stages 2 and later changes.",
    ),
    Question(
        "zero_init",
        "zeroed_gammas",
        "With zero_init_residual, how many scalar weights start at zero in {name}?",
        lambda s: zeroed_norms(s)[1],
        why="One per output channel of the last BN (or, pre-activated, every weight of the last conv) of each block.",
    ),
    Question(
        "family",
        "params",
        "How many trainable parameters does {name} have?",
        lambda s: analysis_of(s).totals.params,
        why="Sum over every conv, BN (weight and bias) and the fc layer.",
    ),
)


def questions_for(slug: str) -> list[Question]:
    return [q for q in QUESTIONS if q.section == slug]


def check_answer(question: Question, spec: ResNetSpec, given: int) -> bool:
    return int(given) == question.answer(spec)
