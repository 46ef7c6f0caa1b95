#!/usr/bin/env python3
"""Build the tiny random Glyph model and the reference fixtures the C++ model tests compare against.

The model is a Glm4vForConditionalGeneration (text decoder and vision tower) with Glyph's
vocabulary (151552 embedding rows), token ids, rotary settings and vision patching. Rotary:
rope_theta 500000, 131072 positions, partial rotary 0.5, interleaved M-RoPE. Vision: patch 14,
temporal patch 2, spatial merge 2. Its widths are small enough that model.safetensors stays
near 20 MB. Weights are random, stored in BF16.

The fixtures come from transformers 4.57 running the same weights upcast to float32 with eager
attention, so the C++ FP32 path can be held to float32 rounding:

- model_logits.json / model_logits.bin: for each prompt, its token ids and M-RoPE positions, the
  last-position logits (float32 little-endian rows of vocab_size values, in prompt order), a
  32-token greedy continuation with eos ignored, and the top-1 minus top-2 logit gap of every
  greedy step.
- model_mrope.json: the interleaved partial M-RoPE applied by transformers at Glyph's head size
  (head_dim 128, sections [8, 12, 12]) to random queries and keys at distinct (t, h, w) positions.
- model_config_v5.json: the tiny model's config.json rewritten in the transformers 5.x layout
  (rope_parameters inside text_config).

Run from the repository root (takes about a minute on two cores):

    python tools/make_tiny_model.py tests/data/tiny-glyph tests/data/fixtures
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer
from transformers import AutoTokenizer, Glm4vConfig, Glm4vForConditionalGeneration
from transformers.models.glm4v.modeling_glm4v import (Glm4vTextRotaryEmbedding,
                                                      apply_multimodal_rotary_pos_emb)

SEED = 20250601
VOCAB_SIZE = 151552
EOS_IDS = [151329, 151336, 151338]
PAD_ID = 151329
IMAGE_ID = 151363
GREEDY_STEPS = 32

# hidden 32 keeps the two [151552, hidden] BF16 matrices (embedding and the untied lm_head) at
# 19.4 MB together. 4 query heads over 2 KV heads keep GQA with more than one KV head, so a wrong
# query-to-KV head mapping changes the output. head_dim 8 with partial rotary 0.5 rotates 4 dims,
# i.e. 2 frequencies, so mrope_section must sum to 2: frequency 0 takes the temporal position and
# frequency 1 the height position. model_mrope.json covers all three sections at full size.
TEXT_CONFIG = {
    "vocab_size": VOCAB_SIZE,
    "hidden_size": 32,
    "intermediate_size": 96,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "hidden_act": "silu",
    "max_position_embeddings": 131072,
    "rms_norm_eps": 1e-05,
    "rope_theta": 500000.0,
    "rope_scaling": {"rope_type": "default", "mrope_section": [1, 1, 0]},
    "partial_rotary_factor": 0.5,
    "attention_bias": True,
    "attention_dropout": 0.0,
    "initializer_range": 0.02,
    "tie_word_embeddings": False,
    "use_cache": True,
    "pad_token_id": PAD_ID,
    "eos_token_id": EOS_IDS,
    "image_token_id": IMAGE_ID,
    "video_token_id": 151364,
    "torch_dtype": "bfloat16",
}

# out_hidden_size must equal the text hidden size: the merger's output replaces the embeddings of
# the <|image|> tokens.
VISION_CONFIG = {
    "depth": 2,
    "hidden_size": 32,
    "hidden_act": "silu",
    "num_heads": 2,
    "in_channels": 3,
    "image_size": 336,
    "patch_size": 14,
    "spatial_merge_size": 2,
    "temporal_patch_size": 2,
    "out_hidden_size": 32,
    "intermediate_size": 64,
    "rms_norm_eps": 1e-05,
    "attention_bias": False,
    "initializer_range": 0.02,
}

LONG_TEXT = " ".join([
    "The lighthouse keeper on the northern island kept a logbook of every ship that passed,",
    "noting its flag, its heading and the hour at which its lights first showed on the horizon.",
    "In winter the entries grew sparse, because storms closed the sea lanes for weeks at a time,",
    "and the keeper filled the empty pages with measurements of wind speed, air pressure and the",
    "height of the waves breaking against the rocks below the tower. Over thirty years the logbooks",
    "filled four shelves of the small stone cottage beside the lamp room.",
    "When the island was finally connected to the mainland grid and the lamp was automated, a",
    "young meteorologist asked to borrow the books. She spent a summer copying the numbers into a",
    "spreadsheet, one row per day, 10957 rows in all, and found that the keeper's barometer had",
    "drifted by almost 3 hectopascals between 1962 and 1978 before someone replaced it.",
    "Correcting for that drift, the record showed storms arriving on average nine days later in",
    "the autumn than they had in the first decade, a pattern that matched the readings of two",
    "other stations 200 kilometres to the south. Her report, written in plain language and",
    "printed with the keeper's permission, ends with a table of the twenty strongest gales, the",
    "ships sheltering in the harbour during each one, and a note that three of them sank.",
    "Questions at the end of the report ask the reader to estimate how many ships passed the",
    "island per year, to explain why the barometer drift matters for comparing decades, and to",
    "suggest which other records kept by hand might hide similar instrument errors.",
] * 3)

# (name, messages, template keyword arguments). Rendered with the model's chat template.
PROMPTS = [
    ("hello", [{"role": "user", "content": "Hello! Who are you?"}], {}),
    ("system", [
        {"role": "system", "content": "You are a concise assistant."},
        {"role": "user", "content": "Summarise the plot of Jane Eyre in two sentences."},
    ], {}),
    ("no_thinking", [{"role": "user", "content": "What is 17 * 23?"}], {"enable_thinking": False}),
    ("tool_call", [
        {"role": "user", "content": "What is the weather in Paris today?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 1}}}]},
        {"role": "tool", "content": "{\"temperature_c\": 18, \"sky\": \"cloudy\"}"},
    ], {"tools": [{"type": "function", "function": {
        "name": "get_weather", "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]}}}]}),
    ("chinese", [{"role": "user", "content": "请用一句话介绍你自己，然后列出三种水果。"}], {}),
    ("long", [{"role": "user", "content": LONG_TEXT + "\n\nAnswer the first question."}], {}),
]

# A prompt with one image of 8 x 12 patches (4 x 6 merged tokens). The text decoder alone runs
# it, with the <|image|> token embeddings in place of vision features, so the fixture checks the
# three-component M-RoPE positions that transformers' get_rope_index assigns around an image.
IMAGE_PROMPT = ("image", [{"role": "user", "content": [
    {"type": "image"}, {"type": "text", "text": "Read the page and name its title."}]}], {})
IMAGE_GRID_THW = [1, 8, 12]


def build_config() -> Glm4vConfig:
    config = Glm4vConfig(
        text_config=dict(TEXT_CONFIG),
        vision_config=dict(VISION_CONFIG),
        image_token_id=IMAGE_ID,
        video_token_id=151364,
        image_start_token_id=151339,
        image_end_token_id=151340,
        video_start_token_id=151341,
        video_end_token_id=151342,
        tie_word_embeddings=False,
        torch_dtype="bfloat16",
    )
    config.architectures = ["Glm4vForConditionalGeneration"]
    return config


def randomize(model: torch.nn.Module, generator: torch.Generator) -> None:
    """Give every weight a random value large enough to matter.

    transformers initialises norms to 1 and biases to 0, which would hide a missing norm weight
    or bias; random values expose them. Matrices get std 1/sqrt(fan_in) so activations stay near
    unit scale through the layers. lm_head gets std 4/sqrt(hidden), so the logits spread over
    several units, and each row a log-normal scale exp(0.2 N(0, 1)). With 151552 equally scaled
    rows the top-2 gap is a median 3% of the top logit, with scaled rows 6% (measured over random
    hidden states), so fewer greedy steps are near-ties.
    """
    hidden = TEXT_CONFIG["hidden_size"]
    for name, param in model.named_parameters():
        shape = param.shape
        if name.endswith("norm.weight") or "layernorm" in name:
            value = 1.0 + 0.2 * torch.randn(shape, generator=generator)
        elif name.endswith(".bias"):
            value = 0.2 * torch.randn(shape, generator=generator)
        elif name == "lm_head.weight":
            row_scale = torch.exp(0.2 * torch.randn((shape[0], 1), generator=generator))
            value = (4.0 / hidden**0.5) * row_scale * torch.randn(shape, generator=generator)
        elif "embed_tokens" in name or "position_embedding" in name:
            value = torch.randn(shape, generator=generator)
        else:
            fan_in = int(np.prod(shape[1:]))
            value = torch.randn(shape, generator=generator) / fan_in**0.5
        with torch.no_grad():
            param.copy_(value)


def save_model(model: torch.nn.Module, config: Glm4vConfig, out_dir: Path) -> None:
    state = {name: tensor.detach().to(torch.bfloat16).contiguous()
             for name, tensor in model.state_dict().items()}
    save_file(state, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    config.save_pretrained(out_dir)

    generation = {
        "_from_model_config": True,
        "eos_token_id": EOS_IDS,
        "pad_token_id": PAD_ID,
        "transformers_version": "4.57.1",
    }
    (out_dir / "generation_config.json").write_text(json.dumps(generation, indent=2) + "\n")

    # Glyph ships the GLM-4.1V image processor settings: the pixel budget is counted for two
    # temporal frames and kept between 12544 and 47040000 pixels, with OpenAI CLIP normalisation.
    # Written by hand because Glm4vImageProcessor needs Pillow only to be constructed.
    preprocessor = {
        "size": {"shortest_edge": 12544, "longest_edge": 47040000},
        "do_rescale": True,
        "patch_size": 14,
        "temporal_patch_size": 2,
        "merge_size": 2,
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
        "image_processor_type": "Glm4vImageProcessor",
        "processor_class": "Glm4vProcessor",
    }
    (out_dir / "preprocessor_config.json").write_text(json.dumps(preprocessor, indent=2) + "\n")


def v5_config(config_path: Path) -> dict:
    """Rewrite a transformers 4.x config.json in the 5.x layout: rope keys move into rope_parameters."""
    config = json.loads(config_path.read_text())
    text = config["text_config"]
    rope = {"rope_type": text["rope_scaling"].get("rope_type", "default"),
            "rope_theta": text.pop("rope_theta"),
            "partial_rotary_factor": text.pop("partial_rotary_factor"),
            "mrope_section": text["rope_scaling"]["mrope_section"]}
    del text["rope_scaling"]
    text["rope_parameters"] = rope
    for section in (config, text):
        if "torch_dtype" in section:
            section["dtype"] = section.pop("torch_dtype")
    config["transformers_version"] = "5.0.0"
    return config


def render_prompts(model_dir: Path):
    template = AutoTokenizer.from_pretrained(model_dir)
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    rendered = []
    for name, messages, kwargs in PROMPTS + [IMAGE_PROMPT]:
        text = template.apply_chat_template(messages, tokenize=False, add_generation_prompt=True,
                                            **kwargs)
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        if name == "image":
            tokens_per_image = IMAGE_GRID_THW[0] * IMAGE_GRID_THW[1] * IMAGE_GRID_THW[2] // 4
            at = ids.index(IMAGE_ID)
            ids = ids[:at] + [IMAGE_ID] * tokens_per_image + ids[at + 1:]
        rendered.append((name, text, ids))
    return rendered


def positions_for(model, ids: list, name: str) -> torch.Tensor:
    """Return M-RoPE positions [3, 1, n] as transformers assigns them."""
    input_ids = torch.tensor([ids])
    grid = torch.tensor([IMAGE_GRID_THW]) if name == "image" else None
    positions, _ = model.model.get_rope_index(input_ids, image_grid_thw=grid)
    return positions


@torch.no_grad()
def last_logits(model, ids: list, positions: torch.Tensor) -> torch.Tensor:
    """Run the text decoder alone on token embeddings and return the last position's logits."""
    # An explicit attention mask keeps transformers from reading the 3-row positions as packed
    # sequences, which it tries when there is neither a mask nor a cache.
    hidden = model.model.language_model(input_ids=torch.tensor([ids]), position_ids=positions,
                                        attention_mask=torch.ones((1, len(ids)), dtype=torch.long),
                                        use_cache=False).last_hidden_state
    return model.lm_head(hidden[0, -1]).float()


