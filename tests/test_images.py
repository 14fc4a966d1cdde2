"""Images: formats and colour modes in, ImageNet preprocessing step by step, top-5, samples."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from resnet_core.images import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    MAX_PIXELS,
    SAMPLES_DIR,
    ImageError,
    center_crop_box,
    class_names,
    gray_to_8bit,
    load_image,
    max_resized_side,
    preprocess,
    sample_images,
    top_k,
)


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_png_jpeg_and_webp_load_as_rgb(fmt):
    loaded = load_image(encode(Image.new("RGB", (40, 30), (200, 100, 50)), fmt))
    assert loaded.format == fmt and loaded.image.mode == "RGB" and loaded.image.size == (40, 30)
    assert loaded.notes == ()
    r, g, b = loaded.image.getpixel((20, 15))
    assert abs(r - 200) <= 4 and abs(g - 100) <= 4 and abs(b - 50) <= 4  # JPEG/WebP are lossy


def test_grayscale_is_copied_into_three_channels():
    loaded = load_image(encode(Image.new("L", (8, 8), 77), "PNG"))
    assert loaded.original_mode == "L" and loaded.image.getpixel((0, 0)) == (77, 77, 77)
    assert any("grayscale" in n for n in loaded.notes)


def test_16_bit_grayscale_keeps_its_brightness():
    # 0–65535 maps to 0–255 (÷257): a uniform mid-grey stays mid-grey, not black as a min–max stretch made it.
    uniform = load_image(encode(Image.fromarray(np.full((8, 8), 32896, dtype=np.uint16)), "PNG"))
    assert uniform.original_mode == "I;16"
    assert np.array_equal(np.asarray(uniform.image), np.full((8, 8, 3), 128, dtype=np.uint8))
    assert any("16-bit" in n for n in uniform.notes)
    # A near-black ramp stays near black instead of being stretched to full contrast.
    ramp = np.tile(np.linspace(0, 1000, 16).astype(np.uint16), (4, 1))
    dark = np.asarray(load_image(encode(Image.fromarray(ramp), "PNG")).image)
    assert dark.max() <= 4 and dark.min() == 0
    assert np.array_equal(dark[..., 0], np.rint(ramp / 257))


@pytest.mark.parametrize(
    ("values", "mode", "grey"),
    [
        (np.full((2, 2), 65535, dtype=">u2"), "I;16B", 255),
        (np.full((2, 2), 32896, dtype=np.int32), "I", 128),
        (np.full((2, 2), 70000, dtype=np.int32), "I", 255),  # 32-bit: clipped to 0–65535 first
        (np.full((2, 2), -5, dtype=np.int32), "I", 0),
    ],
)
def test_other_wide_grayscale_modes_scale_by_their_range(values, mode, grey):
    img = Image.fromarray(values)
    assert img.mode == mode
    assert np.array_equal(np.asarray(gray_to_8bit(img)), np.full((2, 2), grey, dtype=np.uint8))


def test_transparency_is_composited_onto_white():
    img = Image.new("RGBA", (4, 4), (0, 0, 255, 0))
    img.putpixel((0, 0), (255, 0, 0, 255))
    loaded = load_image(encode(img, "PNG"))
    assert loaded.image.getpixel((0, 0)) == (255, 0, 0)
    assert loaded.image.getpixel((3, 3)) == (255, 255, 255)
    assert any("transparency" in n for n in loaded.notes)


def test_cmyk_jpeg_is_converted_to_rgb():
    loaded = load_image(encode(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG"))
    assert loaded.original_mode == "CMYK" and loaded.image.mode == "RGB"
    r, g, b = loaded.image.getpixel((4, 4))
    assert r > 200 and g < 60 and b < 60  # C=0, M=Y=full: red
    assert any("CMYK" in n for n in loaded.notes)


def test_palette_image_is_expanded():
    loaded = load_image(encode(Image.new("RGB", (6, 6), (10, 200, 30)).convert("P"), "PNG"))
    assert loaded.image.mode == "RGB" and any("palette" in n for n in loaded.notes)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (encode(Image.new("RGB", (4, 4)), "GIF"), "GIF images are not supported; upload a PNG, JPEG or WebP"),
        (encode(Image.new("RGB", (4, 4)), "BMP"), "BMP images are not supported"),
        (b"\x89PNG but not really", "starts as a PNG image, but its data is cut short or damaged"),
        (b"", "the file is empty"),
    ],
)
def test_unusable_files_name_the_problem_and_the_allowed_formats(data, message):
    with pytest.raises(ImageError, match=message):
        load_image(data)


def test_preprocessing_steps_follow_torchvisions_eval_transform():
    img = Image.fromarray(np.random.default_rng(0).integers(0, 256, (200, 320, 3), dtype=np.uint8))
    out = preprocess(img, resize=256, crop=224)
    assert [s.name for s in out.steps] == ["input", "resize", "center crop", "to tensor", "normalize"]
    assert out.steps[1].shape == (256, 409, 3)  # shorter side 200 → 256, long side int(256·320/200)
    assert out.steps[2].shape == (224, 224, 3)
    assert out.tensor.shape == (1, 3, 224, 224) and out.tensor.dtype == torch.float32
    # The tensor is exactly the crop, scaled and normalised.
    crop = np.array(img.resize((409, 256), Image.Resampling.BILINEAR).crop(center_crop_box(409, 256, 224)))
    expected = (torch.from_numpy(crop).float().permute(2, 0, 1) / 255 - torch.tensor(IMAGENET_MEAN).view(3, 1, 1)) / (
        torch.tensor(IMAGENET_STD).view(3, 1, 1)
    )
    assert torch.allclose(out.tensor[0], expected, atol=1e-6)


def test_a_uniform_image_normalises_to_the_closed_form_value():
    out = preprocess(Image.new("RGB", (300, 300), (255, 0, 128)), resize=256, crop=224)
    for c, v in enumerate((255, 0, 128)):
        assert out.tensor[0, c].flatten().unique().tolist() == pytest.approx(
            [(v / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c]], abs=1e-6
        )


def test_center_crop_matches_torchvisions_rounding():
    assert center_crop_box(409, 256, 224) == (92, 16, 316, 240)  # round(185/2)=92 (banker's), round(32/2)=16


def test_crop_larger_than_resize_is_refused():
    with pytest.raises(ImageError, match="crop ≤ resize"):
        preprocess(Image.new("RGB", (10, 10)), resize=100, crop=224)


@pytest.mark.parametrize(("size", "resized"), [((1, 500), "256×128000"), ((3, 20000), "256×1706666")])
def test_extreme_aspect_ratios_are_refused_before_resizing(size, resized):
    # Resizing the shorter side to 256 would make these 128000 and 1.7 million pixels long.
    with pytest.raises(ImageError, match=rf"{size[0]}×{size[1]} pixels.*{resized}.*at most 4096 px"):
        preprocess(Image.new("RGB", size), resize=256, crop=224)
    assert max_resized_side(256) == 4096 == 16 * 256


def test_the_widest_allowed_image_is_preprocessed_like_torchvision():
    img = Image.fromarray(np.random.default_rng(1).integers(0, 256, (20, 320, 3), dtype=np.uint8))  # 16:1
    out = preprocess(img, resize=256, crop=224)
    assert out.steps[1].shape == (256, 4096, 3)
    crop = np.array(img.resize((4096, 256), Image.Resampling.BILINEAR).crop(center_crop_box(4096, 256, 224)))
    expected = (torch.from_numpy(crop).float().permute(2, 0, 1) / 255 - torch.tensor(IMAGENET_MEAN).view(3, 1, 1)) / (
        torch.tensor(IMAGENET_STD).view(3, 1, 1)
    )
    assert torch.allclose(out.tensor[0], expected, atol=1e-6)


def test_large_resize_sizes_are_capped_by_pixels_too():
    # At resize 4096 a 16:1 image would be 4096×65536 = 268 megapixels; the cap is MAX_PIXELS instead.
    assert max_resized_side(4096) == MAX_PIXELS // 4096
    with pytest.raises(ImageError, match="at most 9765 px"):
        preprocess(Image.new("RGB", (30, 90)), resize=4096, crop=224)


def test_class_names_are_imagenets_thousand_in_torchvision_order():
    names = class_names()
    assert len(names) == 1000 and names[0] == "tench" and names[1] == "goldfish"


def test_top5_is_sorted_labelled_and_sums_below_one():
    logits = torch.full((1000,), -5.0)
    logits[[1, 7, 42, 100, 999]] = torch.tensor([5.0, 4.0, 3.0, 2.0, 1.0])
    preds = top_k(logits, 5, class_names())
    assert [p.index for p in preds] == [1, 7, 42, 100, 999]
    assert preds[0].label == "goldfish" and preds[0].rank == 1
    probs = [p.probability for p in preds]
    assert probs == sorted(probs, reverse=True) and sum(probs) < 1
    assert probs[0] == pytest.approx(torch.softmax(logits, 0)[1].item())


def test_samples_ship_with_a_licence_and_load():
    samples = sample_images()
    assert 2 <= len(samples) <= 4
    licence = (SAMPLES_DIR / "LICENSE.md").read_text()
    assert "CC0" in licence
    for path in samples.values():
        assert path.name in licence
        assert load_image(path).image.mode == "RGB"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (
            lambda: encode(Image.new("RGB", (64, 64)), "PNG")[:70],
            "it starts as a PNG image, but its data is cut short or damaged",
        ),
        (lambda: encode(Image.new("RGB", (64, 64)), "JPEG")[:300], "cut short or damaged"),
        (lambda: encode(Image.new("RGB", (64, 64)), "WEBP")[:30], "it starts as a WebP image"),
        (lambda: b"just some text, not a picture", "it is plain text"),
        (lambda: b"PK\x03\x04" + bytes(60), "it is a zip archive, e.g. a PyTorch weight file"),
        (lambda: b"%PDF-1.7\n" + bytes(60), "it is a PDF document"),
        (lambda: bytes(range(256)), "its first bytes are not those of any image format Pillow knows"),
    ],
)
def test_unreadable_images_are_described_in_the_users_terms(data, reason):
    with pytest.raises(ImageError) as err:
        load_image(data())
    text = str(err.value)
    assert text.startswith("this file is not an image Pillow can read (") and reason in text
    assert "BytesIO" not in text and " at 0x" not in text and "cannot identify" not in text
