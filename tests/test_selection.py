"""The selection codec: every choice round-trips through query parameters (bad values fall back with a
notice), old links decode as they did, and every spec field has its metadata, its flag and its README entry."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import typing
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from resnet_core import PRESETS, ResNetSpec
from resnet_core import spec as spec_module
from resnet_core.selection import (
    Selection,
    UsageError,
    add_arguments,
    format_input_size,
    format_value,
    from_args,
    from_query,
    parse_input_size,
    to_query,
)
from resnet_core.spec import FIELD_INFO, FIELD_KINDS, FIELDS, FieldInfo


def test_round_trip_of_a_modified_preset():
    spec = PRESETS["resnet50"].replace(stride_on="1x1", layers=(3, 4, 23, 3), preact=True)
    choice = Selection("resnet50", spec, (224, 160))
    query = to_query(choice)
    assert query == {"arch": "resnet50", "layers": "3,4,23,3", "stride_on": "1x1", "preact": "1", "input": "224x160"}
    back = from_query(query)
    assert back == choice and back.notices == ()
    assert back.title == "resnet50 (modified: layers 3,4,23,3, stride on 1×1, preact on)"


def test_unmodified_preset_has_a_short_link():
    assert to_query(Selection("resnet56", PRESETS["resnet56"], 32)) == {"arch": "resnet56"}
    assert from_query({}) == Selection("resnet50", PRESETS["resnet50"], 224)


def test_prefix_keeps_several_choices_apart():
    a = Selection("resnet18", PRESETS["resnet18"].replace(shortcut="C"), 224)
    q = to_query(a, prefix="a_") | to_query(Selection("resnet34", PRESETS["resnet34"], 224), prefix="b_")
    assert from_query(q, prefix="a_") == a
    assert from_query(q, prefix="b_").arch == "resnet34"


@pytest.mark.parametrize(
    ("query", "expect_in_notice"),
    [
        ({"arch": "resnet51"}, "Unknown preset 'resnet51'"),
        ({"arch": "resnet50", "shortcut": "Z"}, "shortcut='Z'"),
        ({"arch": "resnet50", "layers": "3,x"}, "layers='3,x'"),
        ({"arch": "resnet50", "layers": "3,0,6,3"}, "stage 2 has 0 blocks"),
        ({"arch": "resnet50", "width": "wide"}, "width='wide'"),
        ({"arch": "resnet50", "preact": "maybe"}, "preact='maybe'"),
        ({"arch": "resnet50", "input": "huge"}, "input='huge'"),
        ({"arch": "resnet50", "input": "0"}, "input_size=0"),
    ],
)
def test_bad_link_values_fall_back_with_a_notice(query, expect_in_notice):
    choice = from_query(query)
    assert choice.arch in PRESETS
    assert len(choice.notices) == 1 and expect_in_notice in choice.notices[0]
    assert choice.spec == PRESETS[choice.arch]


def test_each_bad_field_is_dropped_alone():
    choice = from_query({"arch": "resnet50", "stride_on": "1x1", "groups": "-3"})
    assert choice.spec == PRESETS["resnet50"].replace(stride_on="1x1")
    assert len(choice.notices) == 1 and "groups" in choice.notices[0]


def test_fields_valid_alone_but_not_together_fall_back_to_the_preset():
    # block=basic is fine on its own, and so is stride_on=1x1 on resnet50, but not both.
    choice = from_query({"arch": "resnet50", "block": "basic", "stride_on": "1x1"})
    assert choice.spec == PRESETS["resnet50"]
    assert "do not fit together" in choice.notices[0]


@pytest.mark.parametrize(
    ("arch", "changes"),
    [
        ("wide_resnet50_2", {"block": "basic", "width_per_group": 64}),
        ("resnext50_32x4d", {"block": "basic", "groups": 1, "width_per_group": 64}),
        ("resnet20", {"block": "bottleneck", "stride_on": "1x1"}),
        ("resnext50_32x4d", {"width": 8, "width_per_group": 8}),
    ],
)
def test_changes_valid_only_together_round_trip(arch, changes):
    # each of these changes is refused on its own against the preset, but the set is a valid network
    spec = PRESETS[arch].replace(**changes)
    back = from_query(to_query(Selection(arch, spec, 224)))
    assert back.spec == spec and back.notices == ()


def test_a_huge_bad_value_is_not_echoed_whole():
    choice = from_query({"arch": "resnet50", "layers": "9" * 5000, "input": "x" * 5000})
    assert choice.spec == PRESETS["resnet50"] and len(choice.notices) == 2
    assert all(len(n) < 400 for n in choice.notices), [len(n) for n in choice.notices]


def test_input_size_accepts_the_times_sign_it_is_shown_with():
    assert from_query({"arch": "resnet50", "input": "224×160"}).input_size == (224, 160)


# -- old links keep working -------------------------------------------------------------------------

LINKS = json.loads((Path(__file__).parent / "golden" / "links.json").read_text(encoding="utf-8"))


def test_there_are_enough_old_links() -> None:
    assert len(LINKS) >= 15 and sum(bool(link["notices"]) for link in LINKS) >= 5


@pytest.mark.parametrize("link", LINKS, ids=[f"{i}:{link['query'][:50]}" for i, link in enumerate(LINKS)])
def test_an_old_link_decodes_to_the_same_selection_as_before(link: dict) -> None:
    # decoded before the codec moved (tests/golden/generate.py, app.state.from_query of that time)
    chosen = from_query(parse_qs(link["query"], keep_blank_values=True), link["prefix"], link["default_arch"])
    size = chosen.input_size if isinstance(chosen.input_size, int) else list(chosen.input_size)
    # fields added since the links were recorded are at their defaults: the old link never named them
    spec = chosen.spec.to_dict()
    newer = {name: spec.pop(name) for name in list(spec) if name not in link["spec"]}
    assert newer == {name: FIELD_INFO[name].default for name in newer}
    assert (chosen.arch, spec, size) == (link["arch"], link["spec"], link["input_size"])

    # a notice that lists the allowed values lists today's: compare up to that list
    def before_list(notice: str) -> str:
        return re.split(r"Presets: |choose one of ", notice)[0]

    assert [before_list(n) for n in chosen.notices] == [before_list(n) for n in link["notices"]]


# -- every field: declared once, read everywhere ----------------------------------------------------


def test_every_spec_field_has_its_metadata() -> None:
    assert [info.name for info in FIELDS] == [f.name for f in dataclasses.fields(ResNetSpec)]
    hints = typing.get_type_hints(ResNetSpec)
    for info in FIELDS:
        assert info.kind in FIELD_KINDS and info.label and info.help and "\n" not in info.help, info
        assert info.default == getattr(ResNetSpec(), info.name)
        assert info.flag.startswith("--") and " " not in info.flag
        if info.kind == "choice":
            assert info.choices == typing.get_args(hints[info.name])  # the Literal's values, in its order
            assert {v for v, _ in info.option_texts} <= set(info.choices)
        if info.kind == "int":
            assert 0 <= info.minimum <= info.default <= info.maximum
        if info.kind == "float":
            assert info.minimum <= info.default < info.maximum and 0 < info.step < info.maximum - info.minimum
    assert len({info.flag for info in FIELDS}) == len(FIELDS)
    assert {info.advanced for info in FIELDS} == {True, False}  # the editor shows both groups


def test_a_field_without_metadata_is_refused() -> None:
    # a field added without spec_field(...) would be missing from the editor, the URL and the CLI
    @dataclasses.dataclass(frozen=True)
    class Extra(ResNetSpec):
        dilation: int = 1

    with pytest.raises(TypeError, match="dilation has no FieldInfo"):
        spec_module.field_infos(Extra)


def _alternatives(info: FieldInfo) -> list:
    """Values of ``info``'s field other than its default, to try on the presets."""
    if info.kind == "choice":
        return [c for c in info.choices if c != info.default]
    if info.kind == "bool":
        return [not info.default]
    if info.kind == "layers":
        return [(2, 2), (1, 2, 3)]
    if info.kind == "float":
        return [v for v in (info.minimum, info.minimum + info.step, info.maximum - info.step) if v != info.default]
    return sorted({info.minimum, 2, 4, 8, 32, info.default * 2, info.maximum} - {info.default})