@torch.no_grad()
def greedy(model, ids: list, positions: torch.Tensor):
    """Greedy-decode GREEDY_STEPS tokens, ignoring eos; recompute the full sequence each step."""
    tokens, gaps = [], []
    ids = list(ids)
    next_position = int(positions.max()) + 1
    for _ in range(GREEDY_STEPS):
        logits = last_logits(model, ids, positions)
        top = torch.topk(logits, 2)
        token = int(torch.argmax(logits))
        tokens.append(token)
        gaps.append(float(top.values[0] - top.values[1]))
        ids.append(token)
        step = torch.full((3, 1, 1), next_position, dtype=positions.dtype)
        positions = torch.cat([positions, step], dim=2)
        next_position += 1
    return tokens, gaps


def mrope_fixture(generator: torch.Generator) -> dict:
    """Apply transformers' M-RoPE at Glyph's full head size to random q and k."""
    config = build_config().text_config
    config.hidden_size = 4096
    config.num_attention_heads = 32
    config.rope_scaling = {"rope_type": "default", "mrope_section": [8, 12, 12]}
    heads, head_dim = 2, 128
    # (t, h, w) for six tokens: text, then image tokens with distinct rows and columns.
    positions = torch.tensor([[0, 1, 2, 2, 2, 2], [0, 1, 2, 2, 3, 3], [0, 1, 2, 3, 2, 3]])
    count = positions.shape[1]
    q = torch.randn((1, heads, count, head_dim), generator=generator)
    k = torch.randn((1, heads, count, head_dim), generator=generator)
    # Shift positions far out so that float32 angle rounding at large positions is covered too.
    positions = positions + 70000
    rotary = Glm4vTextRotaryEmbedding(config)
    cos, sin = rotary(q, positions[:, None, :])
    q_out, k_out = apply_multimodal_rotary_pos_emb(q, k, cos, sin, [8, 12, 12])

    def rows(t):  # [1, heads, count, dim] -> [count][heads * dim]
        return t[0].transpose(0, 1).reshape(count, -1).tolist()

    return {
        "rope_theta": config.rope_theta, "partial_rotary_factor": 0.5,
        "mrope_section": [8, 12, 12], "num_heads": heads, "head_dim": head_dim,
        "positions": positions.t().tolist(),
        "q": rows(q), "k": rows(k), "q_rotated": rows(q_out), "k_rotated": rows(k_out),
    }


