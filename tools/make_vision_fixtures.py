#!/usr/bin/env python3
"""Write the reference fixtures for the glm4v vision tower and M-RoPE positions.

transformers 4.57 runs the tiny model of tests/data/tiny-glyph (weights stored in BF16 on disk,
loaded upcast to float32, eager attention) on three synthetic images and on chat prompts that
interleave text with one and with three images. The C++ tests in tests/model/vision_*_test.cpp
and tests/model/multimodal_*_test.cpp compare against:

- vision_fixtures.json: the index. Per image: its grid (t, h, w) in patches and where its
  pixel_values and vision embeddings sit in vision_fixtures.bin. Per position case: token count,
  image placements, get_rope_index positions [tokens][3] and rope_delta. Per prompt: token ids,
  the images in prompt order, positions, rope_delta, logits at a few rows restricted to
  vocab_subset, max |logit| of each of those rows over the whole vocabulary, the top-1 minus
  top-2 gap of the last row, and a 16-token greedy continuation (eos ignored) with its gaps.
- vision_fixtures.bin: little-endian arrays at the byte offsets the index gives. pixel_values
  are BF16 ([patches, 1176]): the image processor's float32 output rounded to BF16, and those
  rounded values are what transformers was fed, so the C++ input is bit-identical. Embeddings
  and logits are float32.

The images come from Glm4vImageProcessor (the tiny model's preprocessor_config.json) applied to
PIL images drawn from a fixed seed. The greedy continuation follows generate(): the prompt is
prefilled once, then each token is decoded alone at position cache_length + rope_delta on all
three components, through the model's KV cache.

Run from the repository root (about ten seconds):

    /tmp/refvenv/bin/python tools/make_vision_fixtures.py tests/data/tiny-glyph tests/data/fixtures
"""

import json
import sys
from pathlib import Path

import numpy as np
import safetensors
import torch
from PIL import Image
from tokenizers import Tokenizer
from transformers import AutoTokenizer, Glm4vForConditionalGeneration, Glm4vImageProcessor

SEED = 20250611
IMAGE_ID = 151363
GREEDY_STEPS = 16
VOCAB_SUBSET_SIZE = 2048
TOP_IDS_PER_ROW = 16

# (width, height) in pixels. The processor rounds each side to a multiple of 28 and enforces
# its minimum pixel budget, giving grids (1, 6, 6), (1, 8, 6) and (1, 4, 34). The position table
# is 24 x 24, so the first two are resampled down, and the 34-wide one is resampled up with
# border clamping at its left and right edges.
IMAGE_SIZES = [(56, 56), (84, 112), (476, 56)]

# Chat messages with {"type": "image"} parts, and which of IMAGE_SIZES each part shows.
PROMPTS = [
    ("one_image", [{"role": "user", "content": [
        {"type": "text", "text": "Describe the picture."}, {"type": "image"},
        {"type": "text", "text": "What colour dominates?"}]}], [1]),
    ("three_images", [{"role": "user", "content": [
        {"type": "text", "text": "Compare"}, {"type": "image"},
        {"type": "text", "text": "with"}, {"type": "image"}, {"type": "image"},
        {"type": "text", "text": "Which is widest?"}]}], [2, 0, 1]),
]

# Position-only cases: token count and (offset, grid) placements, fed to get_rope_index with
# <|image|> tokens at the placements and text ids elsewhere. Covers an image first, adjacent
# images separated by one text token, a tall and a wide image, and grid_t 2.
POSITION_CASES = [
    ("image_first", 14, [(0, [1, 4, 6])]),
    ("text_only", 9, []),
    ("tall_then_wide", 40, [(3, [1, 8, 4]), (12, [1, 2, 12]), (20, [1, 6, 6])]),
    ("two_frames", 20, [(2, [2, 4, 4]), (12, [1, 4, 4])]),
    ("image_last", 11, [(5, [1, 4, 6])]),
]


