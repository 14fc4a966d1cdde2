"""The bad-input table (issue 15): every bad input tried, what the user sees, and the test that checks it.

Each ``Case`` runs the code path the app runs for that input — the link codec every page's editor reads
(``selection.from_query``), the spec's validation the editor shows, the weight and image loaders, the
memory budgets, the analysis's input-size check — and returns the message the user sees (the pages show
it literally: ``app.widgets.show_notice`` / ``show_error``). ``tests/test_bad_inputs.py`` runs every case
and checks that the message says ``sees`` and never echoes an internal (a Python repr, a memory address,
a traceback) or more than ``MAX_MESSAGE`` characters. Rows whose check lives in another test (whole pages
through AppTest or Chromium) name that test, and ``test_bad_inputs.py`` checks that it exists.

``docs/bad_input.md`` is this table written out: ``python -m tests.bad_inputs`` rewrites it, and a test
fails when it is out of date.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "bad_input.md"
#: No message grows with the input: the longest one a case may show.
MAX_MESSAGE = 600
THIS_TEST = "tests/test_bad_inputs.py::test_the_user_sees_what_is_wrong_and_what_is_allowed"

IMAGE = "![x](http://127.0.0.1:9/track.png)"
LINK = "[Session expired - log in again](https://evil.example/login)"
LONG = "Q" * 10_000


@dataclass(frozen=True)
class Case:
    """One bad input: where it enters, what it is, what the user is told (a part of it), and either the
    code that produces the message (``run``, checked by ``THIS_TEST``) or the test that checks it."""

    id: str
    where: str
    given: str
    sees: str
    run: Callable[[], str] | None = None
    test: str = ""

    @property
    def checked_by(self) -> str:
        return f"{THIS_TEST}[{self.id}]" if self.run is not None else self.test


# -- links: the codec every page's spec editor reads (resnet_core.selection.from_query) -------------


def link_notices(query: dict[str, str], prefix: str = "") -> str:
    """The notices a link gets, as the page shows them ("accepted: …" when there are none)."""
    from resnet_core.selection import from_query

    choice = from_query({prefix + k: v for k, v in query.items()}, prefix=prefix, default_arch="resnet50")
    if choice.notices:
        return " | ".join(choice.notices)
    return f"accepted: shows {choice.title}, input {choice.input_size}"


def _link(id_: str, query: dict[str, str], sees: str, given: str | None = None, prefix: str = "") -> Case:
    shown = given or "&".join(
        f"{prefix}{k}={v if len(v) <= 40 else v[:20] + f'… ({len(v):,} chars)'}" for k, v in query.items()
    )
    return Case(id_, "link (every page's editor)", shown, sees, lambda: link_notices(query, prefix))


def _field_cases() -> list[Case]:
    """Per spec field: a value of the wrong kind, values out of range, and the two injection payloads;
    read from ``FIELDS``, so a new field gets its rows without an edit here."""
    from resnet_core.spec import FIELDS

    cases = []
    for info in FIELDS:
        n = info.name
        cases.append(_link(f"{n}-image", {n: IMAGE}, f"Ignored {n} from the link"))
        cases.append(_link(f"{n}-link", {n: LINK}, f"Ignored {n} from the link"))
        cases.append(_link(f"{n}-long", {n: LONG}, "10,000 characters long, and a value here is at most 100"))
        if info.kind == "int":
            cases.append(_link(f"{n}-text", {n: "abc"}, "an integer is expected"))
            cases.append(_link(f"{n}-below", {n: str(int(info.minimum) - 1)}, "is not allowed"))
            cases.append(_link(f"{n}-above", {n: str(int(info.maximum) + 1)}, "is not allowed"))
        elif info.kind == "float":
            cases.append(_link(f"{n}-text", {n: "abc"}, "is not allowed"))
            cases.append(_link(f"{n}-above", {n: str(info.maximum)}, "is not allowed"))
            cases.append(_link(f"{n}-nan", {n: "nan"}, "is not allowed"))
        elif info.kind == "choice":
            cases.append(_link(f"{n}-unknown", {n: "zzz"}, f"Ignored {n} from the link: {n}='zzz' is not allowed"))
        elif info.kind == "bool":
            cases.append(_link(f"{n}-text", {n: "maybe"}, f"Ignored {n} from the link"))
    return cases


def _link_cases() -> list[Case]:
    return [
        _link("arch-unknown", {"arch": "resnet51"}, "Unknown preset 'resnet51' (arch in the link); showing resnet50"),
        _link("arch-image", {"arch": IMAGE}, "Unknown preset"),
        _link("arch-long", {"arch": LONG}, "10,000 characters long"),
        _link("arch-empty", {"arch": ""}, "accepted: shows resnet50"),  # empty: as if absent
        _link("layers-too-many-stages", {"layers": "1,1,1,1,1,1,1,1,1"}, "is not allowed"),
        _link("layers-zero", {"layers": "3,0,6,3"}, "is not allowed"),
        _link("layers-1001", {"layers": "1001"}, "is not allowed"),
        _link("layers-text", {"layers": "three"}, "is not allowed"),
        _link("layers-negative", {"layers": "-3,4"}, "is not allowed"),
        _link("layers-unicode-spaces", {"layers": "3, 4, 6, 3"}, "accepted"),
        _link("layers-fullwidth", {"layers": "３,４,６,３"}, "accepted"),
        _link("width-fullwidth", {"width": "６４"}, "accepted"),
        _link("width-float", {"width": "64.5"}, "an integer is expected"),
        _link("width-hex", {"width": "0x40"}, "an integer is expected"),
        _link("width-huge-number", {"width": "9" * 99}, "is not allowed"),
        _link("input-times-sign", {"input": "224×160"}, "accepted"),
        _link("input-fullwidth", {"input": "２２４"}, "accepted"),
        _link("input-zero", {"input": "0"}, "each side must be from 1 to 8192 pixels"),
        _link("input-negative", {"input": "-1"}, "is not allowed"),
        _link("input-too-big", {"input": "99999"}, "each side must be from 1 to 8192 pixels"),
        _link("input-text", {"input": "big"}, "is not allowed"),
        _link("input-three-sides", {"input": "224x224x3"}, "is not allowed"),
        _link("input-image", {"input": IMAGE}, "Ignored input from the link"),
        _link("input-empty", {"input": ""}, "is not allowed"),
        _link(
            "prefixed-compare-b", {"arch": "resnet51"}, "Unknown preset 'resnet51' (b_arch in the link)", prefix="b_"
        ),
        _link("prefixed-live", {"width": "0"}, "Ignored live_width from the link", prefix="live_"),
        _link("groups-on-basic", {"arch": "resnet18", "groups": "32"}, "is not allowed"),
        _link("dilated-beyond-depth", {"arch": "resnet18", "dilated_stages": "4"}, "must be from 0 to 3"),
    ]


# -- the spec editor: fields that do not fit together (ResNetSpec's validation, shown by the editor) --


def spec_error(**fields) -> str:
    from resnet_core.spec import ResNetSpec

    try:
        ResNetSpec(**fields)
    except ValueError as e:
        return str(e)
    return "accepted"


def _spec(id_: str, fields: dict, sees: str) -> Case:
    given = ", ".join(f"{k}={v!r}" for k, v in fields.items())
    return Case(id_, "spec editor (sidebar fields)", given, sees, lambda: spec_error(**fields))


def _spec_cases() -> list[Case]:
    return [
        _spec(
            "basic-groups", {"block": "basic", "groups": 32}, "the basic block has no grouped conv; groups must be 1"
        ),
        _spec("basic-width-per-group", {"block": "basic", "width_per_group": 4}, "widen with 'width' instead"),
        _spec("basic-stride-on-1x1", {"block": "basic", "stride_on": "1x1"}, "the basic block has no 1×1 conv"),
        _spec("se-reduction-without-se", {"se_reduction": 8}, "only squeeze-and-excitation has a reduction ratio"),
        _spec("eca-with-reduction", {"attention": "eca", "se_reduction": 4}, "with attention='eca' it must stay 16"),
        _spec("no-stages", {"layers": ()}, "1 to 8 stages are allowed, got 0"),
        _spec("nine-stages", {"layers": (1,) * 9}, "1 to 8 stages are allowed, got 9"),
        _spec("stage-of-text", {"layers": (3, "4")}, "each stage needs an integer from 1 to 1000"),
        _spec("width-bool", {"width": True}, "an integer from 1 to 4096 is expected"),
        _spec("groupnorm-narrow", {"norm": "groupnorm", "width": 6}, "GroupNorm splits channels into 32 groups"),
        _spec("cifar-stem-pool", {"stem": "cifar", "stem_pool": "conv"}, "the cifar stem has no pooling"),
        _spec("plain-zero-init", {"shortcut": "none", "zero_init_residual": True}, "turn it off or choose a shortcut"),
        _spec("dilated-all-stages", {"dilated_stages": 4}, "must be from 0 to 3"),
        _spec("drop-path-one", {"drop_path_rate": 1.0}, "up to (not including) 1"),
        _spec("zero-classes", {"num_classes": 0}, "must be from 1 to 100000"),
        _spec("zero-in-channels", {"in_channels": 0}, "must be from 1 to 64"),
    ]


# -- weight files (resnet_core.weights: load_state_dict, check_fit) --------------------------------


def _saved(obj, legacy: bool = False) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=not legacy)
    return buf.getvalue()


def _tiny_state(**change) -> dict:
    import torch

    state = {"conv1.weight": torch.ones(4, 3, 3, 3), "bn1.running_var": torch.ones(4)}
    return state | change


class _Payload:
    """A pickle that would open a file if unpickled without weights_only (it never is)."""

    def __reduce__(self):
        return (open, ("/tmp/bad-input-marker", "w"))


def weights_message(data: Callable[[], bytes], arch: str | None = None) -> str:
    """What the Live page says about an uploaded weight file: the loader's refusal, or the fit report."""
    from resnet_core.spec import PRESETS
    from resnet_core.weights import WeightsError, check_fit, load_state_dict

    try:
        state = load_state_dict(data())
    except WeightsError as e:
        return str(e)
    if arch is None:
        return "loaded"
    return check_fit(PRESETS[arch], state).summary()


