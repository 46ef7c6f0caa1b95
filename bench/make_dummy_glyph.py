#!/usr/bin/env python3
"""Write a random-weight Glyph text decoder with Glyph's widths but few layers, for benchmarks.

The directory is laid out like a Hugging Face Glyph checkpoint (Glm4vForConditionalGeneration)
so that both `glyph serve --model-path DIR` and llama.cpp's convert_hf_to_gguf.py read it:
config.json, generation_config.json, the tokenizer files and chat template of the tiny test model,
and model.safetensors in BF16. Every width is Glyph's (hidden 4096, 32 query heads and 2 KV heads
of 128, MLP 13696 with fused gate_up, 151552 vocabulary rows, untied lm_head, rope_theta 500000,
M-RoPE sections [8, 12, 12]). Only the layer count differs, 4 by default instead of 40, so the
weights are about 4.1 GB and fit next to their GGUF copy on a small machine.

There is no vision tower: config.json has no vision_config, which glyph's loader reads as depth 0
and llama.cpp's text converter never looks at. The text-only benchmarks do not need one.

model.safetensors is written tensor by tensor, so memory use stays near one tensor's size.

Usage: make_dummy_glyph.py OUT_DIR [--layers N] [--seed S] [--tokenizer-dir DIR]
"""

import argparse
import json
import shutil
import struct
import sys
from pathlib import Path

import torch

VOCAB_SIZE = 151552
HIDDEN = 4096
HEADS = 32
KV_HEADS = 2
HEAD_DIM = 128
INTERMEDIATE = 13696
EOS_IDS = [151329, 151336, 151338]
PAD_ID = 151329

# Standard deviation of the random matrices. With 0.02 and the sandwich RMSNorms the activations
# stay finite through every layer, so the servers generate normal (meaningless) tokens.
WEIGHT_STD = 0.02

TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "chat_template.jinja"]

# Elements generated per randn call, so one call never needs more than 64 MB of FP32.
CHUNK_ELEMENTS = 1 << 24


def text_config(layers):
    return {
        "attention_bias": True,
        "attention_dropout": 0.0,
        "dtype": "bfloat16",
        "eos_token_id": EOS_IDS,
        "hidden_act": "silu",
        "hidden_size": HIDDEN,
        "image_token_id": 151363,
        "initializer_range": 0.02,
        "intermediate_size": INTERMEDIATE,
        "max_position_embeddings": 131072,
        "model_type": "glm4v_text",
        "num_attention_heads": HEADS,
        "num_hidden_layers": layers,
        "num_key_value_heads": KV_HEADS,
        "pad_token_id": PAD_ID,
        "partial_rotary_factor": 0.5,
        "rms_norm_eps": 1e-05,
        "rope_scaling": {"mrope_section": [8, 12, 12], "rope_type": "default"},
        "rope_theta": 500000.0,
        "use_cache": True,
        "video_token_id": 151364,
        "vocab_size": VOCAB_SIZE,
    }


def model_config(layers):
    return {
        "architectures": ["Glm4vForConditionalGeneration"],
        "dtype": "bfloat16",
        "image_end_token_id": 151340,
        "image_start_token_id": 151339,
        "image_token_id": 151363,
        "model_type": "glm4v",
        "text_config": text_config(layers),
        "tie_word_embeddings": False,
        "transformers_version": "4.57.6",
        "video_end_token_id": 151342,
        "video_start_token_id": 151341,
        "video_token_id": 151364,
    }


def generation_config():
    return {"_from_model_config": True, "eos_token_id": EOS_IDS, "pad_token_id": PAD_ID}