def synthetic_image(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """A smooth colour gradient with a bright rectangle and mild noise."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    red = 255 * x / max(width - 1, 1)
    green = 255 * y / max(height - 1, 1)
    blue = 128 + 100 * np.sin(x / 7.0) * np.cos(y / 5.0)
    pixels = np.stack([red, green, blue], axis=-1)
    top, left = rng.integers(0, height // 2), rng.integers(0, width // 2)
    pixels[top:top + height // 3, left:left + width // 3] = rng.integers(180, 256, 3)
    pixels += rng.normal(0, 12, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


class Blob:
    """Appends little-endian arrays to one binary file and records their byte ranges."""

    def __init__(self):
        self.parts, self.size = [], 0

    def add(self, array: np.ndarray) -> dict:
        data = np.ascontiguousarray(array).tobytes()
        entry = {"offset": self.size, "shape": list(array.shape)}
        self.parts.append(data)
        self.size += len(data)
        return entry


def to_bf16_bits(values: torch.Tensor) -> np.ndarray:
    return values.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2")


def render(model_dir: Path, messages: list, grids: list) -> list:
    """Token ids of the chat prompt, each <|image|> expanded to its merged token count."""
    template = AutoTokenizer.from_pretrained(model_dir)
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    text = template.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = tokenizer.encode(text, add_special_tokens=False).ids
    expanded, image = [], 0
    for token in ids:
        if token == IMAGE_ID:
            t, h, w = grids[image]
            expanded += [IMAGE_ID] * (t * h * w // 4)
            image += 1
        else:
            expanded.append(token)
    assert image == len(grids), "the template dropped an image"
    return expanded


def rope_index(model, ids: list, grids: list):
    grid = torch.tensor(grids) if grids else None
    positions, delta = model.model.get_rope_index(torch.tensor([ids]), image_grid_thw=grid)
    return positions[:, 0, :].t().tolist(), int(delta.reshape(-1)[0])


@torch.no_grad()
def greedy(model, ids: list, pixel_values: torch.Tensor, grids: list):
    """Greedy tokens as generate() picks them: one prefill, then one token per step."""
    model.model.rope_deltas = None
    grid = torch.tensor(grids)
    # Explicit attention masks keep transformers from reading the 3-row positions as packed
    # sequences, which it tries when there is no mask.
    output = model(input_ids=torch.tensor([ids]), pixel_values=pixel_values, image_grid_thw=grid,
                   attention_mask=torch.ones((1, len(ids)), dtype=torch.long), use_cache=True)
    cache = output.past_key_values
    logits = output.logits[0, -1]
    tokens, gaps = [], []
    for step in range(GREEDY_STEPS):
        top = torch.topk(logits, 2).values
        gaps.append(float(top[0] - top[1]))
        tokens.append(int(torch.argmax(logits)))
        if step + 1 == GREEDY_STEPS:
            break
        position = torch.tensor([len(ids) + step])
        mask = torch.ones((1, len(ids) + step + 1), dtype=torch.long)
        output = model(input_ids=torch.tensor([[tokens[-1]]]), past_key_values=cache,
                       attention_mask=mask, cache_position=position, use_cache=True)
        cache = output.past_key_values
        logits = output.logits[0, -1]
    return tokens, gaps


def main(model_dir: Path, fixture_dir: Path) -> None:
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    with safetensors.safe_open(str(model_dir / "model.safetensors"), "pt") as checkpoint:
        disk_dtypes = sorted({checkpoint.get_slice(name).get_dtype() for name in checkpoint.keys()
                              if name.startswith("model.visual.")})
    model = Glm4vForConditionalGeneration.from_pretrained(
        model_dir, dtype=torch.float32, attn_implementation="eager").eval()
    processor = Glm4vImageProcessor.from_pretrained(model_dir)
    blob = Blob()

    # Images: processor output rounded to BF16, which is then the exact input on both sides.
    images, pixel_rows, grids = [], [], []
    for width, height in IMAGE_SIZES:
        processed = processor(images=[synthetic_image(rng, width, height)], return_tensors="pt")
        pixels = processed["pixel_values"].to(torch.bfloat16).to(torch.float32)
        grid = processed["image_grid_thw"][0].tolist()
        pixel_rows.append(pixels)
        grids.append(grid)
    with torch.no_grad():
        embeddings = model.model.visual(torch.cat(pixel_rows), grid_thw=torch.tensor(grids))
    first = 0
    for index, (pixels, grid) in enumerate(zip(pixel_rows, grids)):
        count = grid[0] * grid[1] * grid[2] // 4
        rows = embeddings[first:first + count]
        first += count
        images.append({
            "size": list(IMAGE_SIZES[index]), "grid_thw": grid,
            "pixel_values": blob.add(to_bf16_bits(pixels)),
            "embeddings": blob.add(rows.numpy().astype("<f4")),
            "max_abs_embedding": float(rows.abs().max()),
        })
        print(f"image {index}: grid {grid}, {count} tokens, max |embedding| "
              f"{images[-1]['max_abs_embedding']:.3f}")

    position_cases = []
    for name, count, placements in POSITION_CASES:
        ids = [100 + i for i in range(count)]
        for offset, (t, h, w) in placements:
            ids[offset:offset + t * h * w // 4] = [IMAGE_ID] * (t * h * w // 4)
        assert len(ids) == count
        positions, delta = rope_index(model, ids, [grid for _, grid in placements])
        position_cases.append({
            "name": name, "num_tokens": count,
            "images": [{"offset": offset, "grid_thw": grid} for offset, grid in placements],
            "positions": positions, "rope_delta": delta})

    vocab_subset = set(rng.choice(model.config.text_config.vocab_size, VOCAB_SUBSET_SIZE,
                                  replace=False).tolist())
    prompts, prompt_rows = [], []
    for name, messages, image_indices in PROMPTS:
        prompt_grids = [grids[i] for i in image_indices]
        ids = render(model_dir, messages, prompt_grids)
        pixels = torch.cat([pixel_rows[i] for i in image_indices])
        positions, delta = rope_index(model, ids, prompt_grids)
        with torch.no_grad():
            model.model.rope_deltas = None
            logits = model(input_ids=torch.tensor([ids]), pixel_values=pixels,
                           image_grid_thw=torch.tensor(prompt_grids),
                           attention_mask=torch.ones((1, len(ids)), dtype=torch.long),
                           use_cache=False).logits[0]
        # Rows: the first, a middle and the last token of the first image run, the token after
        # it, and the last prompt token. Prefill chunks that end at these rows split image runs.
        image_rows = [i for i, token in enumerate(ids) if token == IMAGE_ID]
        run_starts = [i for i in image_rows if i == 0 or ids[i - 1] != IMAGE_ID]
        assert len(run_starts) == len(image_indices), name
        first_run_end = image_rows[0] + prompt_grids[0][1] * prompt_grids[0][2] // 4 - 1
        rows = sorted({image_rows[0], (image_rows[0] + first_run_end) // 2, first_run_end,
                       first_run_end + 1, len(ids) - 1})
        for row in rows:
            vocab_subset.update(torch.topk(logits[row], TOP_IDS_PER_ROW).indices.tolist())
        tokens, gaps = greedy(model, ids, pixels, prompt_grids)
        # generate() itself stops at an eos id, so it must agree up to there.
        generated = model.generate(input_ids=torch.tensor([ids]), pixel_values=pixels,
                                   image_grid_thw=torch.tensor(prompt_grids),
                                   max_new_tokens=GREEDY_STEPS, do_sample=False)[0, len(ids):]
        assert generated.tolist() == tokens[:len(generated)], name
        assert tokens[0] == int(torch.argmax(logits[-1])), name
        top = torch.topk(logits[-1], 2).values
        prompts.append({
            "name": name, "prompt_ids": ids,
            "images": [{"image": i, "offset": offset}
                       for i, offset in zip(image_indices, run_starts)],
            "positions": positions, "rope_delta": delta, "logit_rows": rows,
            "max_abs_logits": [float(logits[row].abs().max()) for row in rows],
            "top2_gap": float(top[0] - top[1]),
            "greedy_ids": tokens, "greedy_top2_gaps": gaps,
        })
        prompt_rows.append((logits, rows))
        print(f"{name}: {len(ids)} tokens, rope_delta {delta}, rows {rows}, greedy {tokens}")

    subset = sorted(vocab_subset)
    for prompt, (logits, rows) in zip(prompts, prompt_rows):
        prompt["logits"] = blob.add(logits[rows][:, subset].numpy().astype("<f4"))

    # A greedy step whose top-2 gap is within float32 noise could flip between two correct
    # implementations, which would make the exact-match tests flaky.
    min_gap = min(gap / max(prompt["max_abs_logits"])
                  for prompt in prompts for gap in prompt["greedy_top2_gaps"])
    assert min_gap > 1e-4, f"relative top-2 gap {min_gap:.2e} is a near-tie; change SEED"

    fixture_dir.mkdir(parents=True, exist_ok=True)
    (fixture_dir / "vision_fixtures.bin").write_bytes(b"".join(blob.parts))
    index = {
        "source": "transformers 4.57.6 Glm4vForConditionalGeneration, float32, eager attention",
        "checkpoint_vision_dtypes": disk_dtypes, "byte_order": "little",
        "pixel_values_dtype": "bf16", "embeddings_dtype": "float32", "logits_dtype": "float32",
        "image_token_id": IMAGE_ID, "vocab_subset": subset, "greedy_steps": GREEDY_STEPS,
        "images": images, "position_cases": position_cases, "prompts": prompts,
    }
    (fixture_dir / "vision_fixtures.json").write_text(json.dumps(index) + "\n")
    print(f"wrote {blob.size} bytes of arrays; vision weights on disk: {disk_dtypes}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
