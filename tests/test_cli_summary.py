"""`python -m resnet_core summary`: JSON schema, table, CSV, levels, spec overrides, errors."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

import pytest

from resnet_core import PRESETS, analyze
from resnet_core.cli import main
from resnet_core.export import rows
from resnet_core.units import byte_size, count


def run_ok(capsys, *argv: str) -> str:
    assert main(["summary", *argv]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out


def run_json(capsys, *argv: str) -> dict:
    return json.loads(run_ok(capsys, *argv, "--format", "json"))


def test_json_is_one_object_with_the_promised_schema(capsys):
    out = run_json(capsys, "resnet50")
    assert out["arch"] == "resnet50"
    assert out["spec"] == PRESETS["resnet50"].to_dict()
    assert out["input_shape"] == [1, 3, 224, 224]
    assert out["totals"] == {
        "params": 25_557_032,
        "trainable_params": 25_557_032,
        "macs": 4_089_184_256,
        "flops": 8_178_368_512,
        "activation_bytes": analyze(PRESETS["resnet50"]).totals.activation_bytes,
        "other_ops": analyze(PRESETS["resnet50"]).totals.other_ops,
    }
    stage_keys = {"name", "output_shape", "params", "macs", "rf", "jump", "padding"}
    assert [s["name"] for s in out["stages"]] == ["stem", "layer1", "layer2", "layer3", "layer4", "head"]
    assert all(stage_keys <= set(s) for s in out["stages"])
    assert out["stages"][4]["rf"] == 427
    layer_keys = {"name", "kind", "stage", "block", "output_shape", "params", "macs", "activation_bytes"}
    assert all(layer_keys | {"rf", "jump", "padding"} <= set(r) for r in out["layers"])
    conv = next(r for r in out["layers"] if r["name"] == "layer1.0.conv1")
    assert conv["kind"] == "Conv2d" and conv["stage"] == "layer1" and conv["block"] == "layer1.0"
    assert conv["output_shape"] == [1, 64, 56, 56]
    assert conv["params"] == 64 * 64 and conv["macs"] == 56 * 56 * 64 * 64
    assert conv["activation_bytes"] == 64 * 56 * 56 * 4
    assert (conv["rf"], conv["jump"], conv["padding"]) == (11, 4, 5)
    assert sum(r["macs"] for r in out["layers"]) == out["totals"]["macs"]
    assert [b["name"] for b in out["blocks"]][:3] == ["layer1.0", "layer1.1", "layer1.2"]
    assert out["blocks"][0]["shortcut"] == "projection"


def test_every_spec_flag_overrides_its_field(capsys):
    out = run_json(
        capsys,
        "resnet50",
        "--block", "basic", "--layers", "2,1", "--stem", "cifar", "--width", "16", "--shortcut", "A",
        "--preact", "--classes", "10", "--input", "40x24",
    )  # fmt: skip
    assert (
        out["spec"]
        == PRESETS["resnet50"]
        .replace(block="basic", layers=(2, 1), stem="cifar", width=16, shortcut="A", preact=True, num_classes=10)
        .to_dict()
    )
    assert out["input_shape"] == [1, 3, 40, 24]
    assert out["layers"][-1]["output_shape"] == [1, 10]
    out = run_json(capsys, "resnet50", "--stride-on", "1x1", "--groups", "32", "--width-per-group", "4")
    assert (out["spec"]["stride_on"], out["spec"]["groups"], out["spec"]["width_per_group"]) == ("1x1", 32, 4)
    assert out["totals"]["macs"] == analyze(PRESETS["resnext50_32x4d"].replace(stride_on="1x1")).totals.macs


def test_input_defaults_to_the_specs_own_size(capsys):
    assert run_json(capsys, "resnet20")["input_shape"] == [1, 3, 32, 32]
    assert run_json(capsys, "resnet20", "--stem", "imagenet")["input_shape"] == [1, 3, 224, 224]
    assert run_json(capsys, "resnet18", "--input", "160")["input_shape"] == [1, 3, 160, 160]


def test_table_reads_like_torchinfo_with_receptive_field_columns(capsys):
    out = run_ok(capsys, "resnet50")
    lines = out.splitlines()
    assert lines[0] == "resnet50: input [1, 3, 224, 224], block level"
    header = lines[2].split()
    assert header == ["Layer", "Kind", "Output", "shape", "Params", "MACs", "RF", "Jump", "Pad"]
    assert any(line.startswith("layer1 ") and "3 × Bottleneck" in line for line in lines)
    row = next(line for line in lines if "layer4.2 " in line)
    assert row.lstrip("├└─ ").split()[-3:] == ["427", "32", "213"]
    a = analyze(PRESETS["resnet50"])
    block = next(b for b in a.blocks if b.name == "layer4.2")
    assert re.search(rf"\b{count(block.params)} +{count(block.macs)} ", row), row  # human numbers: 4.46 M, 218 M
    t = a.totals
    assert "Total params: 25.6 M (25,557,032)" in lines
    assert "Trainable params: 25.6 M (25,557,032)" in lines
    assert "Non-trainable params: 0" in lines
    assert "MACs (conv + linear, one image): 4.09 G (4,089,184,256)" in lines
    assert "FLOPs (= 2 × MACs): 8.18 G (8,178,368,512)" in lines
    assert any(line.startswith(f"Other ops, not in MACs: {count(t.other_ops)} ({t.other_ops:,})") for line in lines)
    memory = f"{byte_size(t.activation_bytes)} ({t.activation_bytes:,} B)"
    assert any(line.startswith("Activation memory") and line.endswith(memory) for line in lines)
    rules = [i for i, line in enumerate(lines) if set(line) == {"="}]
    body = lines[rules[1] + 1 : rules[2]]
    assert len(body) == len(rows(a, "block"))
    assert not any(re.search(r"\d,\d{3}", line) for line in body), "the rows hold human numbers, not exact ones"
    assert max(len(line) for line in lines) <= 100  # fits a terminal


def test_levels_choose_the_rows(capsys):
    stage = run_ok(capsys, "resnet20", "--level", "stage")
    assert "layer1.0" not in stage and "layer3 " in stage
    block = run_ok(capsys, "resnet20")
    assert "├─layer1.0" in block and "layer1.0.conv1" not in block and "BasicBlock +pad" in block
    layer = run_ok(capsys, "resnet20", "--level", "layer")
    for name in ("layer1.0.conv1", "layer1.0.add", "layer2.0.downsample", "│ ├─layer2.0.conv1"):
        assert name in layer


def test_csv_has_one_row_per_table_row(capsys):
    for level, expected in [("stage", 5), ("block", 5 + 9 + 3 + 3), ("layer", len(analyze(PRESETS["resnet20"], 32).layers) + 5 + 9)]:  # fmt: skip
        rows = list(csv.DictReader(io.StringIO(run_ok(capsys, "resnet20", "--level", level, "--format", "csv"))))
        assert len(rows) == expected
    add = next(r for r in rows if r["name"] == "layer1.0.add")
    assert (add["level"], add["kind"], add["block"], add["output_shape"]) == (
        "layer",
        "ResidualAdd",
        "layer1.0",
        "1x16x32x32",
    )
    assert int(add["macs"]) == 0 and int(add["other_ops"]) == 16 * 32 * 32


@pytest.mark.parametrize(
    "argv,message",
    [
        (["resnet51"], "unknown preset 'resnet51'"),
        (["resnet18", "--groups", "3"], "groups=3 is not allowed"),
        (["resnet50", "--block", "basic", "--groups", "32"], "groups=32 is not allowed"),
        (["resnet50", "--input", "8"], "input 8×8 is too small"),
        (["resnet50", "--input", "0"], "input_size=0 is not allowed"),
        (["resnet50", "--input", "big"], "--input 'big'"),
        (["resnet50", "--layers", "3,x,6"], "--layers '3,x,6'"),
        (["resnet50", "--layers", "3,0"], "stage 2 has 0 blocks"),
    ],
)
def test_bad_input_prints_one_line_and_exits_2(capsys, argv, message):
    assert main(["summary", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1
    assert captured.err.startswith("error: ") and message in captured.err


@pytest.mark.parametrize(
    "argv,message",
    [
        (["summary", "resnet50", "--width", "abc"], "argument --width: invalid int value: 'abc'"),
        (["summary", "resnet50", "--preact", "maybe"], "--preact: expected true or false"),
        (["summary", "resnet50", "--bogus"], "unrecognized arguments: --bogus"),
        (["summary"], "required: ARCH"),
        (["bench", "resnet50", "--device", "tpu"], "invalid choice: 'tpu'"),
        (["nosuch"], "invalid choice: 'nosuch'"),
    ],
)
def test_a_bad_flag_is_one_line_too(capsys, argv, message):
    # argparse's own errors: without Parser.error they print the whole usage block first
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and message in err, err


def test_module_entry_point_runs_in_a_fresh_interpreter():
    ok = subprocess.run(
        [sys.executable, "-m", "resnet_core", "summary", "resnet20", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["totals"]["params"] == analyze(PRESETS["resnet20"], 32).totals.params
    bad = subprocess.run(
        [sys.executable, "-m", "resnet_core", "summary", "resnet18", "--block", "basic", "--groups", "3"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "groups=3" in bad.stderr