def tensor_specs(layers):
    """Return (name, shape, kind) for every tensor, kind being 'matrix', 'bias' or 'norm'."""
    q_rows = HEADS * HEAD_DIM
    kv_rows = KV_HEADS * HEAD_DIM
    specs = [("lm_head.weight", [VOCAB_SIZE, HIDDEN], "matrix"),
             ("model.language_model.embed_tokens.weight", [VOCAB_SIZE, HIDDEN], "matrix")]
    for layer in range(layers):
        prefix = f"model.language_model.layers.{layer}."
        specs += [
            (prefix + "input_layernorm.weight", [HIDDEN], "norm"),
            (prefix + "self_attn.q_proj.weight", [q_rows, HIDDEN], "matrix"),
            (prefix + "self_attn.q_proj.bias", [q_rows], "bias"),
            (prefix + "self_attn.k_proj.weight", [kv_rows, HIDDEN], "matrix"),
            (prefix + "self_attn.k_proj.bias", [kv_rows], "bias"),
            (prefix + "self_attn.v_proj.weight", [kv_rows, HIDDEN], "matrix"),
            (prefix + "self_attn.v_proj.bias", [kv_rows], "bias"),
            (prefix + "self_attn.o_proj.weight", [HIDDEN, q_rows], "matrix"),
            (prefix + "post_self_attn_layernorm.weight", [HIDDEN], "norm"),
            (prefix + "post_attention_layernorm.weight", [HIDDEN], "norm"),
            (prefix + "mlp.gate_up_proj.weight", [2 * INTERMEDIATE, HIDDEN], "matrix"),
            (prefix + "mlp.down_proj.weight", [HIDDEN, INTERMEDIATE], "matrix"),
            (prefix + "post_mlp_layernorm.weight", [HIDDEN], "norm"),
        ]
    specs.append(("model.language_model.norm.weight", [HIDDEN], "norm"))
    return specs


def element_count(shape):
    count = 1
    for size in shape:
        count *= size
    return count


def write_random_bf16(file, count, kind, generator):
    """Write count random BF16 values: N(0, WEIGHT_STD) for matrices and biases, 1 for norms."""
    for begin in range(0, count, CHUNK_ELEMENTS):
        size = min(CHUNK_ELEMENTS, count - begin)
        if kind == "norm":
            values = torch.ones(size, dtype=torch.bfloat16)
        else:
            values = (torch.randn(size, generator=generator) * WEIGHT_STD).to(torch.bfloat16)
        file.write(values.view(torch.int16).numpy().tobytes())


def write_safetensors(path, specs, seed):
    """Write a safetensors file (8-byte header length, JSON header, raw little-endian data)."""
    header = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, shape, _ in specs:
        size = element_count(shape) * 2
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size

    # The format requires the data to start at a multiple of 8 bytes; JSON allows trailing spaces.
    header_bytes = json.dumps(header, separators=(",", ":")).encode()
    header_bytes += b" " * (-len(header_bytes) % 8)

    generator = torch.Generator().manual_seed(seed)
    partial = path.with_suffix(".partial")
    with open(partial, "wb") as file:
        file.write(struct.pack("<Q", len(header_bytes)))
        file.write(header_bytes)
        for name, shape, kind in specs:
            write_random_bf16(file, element_count(shape), kind, generator)
    partial.rename(path)
    return offset


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--layers", type=int, default=4, help="decoder layers (Glyph has 40)")
    parser.add_argument("--seed", type=int, default=20250601, help="seed of the random weights")
    parser.add_argument("--tokenizer-dir", type=Path,
                        default=Path(__file__).resolve().parent.parent / "tests/data/tiny-glyph",
                        help="directory whose tokenizer files and chat template are copied")
    args = parser.parse_args()

    if args.layers < 1:
        sys.exit(f"--layers is {args.layers}; it must be at least 1")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name in TOKENIZER_FILES:
        source = args.tokenizer_dir / name
        if not source.is_file():
            sys.exit(f"tokenizer file {source} not found; pass --tokenizer-dir with the tiny model")
        shutil.copyfile(source, args.out_dir / name)

    (args.out_dir / "config.json").write_text(json.dumps(model_config(args.layers), indent=2) + "\n")
    (args.out_dir / "generation_config.json").write_text(
        json.dumps(generation_config(), indent=2) + "\n")

    torch.set_num_threads(2)
    data_bytes = write_safetensors(args.out_dir / "model.safetensors", tensor_specs(args.layers),
                                   args.seed)
    print(f"wrote {args.out_dir} ({args.layers} layers, {data_bytes / 1e9:.2f} GB of BF16 weights)")


if __name__ == "__main__":
    main()
