#!/usr/bin/env python3
"""Write the image decoding and Glm4v image processor fixtures.

Creates small deterministic source images under tests/data/images/ and, from
Pillow and transformers' slow Glm4vImageProcessor, the reference values the C++
tests in tests/vision/image_*_test.cpp compare against:

  tests/data/fixtures/image_processor.json  index: per image the decoded size,
      smart_resize result, grid_thw, and where its arrays are in the .bin file;
      a table of smart_resize cases.
  tests/data/fixtures/image_processor.bin   the arrays, back to back: decoded
      RGB (uint8, Image.open(...).convert("RGB")), bicubic-resized RGB (uint8,
      PIL resize BICUBIC), and for some images pixel_values (little-endian
      float32).

Run with the reference environment (Pillow, numpy, transformers):
  /tmp/refvenv/bin/python tools/make_image_fixtures.py
"""

import io
import json
import math
import random
import struct
import zlib
from pathlib import Path

import numpy as np
import PIL
import transformers
from PIL import Image, features
from transformers.models.glm4v.image_processing_glm4v import Glm4vImageProcessor, smart_resize

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "tests" / "data" / "images"
FIXTURES = ROOT / "tests" / "data" / "fixtures"
TINY_MODEL = ROOT / "tests" / "data" / "tiny-glyph"