def _a_change(info: FieldInfo, value) -> tuple[str, ResNetSpec] | None:
    """A preset on which ``info.name = value`` is a valid change, and the changed spec."""
    for arch, base in PRESETS.items():
        if getattr(base, info.name) == value:
            continue
        try:
            return arch, base.replace(**{info.name: value})
        except ValueError:
            continue
    return None


CHANGES = [
    (info.name, value, change)
    for info in FIELDS
    for value in _alternatives(info)
    if (change := _a_change(info, value)) is not None
]


def test_every_field_and_every_choice_can_be_changed_somewhere() -> None:
    assert {name for name, _, _ in CHANGES} == {info.name for info in FIELDS}
    for info in FIELDS:
        if info.kind == "choice":
            assert {v for name, v, _ in CHANGES if name == info.name} == set(info.choices) - {info.default}


@pytest.mark.parametrize(("name", "value", "change"), CHANGES, ids=[f"{n}={v}" for n, v, _ in CHANGES])
def test_every_field_round_trips_through_the_url_and_the_cli(name: str, value, change) -> None:
    arch, spec = change
    chosen = Selection(arch, spec, (200, 168))
    query = to_query(chosen, prefix="p_")
    assert query[f"p_{name}"] == format_value(name, value)
    back = from_query(query, prefix="p_")
    assert back == chosen and back.notices == ()
    # the CLI: ARCH and one flag per changed field, written as the URL writes the value
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    argv = [arch, "--input", "200x168"]
    for field_name, (_, new) in PRESETS[arch].differences(spec).items():
        argv += [FIELD_INFO[field_name].flag, format_value(field_name, new)]
    assert from_args(parser.parse_args(argv)) == chosen


