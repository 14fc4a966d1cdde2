"""Write the golden CLI outputs that ``tests/test_golden.py`` compares today's outputs with.

Run once, from the code whose outputs are the reference (``.venv/bin/python tests/golden/generate.py``);
it rewrites ``tests/golden/*.out`` from ``COMMANDS`` and nothing else. Each file holds the exact
bytes ``python -m resnet_core ARGS`` wrote to standard output. Diagrams are kept as DOT text: the
test compares the graph dot reads from them (and the SVG dot lays out from them), so a change of
whitespace or attribute order in the DOT text is allowed, a change of a node, an edge or an
attribute value is not.

It also writes ``links.json``: how each link of ``LINKS`` (query strings that worked in the app
before the redesign, from the tests and the README) decoded — preset, spec, input size and the
notices shown — so that the same links keep decoding to the same selection.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path
from urllib.parse import parse_qs

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

#: file stem → CLI arguments. The README's documented commands first, then one per level and format.
COMMANDS: dict[str, list[str]] = {
    # README, "CLI"
    "summary_resnet50": ["summary", "resnet50"],
    "summary_resnet50_layer": ["summary", "resnet50", "--level", "layer"],
    "summary_resnet50_v1_224x160_json": ["summary", "resnet50", "--stride-on", "1x1", "--input", "224x160", "--format", "json"],
    "summary_resnet56_custom_csv_stage": ["summary", "resnet56", "--layers", "3,3,3", "--width", "32", "--format", "csv", "--level", "stage"],
    "diagram_resnet50": ["diagram", "resnet50"],
    "diagram_resnet152_layer_layer3": ["diagram", "resnet152", "--level", "layer", "--stage", "layer3"],
    # every level and format once more, on other networks and flags
    "summary_resnet20_stage": ["summary", "resnet20", "--level", "stage"],
    "summary_resnet18_csv_block": ["summary", "resnet18", "--format", "csv"],
    "summary_resnet20_csv_layer": ["summary", "resnet20", "--format", "csv", "--level", "layer"],
    "summary_resnext50_json": ["summary", "resnext50_32x4d", "--format", "json"],
    "summary_resnet34_shortcut_a_preact": ["summary", "resnet34", "--shortcut", "A", "--preact", "--in-channels", "1", "--classes", "10"],
    "summary_resnet50_deep_d_json": ["summary", "resnet50", "--stem", "deep", "--shortcut", "D", "--width-per-group", "128", "--zero-init-residual", "--format", "json"],
    "diagram_resnet50_stage": ["diagram", "resnet50", "--level", "stage"],
    "diagram_resnet18_layer_rf_lr": ["diagram", "resnet18", "--level", "layer", "--rf", "--lr"],
    "diagram_resnet34_c_unfold": ["diagram", "resnet34", "--shortcut", "C", "--unfold", "layer2,layer3", "--no-macs"],
    "diagram_resnet20_a_nofold": ["diagram", "resnet20", "--no-fold", "--no-legend", "--no-shapes"],
    "diagram_resnet50_d_stages": ["diagram", "resnet50", "--shortcut", "D", "--stage", "layer2,layer3", "--no-params"],
    "diagram_resnet110_stage_lr": ["diagram", "resnet110", "--level", "stage", "--lr", "--rf"],
}  # fmt: skip

#: (query string, prefix, default preset) of links that worked before: the README's, the app tests',
#: and their bad-value cases (which fall back with a notice).
LINKS: list[tuple[str, str, str]] = [
    ("arch=resnet50&stride_on=1x1&unfold=layer3", "", "resnet50"),
    ("arch=resnet50&stride_on=1x1&input=224", "", "resnet50"),
    ("arch=resnext50_32x4d&block=basic&groups=1&width_per_group=64", "", "resnet50"),
    ("arch=wide_resnet50_2&block=basic&width_per_group=64", "", "resnet50"),
    ("arch=resnet20&block=bottleneck&stride_on=1x1", "", "resnet50"),
    ("arch=resnext50_32x4d&width=8&width_per_group=8", "", "resnet50"),
    ("arch=resnet50&layers=3,4,23,3&stride_on=1x1&preact=1&input=224x160", "", "resnet50"),
    ("arch=resnet50&input=224x160", "", "resnet50"),
    ("arch=resnet50&input=224%C3%97160", "", "resnet50"),
    ("arch=resnet50&input=224X160", "", "resnet50"),
    ("arch=resnet18&input=160", "", "resnet50"),
    ("arch=resnet20&stem=imagenet", "", "resnet50"),
    ("arch=resnet56", "", "resnet50"),
    ("", "", "resnet50"),
    ("arch=resnet34&level=layer", "", "resnet50"),
    ("arch=resnet152&level=layer", "", "resnet50"),
    ("arch=resnet50&preact=true&zero_init_residual=on&num_classes=10&in_channels=1", "", "resnet50"),
    ("arch=resnet18&stem=deep&shortcut=D&width=32", "", "resnet50"),
    ("arch=resnet18&arch=resnet34", "", "resnet50"),
    ("a_arch=resnet18&a_shortcut=C&b_arch=resnet34", "a_", "resnet50"),
    ("a_arch=resnet18&a_shortcut=C&b_arch=resnet34", "b_", "resnet50"),
    ("n=4&a_arch=resnet50&a_stride_on=1x1&b_arch=resnet56&d_arch=resnet18&d_shortcut=C", "a_", "resnet18"),
    ("n=4&a_arch=resnet50&a_stride_on=1x1&b_arch=resnet56&d_arch=resnet18&d_shortcut=C", "c_", "resnet50"),
    ("n=4&a_arch=resnet50&a_stride_on=1x1&b_arch=resnet56&d_arch=resnet18&d_shortcut=C", "d_", "resnet34"),
    ("section=shortcuts&ex_q_arch=resnet34&ex_q_shortcut=C", "ex_q_", "resnet18"),
    ("live_arch=resnet20&live_input=40", "live_", "resnet50"),
    ("arch=resnet56&layer=layer3.8.relu2&row=1&col=6", "", "resnet18"),
    # bad values: each falls back with a notice
    ("arch=resnet51&level=atoms", "", "resnet50"),
    ("arch=resnet50&shortcut=Z", "", "resnet50"),
    ("arch=resnet50&layers=3,x", "", "resnet50"),
    ("arch=resnet50&layers=3,0,6,3", "", "resnet50"),
    ("arch=resnet50&width=wide", "", "resnet50"),
    ("arch=resnet50&preact=maybe", "", "resnet50"),
    ("arch=resnet50&input=huge", "", "resnet50"),
    ("arch=resnet50&input=0", "", "resnet50"),
    ("arch=resnet50&input=8", "", "resnet50"),
    ("arch=resnet50&stride_on=1x1&groups=-3", "", "resnet50"),
    ("arch=resnet50&block=basic&stride_on=1x1", "", "resnet50"),
    ("arch=resnet18&width=4096&layer=layer1.0.conv1", "", "resnet50"),
    ("arch=resnet18&width=4097", "", "resnet50"),
    ("arch=resnet50&layers=" + "9" * 5000 + "&input=" + "x" * 5000, "", "resnet50"),
]


def decode_link(query: str, prefix: str, default_arch: str) -> dict:
    """What ``query`` decodes to, as plain JSON: preset, spec, input size, notices."""
    from resnet_core.selection import from_query

    params = parse_qs(query, keep_blank_values=True)
    choice = from_query(params, prefix=prefix, default_arch=default_arch)
    size = choice.input_size if isinstance(choice.input_size, int) else list(choice.input_size)
    return {
        "query": query,
        "prefix": prefix,
        "default_arch": default_arch,
        "arch": choice.arch,
        "spec": choice.spec.to_dict(),
        "input_size": size,
        "notices": list(choice.notices),
    }


def output_of(argv: list[str]) -> bytes:
    """What ``python -m resnet_core ARGV`` writes to standard output (status 0 required)."""
    from resnet_core.cli import main

    buffer = io.BytesIO()
    text = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    with contextlib.redirect_stdout(text):
        status = main(argv)
        text.flush()
    if status != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with status {status}")
    return buffer.getvalue()


def main() -> int:
    for stem, argv in COMMANDS.items():
        data = output_of(argv)
        (HERE / f"{stem}.out").write_bytes(data)
        print(f"{stem}.out: {len(data):,} bytes  <- python -m resnet_core {' '.join(argv)}")
    links = [decode_link(*link) for link in LINKS]
    (HERE / "links.json").write_text(json.dumps(links, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"links.json: {len(links)} links, {sum(bool(x['notices']) for x in links)} with notices")
    return 0


if __name__ == "__main__":
    sys.exit(main())
