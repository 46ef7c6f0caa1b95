#!/usr/bin/env python3
"""Build the GLM-4 tokenizer files of the tiny test model from public MIT data.

The byte-level BPE ranks of the GLM-4 / GLM-4.5 vocabulary (151,329 ranks) come
from the PyPI package splintr-rs (MIT licence, vocabulary extracted from
zai-org/GLM-4.5 and also MIT). This script turns them into a Hugging Face
tokenizer.json the way transformers converts tiktoken vocabularies: every token
is a vocabulary entry, and each split of a token into two known tokens becomes
a merge ranked by the merged token. The 36 added tokens 151329-151364 follow the
GLM-4.5 family. Run:

    pip install splintr-rs==0.22.0 tokenizers
    python tools/make_tokenizer.py tests/data/tiny-glyph
"""

import json
import sys
from pathlib import Path

import splintr

# The GLM-4.5 pre-tokenizer: Llama-3 style with case-insensitive contractions
# and digit runs of at most three.
PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
    r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

FIRST_ADDED_ID = 151329
ADDED_TOKENS = [
    "<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>",
    "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>",
    "<|begin_of_image|>", "<|end_of_image|>", "<|begin_of_video|>", "<|end_of_video|>",
    "<|begin_of_audio|>", "<|end_of_audio|>", "<|begin_of_transcription|>",
    "<|end_of_transcription|>", "<|code_prefix|>", "<|code_middle|>", "<|code_suffix|>",
    "<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_response>",
    "</tool_response>", "<arg_key>", "</arg_key>", "<arg_value>", "</arg_value>",
    "/nothink", "<|begin_of_box|>", "<|end_of_box|>", "<|image|>", "<|video|>",
]

# Markup the model writes as part of its answer stays in decoded text even with
# skip_special_tokens, so that reasoning and tool-call parsers can see it.
NOT_SPECIAL = {
    "<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_response>",
    "</tool_response>", "<arg_key>", "</arg_key>", "<arg_value>", "</arg_value>",
    "/nothink", "<|begin_of_box|>", "<|end_of_box|>",
}


def bytes_to_unicode():
    """Return the GPT-2 byte-level alphabet: byte value -> printable character."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars)}


def main(out_dir: Path) -> None:
    source = splintr.Tokenizer.from_pretrained("glm4")
    byte_char = bytes_to_unicode()
    ranks = {}
    for rank in range(FIRST_ADDED_ID):
        token = source.decode_token_bytes(rank)
        ranks[token] = rank

    vocab = {"".join(byte_char[b] for b in token): rank for token, rank in ranks.items()}

    merges = []
    for token, rank in ranks.items():
        if len(token) < 2:
            continue
        splits = []
        for cut in range(1, len(token)):
            left, right = token[:cut], token[cut:]
            if left in ranks and right in ranks:
                splits.append((ranks[left], ranks[right], left, right))
        splits.sort()
        merges.extend((rank, left, right) for _, _, left, right in splits)
    merges.sort(key=lambda item: item[0])
    to_text = lambda token: "".join(byte_char[b] for b in token)
    merge_pairs = [[to_text(left), to_text(right)] for _, left, right in merges]

    added = [
        {"id": FIRST_ADDED_ID + i, "content": text, "single_word": False, "lstrip": False,
         "rstrip": False, "normalized": False, "special": text not in NOT_SPECIAL}
        for i, text in enumerate(ADDED_TOKENS)
    ]
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": PATTERN}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        ]},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                    "use_regex": False},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": True,
                  "vocab": vocab, "merges": merge_pairs},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "tokenizer.json", "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False, separators=(",", ":"))

    config = {
        "added_tokens_decoder": {
            str(item["id"]): {k: item[k] for k in
                              ("content", "lstrip", "normalized", "rstrip", "single_word", "special")}
            for item in added
        },
        "clean_up_tokenization_spaces": False,
        "do_lower_case": False,
        "eos_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>",
        "model_max_length": 131072,
        "padding_side": "left",
        "remove_space": False,
        "tokenizer_class": "PreTrainedTokenizerFast",
    }
    with open(out_dir / "tokenizer_config.json", "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=2)
    print(f"{len(vocab)} ranks, {len(merge_pairs)} merges, {len(added)} added tokens -> {out_dir}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/data/tiny-glyph"))