def test_the_cli_has_a_flag_for_every_field_with_its_help() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    actions = {a.dest: a for a in parser._actions}
    for info in FIELDS:
        action = actions[info.name]
        assert action.option_strings == [info.flag] and action.help == info.help
        if info.kind == "choice":
            assert tuple(action.choices) == info.choices
    # the documented flags, unchanged, then the family's (issue 17)
    assert [info.flag for info in FIELDS][:12] == [
        "--block", "--layers", "--stem", "--width", "--shortcut", "--stride-on", "--groups",
        "--width-per-group", "--preact", "--zero-init-residual", "--classes", "--in-channels",
    ]  # fmt: skip


def test_the_readme_names_every_field() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    library = readme.split("## The library", 1)[1].split("\n## ", 1)[0]
    fields = library.split("Its fields:", 1)[1].split("\n\n", 1)[0]
    for info in FIELDS:
        assert f"`{info.name}`" in fields, info.name
        for choice in info.choices:
            assert choice in fields, (info.name, choice)
    for info in FIELDS:
        assert f"`{info.flag}`" in readme or info.flag in readme.split("### CLI", 1)[1], info.flag


# -- one place for the input size -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"), [("224", 224), ("224x160", (224, 160)), ("224×160", (224, 160)), ("224X160", (224, 160))]
)
def test_input_size_text(text: str, size) -> None:
    assert parse_input_size(text) == size
    assert parse_input_size(format_input_size(size)) == size


@pytest.mark.parametrize(("text", "message"), [("huge", "N or HxW"), ("0", "from 1 to 8192"), ("9x9x9", "N or HxW")])
def test_bad_input_size_text_says_what_is_allowed(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_input_size(text)


def test_cli_parse_errors_name_the_flag() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    with pytest.raises(UsageError, match=r"^--layers '3,x' is not allowed: blocks per stage"):
        from_args(parser.parse_args(["resnet50", "--layers", "3,x"]))
    with pytest.raises(UsageError, match=r"^--input 'big' is not allowed: N or HxW"):
        from_args(parser.parse_args(["resnet50", "--input", "big"]))