def main(model_dir: Path, fixture_dir: Path) -> None:
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED)
    fixture_dir.mkdir(parents=True, exist_ok=True)

    config = build_config()
    model = Glm4vForConditionalGeneration(config).eval()
    randomize(model, generator)
    save_model(model, config, model_dir)

    # The reference runs the saved BF16 weights upcast to float32, loaded back through
    # transformers, which also checks that the files load under the expected names.
    reference = Glm4vForConditionalGeneration.from_pretrained(
        model_dir, torch_dtype=torch.float32, attn_implementation="eager").eval()

    entries, rows = [], []
    for name, text, ids in render_prompts(model_dir):
        positions = positions_for(reference, ids, name)
        logits = last_logits(reference, ids, positions)
        if name != "image":
            # Text-only prompts: the full model with its own position logic must agree.
            mask = torch.ones((1, len(ids)), dtype=torch.long)
            full = reference(input_ids=torch.tensor([ids]), attention_mask=mask,
                             use_cache=False).logits[0, -1]
            assert torch.allclose(full, logits, atol=1e-5), name
        tokens, gaps = greedy(reference, ids, positions)
        top = torch.topk(logits, 2).values
        entries.append({
            "name": name, "text": text, "prompt_ids": ids,
            "positions": positions[:, 0, :].t().tolist(),
            "logits_row": len(rows), "max_abs_logit": float(logits.abs().max()),
            "top2_gap": float(top[0] - top[1]),
            "greedy_ids": tokens, "greedy_top2_gaps": gaps,
        })
        rows.append(logits.numpy().astype("<f4"))
        print(f"{name}: {len(ids)} tokens, max |logit| {entries[-1]['max_abs_logit']:.2f}, "
              f"min greedy gap {min(gaps):.3f}, greedy {tokens[:8]}...")

    # A greedy step whose top-2 gap is within float32 noise could flip between two correct
    # implementations, which would make the exact-match tests flaky.
    min_gap = min(gap / entry["max_abs_logit"] for entry in entries
                  for gap in entry["greedy_top2_gaps"] + [entry["top2_gap"]])
    assert min_gap > 1e-4, f"relative top-2 gap {min_gap:.2e} is a near-tie; change SEED"

    np.stack(rows).tofile(fixture_dir / "model_logits.bin")
    index = {"vocab_size": VOCAB_SIZE, "dtype": "float32", "byte_order": "little",
             "greedy_steps": GREEDY_STEPS, "prompts": entries}
    (fixture_dir / "model_logits.json").write_text(json.dumps(index, ensure_ascii=False) + "\n")
    (fixture_dir / "model_mrope.json").write_text(json.dumps(mrope_fixture(generator)) + "\n")
    (fixture_dir / "model_config_v5.json").write_text(
        json.dumps(v5_config(model_dir / "config.json"), indent=2) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