def _weights(id_: str, given: str, data: Callable[[], bytes], sees: str, arch: str | None = None) -> Case:
    return Case(id_, "Live: weight upload", given, sees, lambda: weights_message(data, arch))


def _model_state(arch: str, **change) -> bytes:
    from resnet_core.model import build
    from resnet_core.spec import PRESETS

    return _saved(build(PRESETS[arch].replace(**change)).state_dict())


def _weights_cases() -> list[Case]:
    import torch

    good = lambda: _saved(_tiny_state())  # noqa: E731
    zipped_text = io.BytesIO()
    with zipfile.ZipFile(zipped_text, "w") as z:
        z.writestr("notes.txt", "hello")
    return [
        _weights("weights-empty", "an empty file", lambda: b"", "the file is empty"),
        _weights("zip-cut", "a .pth cut 200 bytes short", lambda: good()[:-200], "incomplete or damaged"),
        _weights("zip-head-only", "the first 2,000 bytes of a .pth", lambda: good()[:2000], "incomplete or damaged"),
        _weights(
            "legacy-cut",
            "a legacy (pre-1.6) .pth cut short",
            lambda: _saved(_tiny_state(), legacy=True)[:300],
            "ends too early",
        ),
        _weights(
            "weights-text", "a text file renamed .pth", lambda: b"hello, these are my weights", "it is plain text"
        ),
        _weights(
            "png",
            "a PNG renamed .pth",
            lambda: b"\x89PNG\r\n\x1a\n" + bytes(100),
            "it is a PNG image, not a weight file",
        ),
        _weights("jpeg", "a JPEG renamed .pth", lambda: b"\xff\xd8\xff\xe0" + bytes(100), "it is a JPEG image"),
        _weights("random-bytes", "random bytes", lambda: bytes(range(256)) * 4, "not in the format torch.save writes"),
        _weights(
            "other-zip",
            "a zip that is not torch.save's",
            lambda: zipped_text.getvalue(),
            "expected a .pth/.pt written by torch.save",
        ),
        _weights(
            "malicious-pickle",
            "a pickle that runs code (io.open)",
            lambda: _saved({"x": _Payload()}),
            "refused to load this file",
        ),
        _weights(
            "pickled-module",
            "a whole nn.Module saved with torch.save(model)",
            lambda: _saved(torch.nn.Linear(2, 2)),
            "refused to load this file",
        ),
        _weights(
            "a-list", "a list of tensors", lambda: _saved([torch.ones(2)]), "the file holds list, not a state_dict"
        ),
        _weights(
            "a-tensor", "one bare tensor", lambda: _saved(torch.ones(2)), "the file holds Tensor, not a state_dict"
        ),
        _weights("empty-dict", "an empty dict", lambda: _saved({}), "the file holds dict (empty), not a state_dict"),
        _weights(
            "nan",
            "a tensor holding NaN",
            lambda: _saved(_tiny_state(**{"conv1.weight": torch.full((4, 3, 3, 3), math.nan)})),
            "conv1.weight",
        ),
        _weights(
            "inf",
            "a tensor holding Inf",
            lambda: _saved(_tiny_state(**{"bn1.running_var": torch.full((4,), math.inf)})),
            "bn1.running_var",
        ),
        _weights(
            "complex",
            "a complex tensor",
            lambda: _saved(_tiny_state(**{"conv1.weight": torch.ones(4, 3, 3, 3, dtype=torch.complex64)})),
            "conv1.weight",
        ),
        _weights(
            "integer-weights",
            "integer weights",
            lambda: _saved(_tiny_state(**{"conv1.weight": torch.ones(4, 3, 3, 3, dtype=torch.int32)})),
            "conv1.weight",
        ),
        _weights(
            "other-preset",
            "resnet32's weights on resnet20",
            lambda: _model_state("resnet32"),
            "They fit the preset 'resnet32': choose it instead",
            arch="resnet20",
        ),
        _weights(
            "other-classes",
            "resnet20 with 7 classes on resnet20",
            lambda: _model_state("resnet20", num_classes=7),
            "the file has 7 classes, set num_classes to that",
            arch="resnet20",
        ),
        _weights(
            "other-width",
            "resnet20 at width 32 on resnet20",
            lambda: _model_state("resnet20", width=32),
            "shape mismatch",
            arch="resnet20",
        ),
        _weights(
            "plain-on-residual",
            "plain20's weights on resnet20",
            lambda: _model_state("plain20"),
            "fit",
            arch="resnet20",
        ),
    ]


