"""``python -m resnet_core diagram``: DOT to standard output, SVG/PNG to files, one-line errors with status 2."""

from __future__ import annotations

import re

import pytest

from resnet_core.cli import main
from resnet_core.commands import diagram as diagram_command
from resnet_core.diagram import dot_available

needs_dot = pytest.mark.skipif(not dot_available(), reason="Graphviz's dot is not installed (make test installs it)")


def has_attr(dot: str, name: str, value: str) -> bool:
    """Whether some statement of ``dot`` sets ``name`` to ``value`` (quoted or not: DOT allows both)."""
    return re.search(rf'\b{name}=(?:{re.escape(value)}|"{re.escape(value)}")[\s\],]', dot) is not None


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["diagram", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_dot_goes_to_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "resnet18")
    assert status == 0 and err == ""
    assert out.startswith("digraph resnet {") and out.rstrip().endswith("}")
    assert has_attr(out, "kind", "projection")


def test_spec_flags_change_the_diagram(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "resnet18", "--shortcut", "A", "--level", "block")
    assert status == 0
    assert has_attr(out, "kind", "zero-pad") and not has_attr(out, "kind", "projection")
    assert "resnet18 (modified: shortcut A)" in out


def test_annotation_flags(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "resnet18", "--no-macs", "--no-params", "--no-shapes", "--rf", "--lr", "--no-legend")
    assert "MACs" not in out and "64×56×56" not in out and "legend" not in out
    assert "receptive field" in out and has_attr(out, "rankdir", "LR")


def test_unfold_takes_a_comma_list_and_all(capsys: pytest.CaptureFixture[str]) -> None:
    _, folded, _ = run(capsys, "resnet56")
    _, one, _ = run(capsys, "resnet56", "--unfold", "layer2")
    _, every, _ = run(capsys, "resnet56", "--unfold", "layer1,layer2", "--unfold", "layer3")
    _, also_every, _ = run(capsys, "resnet56", "--unfold", "all")
    count = lambda text: text.count('"block layer')  # noqa: E731 — nodes appear once, edges twice each
    assert count(folded) < count(one) < count(every) == count(also_every)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["resnet18", "--unfold", "layer9"], "choose from layer1, layer2, layer3, layer4"),
        (["resnet18", "--unfold", "stem"], "choose from layer1"),
        (["resnet18", "--stage", "layer7"], "choose from stem, layer1"),
        (["resnet50", "--input", "10"], "too small"),
        (["resnet50", "--input", "big"], "--input"),
        (["resnet18", "--groups", "4"], "groups"),
        (["resnet18", "--format", "svg", "-o", "/nonexistent-dir/x.svg"], "cannot write"),
    ],
)
def test_bad_input_is_one_line_and_status_2(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and message in err


def test_unknown_level_is_argparse_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["diagram", "resnet18", "--level", "pixel"])
    assert info.value.code == 2


def test_png_will_not_go_to_a_terminal(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diagram_command, "_stdout_is_terminal", lambda: True)
    status, _, err = run(capsys, "resnet18", "--format", "png")
    assert status == 2 and "-o FILE" in err


@needs_dot
def test_svg_and_png_files(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    svg, png = tmp_path / "r.svg", tmp_path / "r.png"
    assert run(capsys, "resnet20", "--format", "svg", "-o", str(svg))[0] == 0
    assert run(capsys, "resnet20", "--format", "png", "-o", str(png), "--level", "stage")[0] == 0
    assert b"<svg" in svg.read_bytes()
    assert png.read_bytes().startswith(b"\x89PNG")


def test_missing_dot_is_one_line_and_dot_still_works(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("PATH", "")
    status, _, err = run(capsys, "resnet18", "--format", "svg", "-o", str(tmp_path / "x.svg"))
    assert status == 1 and err.count("\n") == 1
    assert "apt-get install graphviz" in err and "--format dot" in err
    assert run(capsys, "resnet18", "--format", "dot")[0] == 0