def page_like(width, height, seed):
    """Returns an RGB uint8 array: colour gradients, seeded noise and dark
    text-like strokes, so every resampling tap reads varied values."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    red = 255 * x / max(width - 1, 1)
    green = 255 * y / max(height - 1, 1)
    blue = 128 + 100 * np.sin((x + 2 * y) / 5.0)
    noise = rng.normal(0, 12, (height, width, 3)) * (rng.random((height, width, 1)) < 0.1)
    rgb = np.stack([red, green, blue], axis=-1) + noise
    for _ in range(max(1, width * height // 300)):
        top, left = rng.integers(0, height), rng.integers(0, width)
        rgb[top : top + rng.integers(1, 3), left : left + rng.integers(2, 7)] = rng.integers(0, 60)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def raw_png(width, height, bit_depth, color_type, rows):
    """Encodes a PNG by hand, for layouts Pillow cannot save (16-bit RGB)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    idat = zlib.compress(b"".join(b"\x00" + row for row in rows), 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def save(image, name, **options):
    buffer = io.BytesIO()
    image.save(buffer, **options)
    return name, buffer.getvalue()


def make_sources():
    """Returns [(file name, bytes)] of the source images."""
    sources = []
    sources.append(save(Image.fromarray(page_like(100, 37, 1)), "rgb_100x37.png", format="PNG"))

    rgba = np.dstack([page_like(64, 48, 2), np.linspace(0, 255, 64 * 48).reshape(48, 64).astype(np.uint8)])
    sources.append(save(Image.fromarray(rgba, "RGBA"), "rgba_64x48.png", format="PNG"))

    gray = page_like(45, 60, 3)[:, :, 1]
    sources.append(save(Image.fromarray(gray, "L"), "gray_45x60.png", format="PNG"))

    # 16-bit greyscale: values on both sides of 255 (Pillow clamps them).
    gray16 = (page_like(40, 33, 4)[:, :, 0].astype(np.uint16) * 3)
    gray16 = gray16.astype(">u2")
    sources.append(
        ("gray16_40x33.png", raw_png(40, 33, 16, 0, [gray16[y].tobytes() for y in range(33)]))
    )

    rgb16 = page_like(36, 30, 5).astype(np.uint16) * 257 + np.random.default_rng(5).integers(
        0, 257, (30, 36, 3)
    ).astype(np.uint16)
    rgb16 = rgb16.astype(">u2")
    sources.append(
        ("rgb16_36x30.png", raw_png(36, 30, 16, 2, [rgb16[y].tobytes() for y in range(30)]))
    )

    palette = Image.fromarray(page_like(50, 40, 6)).quantize(colors=64, dither=Image.Dither.NONE)
    palette.info["transparency"] = 3
    sources.append(save(palette, "palette_trns_50x40.png", format="PNG", transparency=3))

    gif = Image.fromarray(page_like(70, 29, 7)).quantize(colors=200, dither=Image.Dither.NONE)
    sources.append(save(gif, "palette_70x29.gif", format="GIF", transparency=5, interlace=True))

    # A 2-entry colour table and pixels of index 3: Pillow shows them black.
    # LZW codes (3 bits, LSB first): clear, 3, 3, end of information.
    short_palette = b"GIF89a" + struct.pack("<HHBBB", 2, 1, 0x80, 0, 0) + bytes([10, 20, 30, 40, 50, 60])
    short_palette += b"," + struct.pack("<HHHHB", 0, 0, 2, 1, 0) + b"\x02\x02" + bytes([220, 10]) + b"\x00;"
    sources.append(("short_palette_2x1.gif", short_palette))

    # Animated GIF: the second frame must not show.
    frames = [Image.fromarray(page_like(48, 40, seed)).quantize(colors=32) for seed in (8, 9)]
    sources.append(
        save(frames[0], "anim_48x40.gif", format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    )

    sources.append(
        save(Image.fromarray(page_like(96, 72, 10)), "photo_420_96x72.jpg", format="JPEG", quality=85, subsampling=2)
    )
    sources.append(
        save(Image.fromarray(page_like(40, 50, 11)[:, :, 2], "L"), "gray_40x50.jpg", format="JPEG", quality=90)
    )
    cmyk = Image.fromarray(page_like(32, 30, 12)).convert("CMYK")
    sources.append(save(cmyk, "cmyk_32x30.jpg", format="JPEG", quality=90))

    lossless = np.dstack([page_like(80, 60, 13), np.full((60, 80), 200, np.uint8)])
    sources.append(save(Image.fromarray(lossless, "RGBA"), "lossless_80x60.webp", format="WEBP", lossless=True))
    lossy = np.dstack([page_like(64, 64, 14), np.linspace(30, 255, 64 * 64).reshape(64, 64).astype(np.uint8)])
    sources.append(save(Image.fromarray(lossy, "RGBA"), "lossy_alpha_64x64.webp", format="WEBP", quality=80))
    webp_frames = [Image.fromarray(page_like(50, 40, seed)) for seed in (15, 16)]
    sources.append(
        save(webp_frames[0], "anim_50x40.webp", format="WEBP", save_all=True,
             append_images=webp_frames[1:], lossless=True, duration=100)
    )

    sources.append(save(Image.fromarray(page_like(30, 500, 17)), "tall_30x500.png", format="PNG"))
    sources.append(save(Image.fromarray(page_like(20, 20, 18)), "small_20x20.png", format="PNG"))
    sources.append(save(Image.fromarray(page_like(400, 30, 19)), "wide_400x30.png", format="PNG"))
    sources.append(save(Image.fromarray(page_like(140, 100, 20)), "downscale_140x100.png", format="PNG"))
    return sources


def make_bombs():
    """Headers that claim far more pixels than DecodeLimits allows."""
    png = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
    )
    gif = b"GIF89a" + struct.pack("<HHBBB", 65535, 65535, 0, 0, 0)
    gif += b"," + struct.pack("<HHHHB", 0, 0, 65535, 65535, 0) + b"\x08\x02\x4c\x01\x00;"
    jpeg_sof = struct.pack(">BHHB", 8, 65000, 65000, 3) + b"\x01\x22\x00\x02\x11\x00\x03\x11\x00"
    jpeg_sos = b"\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
    jpeg = (
        b"\xff\xd8"
        + b"\xff\xc0" + struct.pack(">H", len(jpeg_sof) + 2) + jpeg_sof
        + b"\xff\xda" + struct.pack(">H", len(jpeg_sos) + 2) + jpeg_sos
        + b"\x00" * 16 + b"\xff\xd9"
    )
    # A lossless (VP8L) chunk whose header declares 16384x16384; the
    # entropy-coded data after it is never reached.
    vp8l = b"\x2f" + struct.pack("<I", (16383) | (16383 << 14)) + b"\x00" * 11
    webp_body = b"WEBP" + b"VP8L" + struct.pack("<I", len(vp8l)) + vp8l
    webp = b"RIFF" + struct.pack("<I", len(webp_body)) + webp_body
    return [
        ("bomb_100000x100000.png", png),
        ("bomb_65535x65535.gif", gif),
        ("bomb_65000x65000.jpg", jpeg),
        ("bomb_16384x16384.webp", webp),
    ]


def smart_resize_cases():
    """(height, width, min_pixels, max_pixels) -> transformers' result or error."""
    budgets = [(12544, 47040000), (3136, 9408), (12544, 11760000)]
    sizes = [
        (28, 28), (27, 100), (100, 27), (1, 1), (1, 300), (28, 5600), (28, 5601), (5600, 28),
        (5628, 28), (28, 5614), (42, 42), (70, 70), (98, 126), (14, 14), (37, 100), (500, 30),
        (842, 595), (595, 842), (1191, 842), (4000, 3000), (10000, 10000), (9999, 31),
        (65535, 65535), (30000, 150), (150, 30001), (56, 11200), (2048, 1536), (1080, 1920),
        (3000, 4000), (7000, 5000), (29, 29), (41, 43), (1000, 28), (200, 150),
    ]
    rng = random.Random(1234)
    for _ in range(60):
        sizes.append((rng.randint(28, 6000), rng.randint(28, 6000)))
    cases = []
    for min_pixels, max_pixels in budgets:
        for height, width in sizes:
            case = {"height": height, "width": width, "min_pixels": min_pixels, "max_pixels": max_pixels}
            try:
                h, w = smart_resize(2, height, width, temporal_factor=2, factor=28,
                                    min_pixels=min_pixels, max_pixels=max_pixels)
                case["resized"] = [int(h), int(w)]
            except ValueError as error:
                case["error"] = str(error)
            cases.append(case)
    return cases


class BinWriter:
    def __init__(self):
        self.data = bytearray()

    def add(self, array, dtype):
        array = np.ascontiguousarray(array, dtype=dtype)
        entry = {"offset": len(self.data), "bytes": array.nbytes, "dtype": np.dtype(dtype).name}
        self.data += array.tobytes()
        return entry


def main():
    IMAGES.mkdir(parents=True, exist_ok=True)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    config = json.loads((TINY_MODEL / "preprocessor_config.json").read_text())
    downscale_size = {"shortest_edge": 3136, "longest_edge": 9408}
    with_pixel_values = {"rgb_100x37.png", "photo_420_96x72.jpg", "downscale_140x100.png",
                         "palette_70x29.gif", "cmyk_32x30.jpg", "lossy_alpha_64x64.webp",
                         "rgba_64x48.png", "gray16_40x33.png", "anim_48x40.gif"}

    bin_writer = BinWriter()
    index = {
        "generator": "tools/make_image_fixtures.py",
        "versions": {
            "pillow": PIL.__version__,
            "transformers": transformers.__version__,
            "numpy": np.__version__,
            "pillow_libjpeg_turbo": features.version("libjpeg_turbo"),
            "pillow_libwebp": features.version("webp"),
        },
        "processor_config": str((TINY_MODEL / "preprocessor_config.json").relative_to(ROOT)),
        "images": [],
        "bombs": [],
        "smart_resize_cases": smart_resize_cases(),
    }

    for name, data in make_sources():
        (IMAGES / name).write_bytes(data)
        image = Image.open(io.BytesIO(data))
        rgb = image.convert("RGB")
        entry = {
            "file": name,
            "pillow_mode": image.mode,
            "width": rgb.width,
            "height": rgb.height,
            "decoded_rgb": bin_writer.add(np.asarray(rgb), np.uint8),
        }
        size = downscale_size if name.startswith("downscale") else config["size"]
        entry["min_pixels"] = size["shortest_edge"]
        entry["max_pixels"] = size["longest_edge"]
        try:
            height, width = smart_resize(2, rgb.height, rgb.width, temporal_factor=2, factor=28,
                                         min_pixels=size["shortest_edge"], max_pixels=size["longest_edge"])
        except ValueError as error:
            entry["error"] = str(error)
            index["images"].append(entry)
            continue
        entry["resized"] = [int(height), int(width)]
        resized = rgb.resize((width, height), Image.Resampling.BICUBIC)
        entry["resized_rgb"] = bin_writer.add(np.asarray(resized), np.uint8)

        processor = Glm4vImageProcessor(**{**config, "size": size})
        output = processor(images=Image.open(io.BytesIO(data)), return_tensors="np")
        entry["grid_thw"] = [int(v) for v in output["image_grid_thw"][0]]
        entry["num_tokens"] = int(np.prod(output["image_grid_thw"][0]) // 4)
        if name in with_pixel_values:
            pixel_values = output["pixel_values"]
            assert pixel_values.dtype == np.float32, pixel_values.dtype
            entry["pixel_values_shape"] = list(pixel_values.shape)
            entry["pixel_values"] = bin_writer.add(pixel_values, "<f4")
        index["images"].append(entry)

    for name, data in make_bombs():
        (IMAGES / name).write_bytes(data)
        try:
            Image.open(io.BytesIO(data)).convert("RGB")
            pillow_result = "decoded"
        except Exception as error:  # Recorded only to document what Pillow does.
            pillow_result = f"{type(error).__name__}: {error}"
        index["bombs"].append({"file": name, "pillow": pillow_result})

    (FIXTURES / "image_processor.bin").write_bytes(bytes(bin_writer.data))
    (FIXTURES / "image_processor.json").write_text(json.dumps(index, indent=1) + "\n")
    total = sum(p.stat().st_size for p in IMAGES.iterdir())
    print(f"{len(index['images'])} images ({total} bytes), {len(bin_writer.data)} bytes of arrays")


if __name__ == "__main__":
    main()