# -- images (resnet_core.images.load_image) --------------------------------------------------------


def _encoded(fmt: str, mode: str = "RGB", size: tuple[int, int] = (4, 4)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, size).save(buf, format=fmt)
    return buf.getvalue()


def _png_bomb() -> bytes:
    """A PNG whose header claims 30000×30000 pixels (the issue's decompression bomb), a few KB on disk."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("1", (30000, 30000)).save(buf, format="PNG")
    return buf.getvalue()


def image_message(data: Callable[[], bytes]) -> str:
    from resnet_core.images import ImageError, load_image

    try:
        loaded = load_image(data())
    except ImageError as e:
        return str(e)
    return "loaded: " + "; ".join(loaded.notes) if loaded.notes else "loaded"


def _image(id_: str, given: str, data: Callable[[], bytes], sees: str) -> Case:
    return Case(id_, "Live: image upload", given, sees, lambda: image_message(data))


def _image_cases() -> list[Case]:
    return [
        _image("image-empty", "an empty file", lambda: b"", "the file is empty"),
        _image("gif", "a GIF", lambda: _encoded("GIF"), "GIF images are not supported; upload a PNG, JPEG or WebP"),
        _image("bmp", "a BMP", lambda: _encoded("BMP"), "BMP images are not supported"),
        _image("tiff", "a TIFF", lambda: _encoded("TIFF"), "upload a PNG, JPEG or WebP"),
        _image(
            "png-cut",
            "a PNG cut after its signature",
            lambda: b"\x89PNG but not really",
            "its data is cut short or damaged",
        ),
        _image("png-half", "half of a PNG", lambda: _encoded("PNG", size=(64, 64))[:60], "cut short or damaged"),
        _image("image-text", "a text file renamed .png", lambda: b"just some words", "upload a PNG, JPEG or WebP"),
        _image(
            "pth-as-image", "a weight file renamed .png", lambda: _saved(_tiny_state()), "upload a PNG, JPEG or WebP"
        ),
        _image(
            "bomb",
            "a 30000×30000 PNG (a decompression bomb)",
            _png_bomb,
            "far more than 40 megapixels, too many to decode safely",
        ),
        _image("thin", "a 1×400 strip", lambda: _encoded("PNG", size=(1, 400)), "loaded"),
        _image("grayscale", "a grayscale PNG", lambda: _encoded("PNG", mode="L"), "grayscale"),
        _image("cmyk", "a CMYK JPEG", lambda: _encoded("JPEG", mode="CMYK"), "CMYK"),
        _image(
            "transparent",
            "a PNG with transparency",
            lambda: _encoded("PNG", mode="RGBA"),
            "transparency composited onto white",
        ),
        _image("palette", "a palette PNG", lambda: _encoded("PNG", mode="P"), "loaded"),
        _image("16-bit", "a 16-bit grayscale PNG", lambda: _encoded("PNG", mode="I;16"), "16-bit"),
    ]


# -- cost before work (resnet_core.budget, resnet_core.analysis) -----------------------------------


def budget_message(kind: str, arch: str, size: int, amount: int = 1) -> str:
    from resnet_core.analysis import analyze
    from resnet_core.budget import check_gradient, check_inference
    from resnet_core.spec import PRESETS

    spec = PRESETS[arch]
    try:
        if kind == "inference":
            check_inference(analyze(spec, size), amount, doing=f"timing batch {amount:,}")
        else:
            check_gradient(spec, size)
    except ValueError as e:
        return str(e)
    return "accepted"


def _cost_cases() -> list[Case]:
    return [
        Case(
            "batch-4096",
            "Live: Time batch",
            "resnet18, batch 4,096 (≈ 34 GB)",
            "batch",
            lambda: budget_message("inference", "resnet18", 224, 4096),
        ),
        Case(
            "batch-512-resnet152",
            "Live: Time batch",
            "resnet152, batch 512",
            "fits",
            lambda: budget_message("inference", "resnet152", 224, 512),
        ),
        Case(
            "sweep-at-1024px",
            "Live: Time batch",
            "resnet50 at 1024 px, batch 64",
            "fits",
            lambda: budget_message("inference", "resnet50", 1024, 64),
        ),
        Case(
            "gradient-2500px",
            "Receptive field: Measure by gradient",
            "resnet50 at 2,500 px",
            "an input of",
            lambda: budget_message("gradient", "resnet50", 2500),
        ),
        Case(
            "gradient-8192px",
            "Receptive field: Measure by gradient",
            "resnet18 at 8,192 px",
            "an input of",
            lambda: budget_message("gradient", "resnet18", 8192),
        ),
        Case(
            "gradient-os8-2000px",
            "Receptive field: Measure by gradient",
            "resnet50_os8 at 2,000 px (dilated: the maps stay large)",
            "an input of",
            lambda: budget_message("gradient", "resnet50_os8", 2000),
        ),
        Case(
            "huge-spec-too-small",
            "link (every page)",
            "layers=1000×8 at 224 px",
            "is too small for this network",
            lambda: _too_small((1000,) * 8, 224),
        ),
        Case(
            "input-too-small-resnet50",
            "link (every page)",
            "resnet50 at input=16",
            "use at least",
            lambda: _too_small(None, 16),
        ),
        Case(
            "input-too-small-cifar",
            "link (every page)",
            "resnet20 at input=2",
            "is too small for this network",
            lambda: _too_small(None, 2, "resnet20"),
        ),
    ]


def _too_small(layers, size: int, arch: str = "resnet50") -> str:
    from resnet_core.analysis import analyze
    from resnet_core.spec import PRESETS, ResNetSpec

    spec = PRESETS[arch] if layers is None else ResNetSpec(block="basic", layers=layers, width=8)
    try:
        analyze(spec, size)
    except ValueError as e:
        return str(e)
    return "accepted"


# -- whole pages: rows whose check is another test ------------------------------------------------

PAGES = ("compare", "explainer", "explorer", "live", "receptive_field")


def _page_cases() -> list[Case]:
    links = "tests/test_links.py"
    rows = []
    for page in PAGES:
        rows.append(
            Case(
                f"page-{page}-image",
                f"link: every parameter of {page}",
                IMAGE,
                "a notice naming each parameter ignored; no image is loaded",
                test=f"{links}::test_no_link_or_image_from_any_parameter[image-{page}]",
            )
        )
        rows.append(
            Case(
                f"page-{page}-link",
                f"link: every parameter of {page}",
                LINK,
                "a notice naming each parameter ignored; no clickable link",
                test=f"{links}::test_no_link_or_image_from_any_parameter[link-{page}]",
            )
        )
        rows.append(
            Case(
                f"page-{page}-long",
                f"link: a parameter of {page}",
                "10,000 characters",
                "its length, never its text",
                test=f"{links}::test_a_value_over_the_limit_is_refused_without_being_echoed[{page}]",
            )
        )
    live = "tests/test_app_live.py"
    rows += [
        Case(
            "page-own-parameters",
            "link: each page's own parameters (level, stage, layer, section, step, n, panel_width, row …)",
            IMAGE + LINK,
            "no link or image in any text",
            test=f"{links}::test_the_pages_own_parameters_one_at_a_time",
        ),
        Case(
            "live-wrong-weights",
            "Live: weight upload",
            "resnet32's file on resnet20",
            "the mismatch table and the preset that fits; nothing runs",
            test=f"{live}::test_weights_of_another_preset_get_a_mismatch_report_and_a_suggestion",
        ),
        Case(
            "live-malicious",
            "Live: weight upload",
            "a pickle that opens a file",
            "refused, the file is not created",
            test=f"{live}::test_a_malicious_upload_is_refused_without_running_it",
        ),
        Case(
            "live-timm-other-net",
            "Live: weight upload",
            "timm's resnetv2_50 file on resnet50",
            "timm's ResNetV2 layout named, resnetv2_50 suggested; nothing runs",
            test=f"{live}::test_a_timm_file_for_another_preset_is_refused_with_what_it_is_and_what_takes_it",
        ),
        Case(
            "live-too-big",
            "Live: a network too big to build",
            "8 stages of 1000 blocks",
            "declined before building, with the limit",
            test=f"{live}::test_a_network_too_big_to_build_is_declined_without_building_it",
        ),
        Case(
            "live-batch-over-budget",
            "Live: Time batch",
            "batch 4,096",
            "refused with the largest batch that fits; nothing runs",
            test=f"{live}::test_a_timing_batch_over_the_memory_budget_is_refused_with_what_fits",
        ),
        Case(
            "rf-gradient-over-budget",
            "Receptive field: Measure by gradient",
            "resnet50 at 3,000 px",
            "refused with the input that fits; no button",
            test="tests/test_budget.py::test_the_receptive_field_page_refuses_a_gradient_measurement_over_budget",
        ),
        Case(
            "load-concurrent",
            "6 pages at once, rapid double clicks, huge and bad links",
            "3 sessions × 30 s",
            "no exception, no error box or notice on a good action, the title asked for",
            test="tests/e2e/test_load.py::test_three_sessions_for_thirty_seconds_keep_their_settings_and_show_no_errors",
        ),
    ]
    return rows


_MESSAGES: dict[str, str] = {}


def message(case: Case) -> str:
    """The message ``case`` produces, computed once per process (the tests and the table share it)."""
    if case.id not in _MESSAGES:
        _MESSAGES[case.id] = case.run()
    return _MESSAGES[case.id]


def cases() -> list[Case]:
    return (
        _link_cases()
        + _field_cases()
        + _spec_cases()
        + _weights_cases()
        + _image_cases()
        + _cost_cases()
        + _page_cases()
    )


# -- the table --------------------------------------------------------------------------------------


def _code(text: str) -> str:
    """Text for a code span in a table cell: a link or an image in it stays text."""
    return _cell(text.replace("`", "'"))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table() -> str:
    """The Markdown table: for a case with ``run``, the message itself (run now) and the part the test
    asserts; for the others, what their test asserts."""
    rows = cases()
    out = [
        "# Bad input: every case tried, what the user sees, and the test that checks it",
        "",
        "Issue 15. Generated from `tests/bad_inputs.py` by `python -m tests.bad_inputs` (a test fails when this",
        'file is out of date). "The user sees" is the message the page shows, literally (never as Markdown);',
        "the test named beside it checks that the message holds the part in bold, names no internal (a Python",
        f"repr, a memory address, a traceback) and stays under {MAX_MESSAGE} characters. The per-field rows are",
        "read from `resnet_core.spec.FIELDS`, so a new field adds its own. Rows checked by another test (whole",
        "pages through AppTest or Chromium) say what that test asserts.",
        "",
        f"{len(rows)} cases.",
        "",
        "| # | where | input | the user sees | checked by |",
        "|---|---|---|---|---|",
    ]
    for i, c in enumerate(rows, 1):
        given = c.given if len(c.given) <= 70 else c.given[:60] + "…"
        if c.run is not None:
            shown = message(c)
            shown = shown if len(shown) <= 240 else shown[:230] + "…"
            seen = f"`{_code(shown)}` (**{_code(c.sees)}**)"
        else:
            seen = f"**{_code(c.sees)}**"
        out.append(f"| {i} | {_cell(c.where)} | `{_code(given)}` | {seen} | `{_code(c.checked_by)}` |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(table(), encoding="utf-8")
    print(f"wrote {DOC} ({len(cases())} cases)")
