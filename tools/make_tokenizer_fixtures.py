#!/usr/bin/env python3
"""Write the tokenizer fixtures that tests/text compares glyph's tokenizer with.

Hugging Face `tokenizers` is the reference. The texts are code, many scripts,
emoji sequences, combining marks, whitespace and digit runs, contractions,
added tokens in and around text, odd code points, very long words and GSM8K
questions, all chosen deterministically. For each, the script records the ids
of `encode(text, add_special_tokens=False)` and the output of `decode` with
and without `skip_special_tokens`. It also records decodes of id sequences that cut
UTF-8 characters apart, and cases for variants of the tokenizer (other
pre-tokenizers, added-token flags, unknown tokens, byte fallback) that the
tests build by patching tokenizer.json with JSON pointers.

Run from the repository root:

    pip install tokenizers==0.22.2
    python tools/make_tokenizer_fixtures.py --gsm8k PATH/TO/gsm8k/test.jsonl

The GSM8K questions come from the GSM8K test split (OpenAI, MIT licence,
https://github.com/openai/grade-school-math).
"""

import argparse
import copy
import json
import random
from pathlib import Path

import tokenizers
from tokenizers import Tokenizer

SEED = 20240601
GSM8K_QUESTIONS = 400
FIRST_ADDED_ID = 151329

# GPT-2 bytes_to_unicode, to find the single-byte tokens of the vocabulary.
def byte_level_chars():
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD))
                 + list(range(0xAE, 0x100)))
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars)}


CODE_SNIPPETS = [
    'def fib(n: int) -> int:\n    """Return the n-th Fibonacci number."""\n    a, b = 0, 1\n'
    '    for _ in range(n):\n        a, b = b, a + b\n    return a\n',
    "#include <vector>\n\ntemplate <typename T>\nT sum(const std::vector<T>& xs) {\n"
    "\tT total{};\n\tfor (const auto& x : xs) total += x;\n\treturn total;\n}\n",
    'fn main() {\n    let words: Vec<&str> = "a b c".split(\' \').collect();\n'
    '    println!("{:?} {}", words, words.len());\n}\n',
    "const f = async (url) => {\n  const r = await fetch(url, { method: 'GET' });\n"
    "  return r.ok ? r.json() : null;\n};\n",
    'package main\n\nimport "fmt"\n\nfunc main() {\n\tch := make(chan int, 3)\n'
    '\tgo func() { ch <- 42 }()\n\tfmt.Println(<-ch)\n}\n',
    "SELECT u.id, COUNT(*) AS n\nFROM users u\nJOIN orders o ON o.user_id = u.id\n"
    "WHERE o.total >= 100.50\nGROUP BY u.id\nHAVING n > 2;\n",
    '<!DOCTYPE html>\n<html lang="en">\n<body>\n  <p class="note">Hi &amp; bye</p>\n'
    "  <script>alert('x');</script>\n</body>\n</html>\n",
    '#!/bin/bash\nset -euo pipefail\nfor f in *.txt; do\n  echo "${f%.txt}" | tr a-z A-Z\n'
    "done 2>&1 | tee log.txt\n",
    '{"name": "glyph", "version": "0.1.0", "tags": ["a", "b"], "n": -1.5e-3, "ok": true}\n',
    "\\begin{equation}\n  \\int_0^\\infty e^{-x^2}\\,dx = \\frac{\\sqrt{\\pi}}{2}\n\\end{equation}\n",
    "public class Main {\n    public static void main(String[] args) {\n"
    '        System.out.println("Hello, " + args[0] + "!");\n    }\n}\n',
    "-- Haskell\nmain :: IO ()\nmain = mapM_ print [x * x | x <- [1..10], odd x]\n",
    "(defun square (x)\n  (* x x))\n(mapcar #'square '(1 2 3))\n",
    "x = [1, 2, 3]\r\ny = {k: v for k, v in zip('abc', x)}\r\nprint(y)\r\n",
    "    if (a != b && c <= d || !e) { return a->b[c] >> 2 << 1; }\n",
    "```python\nprint('fenced')\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
]

SCRIPT_SAMPLES = [
    "人工智能正在改变世界，我们需要认真思考它的影响。",
    "北京是中华人民共和国的首都，也是全国的政治和文化中心。",
    "你好，世界！这是一个测试：一、二、三。「引号」『书名』",
    "ひらがなとカタカナ、そして漢字を混ぜた日本語の文章です。",
    "ラーメンを食べに行きましょう！ヽ(・∀・)ノ",
    "ｶﾀｶﾅ半角とＡＢＣ全角の混在テキスト１２３",
    "한국어 문장도 잘 처리되어야 합니다. 감사합니다!",
    "안녕하세요? 저는 학생이에요. ㅋㅋㅋ ㅎㅎ",
    "Привет, мир! Съешь же ещё этих мягких французских булок.",
    "Ёлка, ЁЛКА, ёлка — «кавычки» и „другие“.",
    "مرحبا بالعالم! هذه جملة باللغة العربية ١٢٣٤٥.",
    "שלום עולם, זה טקסט בעברית.",
    "Γειά σου Κόσμε! Τα ελληνικά ΣΊΣΥΦΟΣ ς σ.",
    "नमस्ते दुनिया! यह हिंदी में एक वाक्य है। १२३",
    "สวัสดีชาวโลก ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ",
    "Tiếng Việt có nhiều dấu: ă â đ ê ô ơ ư ạ ả ã.",
    "Ça va? Größe, Straße, naïve café, smørrebrød, Ångström.",
    "İstanbul ılık ıslak; DİYARBAKIR; ǅ ǈ ǋ titlecase.",
    "Ethiopic: ሰላም ዓለም, Georgian: გამარჯობა, Armenian: Բարեւ",
    "Tamil: வணக்கம், Bengali: হ্যালো, Khmer: សួស្តី",
]

EMOJI = [
    "👨‍👩‍👧‍👦", "👩🏽‍💻", "👍🏻👍🏼👍🏽👍🏾👍🏿", "🏳️‍🌈", "🇺🇸🇯🇵🇨🇳", "1️⃣2️⃣#️⃣",
    "❤️", "❤", "🧑‍🤝‍🧑", "👁‍🗨", "😀😃😄", "🤦🏼‍♂️", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "✌️✌🏾", "🫠🫶🏻",
]

COMBINING = [
    "e\u0301", "a\u0300\u0301\u0302\u0303", "n\u0303o", "Z\u0351\u0300\u0312\u0364a\u0318\u0347lgo",
    "\u1100\u1161\u11a8", "\u0915\u094d\u0937", "o\u0308\u0332", "\u0301 leading mark",
    "A\u030a vs \u00c5 vs \u212b", "ﬁ ﬂ ﬀ ligatures", "q\u0307\u0323", "\u05e9\u05c1\u05b8",
]

ODD_CODE_POINTS = [
    "\u0000", "\u0001\u0002\u001f", "\u007f", "\u0080\u0085\u009f", "\u00a0", "\u00ad",
    "\u200b", "\u200c\u200d", "\u200e\u200f", "\u2028\u2029", "\u202a\u202e", "\u2060",
    "\ufeff", "\ufffd", "\ufffe\uffff", "\ufdd0", "\ue000\uf8ff", "\U000f0000\U0010fffd",
    "\U0010ffff", "\u0378\u0379", "\U0001d400\U0001d7ff", "\u212a\u212b", "\u017f",
    "\u0130\u0131", "\u00df\u1e9e", "\u2160\u216b", "\u00b2\u00b3\u00b9", "\u0660\u0669",
    "\uff10\uff19", "\U0001f600", "\U000e0001\U000e0041", "\u3000", "\u1680", "\u180e",
    "\u205f", "\u0300", "\ufe0f", "\U0001f3fb", "\u00e9", "\u00c3\u00a9", "\u0100\u0101",
]

WORDS = [
    "the", "The", "THE", "token", "tokenizer", "glyph", "model", "inference", "server", "GLM",
    "vision", "page", "render", "don't", "it's", "we'll", "you're", "I'm", "they've", "she'd",
    "hello", "world", "naïve", "über", "déjà", "vu", "x", "a", "I", "OK", "ok", "e.g.", "i.e.",
    "3.14", "1,000", "$5", "100%", "#hash", "@user", "a_b", "CamelCase", "snake_case",
    "kebab-case", "https://example.com/a?b=c&d=e#f", "user@example.org", "C++", "C#", "F#",
]

WHITESPACE_UNITS = [" ", "  ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u3000", "\u0085",
                    "\u2028", "\u000b", "\u000c", "\n\n", " \n", "\t\n"]

CONTRACTIONS = ["'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'ve", "'VE", "'vE", "'m", "'M",
                "'ll", "'LL", "'Ll", "'lL", "'d", "'D", "'\u017f", "'\u212a", "''s", "'x",
                "\u2019s", "'", "'ss", "'dd"]

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

TOKEN_LOOKALIKES = ["<|user", "<|user|", "|user|>", "<<|user|>>", "<||>", "<|", "|>", "<think",
                    "</think", "[MASK", "MASK]", "[gMASK", "/nothin", "/nothinking", "<tool_call",
                    "<|begin_of_box", "<|image||>", "<<think>>"]


def whitespace_cases(rng):
    cases = []
    for unit in WHITESPACE_UNITS:
        for count in (1, 2, 3, 7):
            cases.append(unit * count)
            cases.append("a" + unit * count + "b")
            cases.append(unit * count + "word")
            cases.append("word" + unit * count)
    for _ in range(120):
        run = "".join(rng.choice(WHITESPACE_UNITS) for _ in range(rng.randint(1, 12)))
        left = rng.choice(["", "x", "foo", "1", ".", "中", "def f():"])
        right = rng.choice(["", "y", "bar", "2", "!", "文", "return"])
        cases.append(left + run + right)
    return cases


def digit_cases(rng):
    cases = []
    for length in range(1, 41):
        digits = "".join(rng.choice("0123456789") for _ in range(length))
        cases.append(digits)
        cases.append("x" + digits + "y")
        cases.append(" " + digits)
        cases.append("$" + digits + ".99")
    cases.append("".join(str(i % 10) for i in range(200)))
    for digits in ("٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９", "१२३४५", "²³¹⁴", "ⅠⅡⅢⅫ", "①②③", "𝟎𝟏𝟐"):
        cases.append(digits)
        cases.append("a" + digits + "1234")
    return cases


def contraction_cases(rng):
    cases = []
    for contraction in CONTRACTIONS:
        cases.append(contraction)
        cases.append("it" + contraction)
        cases.append("IT" + contraction + " ok")
        cases.append(" " + contraction)
        cases.append("1" + contraction)
    for _ in range(60):
        word = rng.choice(WORDS)
        cases.append(word + "".join(rng.choice(CONTRACTIONS) for _ in range(rng.randint(1, 3))))
    return cases


def added_token_cases(rng):
    cases = list(ADDED_TOKENS) + list(TOKEN_LOOKALIKES)
    for token in ADDED_TOKENS:
        cases.append("text" + token + "text")
        cases.append(" " + token + " ")
        cases.append(token + token)
        cases.append("\n" + token + "\n")
    for _ in range(150):
        parts = []
        for _ in range(rng.randint(1, 8)):
            kind = rng.random()
            if kind < 0.4:
                parts.append(rng.choice(ADDED_TOKENS))
            elif kind < 0.5:
                parts.append(rng.choice(TOKEN_LOOKALIKES))
            elif kind < 0.8:
                parts.append(rng.choice(WORDS))
            else:
                parts.append(rng.choice(WHITESPACE_UNITS + SCRIPT_SAMPLES[:4]))
        cases.append("".join(parts))
    cases.append("[gMASK]<sop><|system|>\nYou are helpful.<|user|>\nHi<|assistant|>\n"
                 "<think>Let me think.</think>\nHello!<|endoftext|>")
    cases.append('<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>"Paris"</arg_value>\n'
                 "</tool_call>")
    cases.append("<|begin_of_image|><|image|><|image|><|end_of_image|>Describe the image.")
    return cases


def long_word_cases(rng):
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [
        "a" * 5000,
        "ab" * 2500,
        "".join(rng.choice(letters) for _ in range(3000)),
        "".join(rng.choice(letters + letters.upper()) for _ in range(2000)),
        "9" * 3000,
        "中" * 1500,
        "".join(rng.choice("的一是不了人我在有他这为之大来以个中上们") for _ in range(1500)),
        "😀" * 500,
        " " * 4000,
        "\n" * 1000,
        " \t" * 1000,
        "!" * 3000,
        "-" * 2000 + ">",
        "=" * 80 + "\n" + "#" * 80,
        "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
                for _ in range(3000)) + "==",
        "https://example.com/" + "/".join("segment%d" % i for i in range(200)),
        "Pneumonoultramicroscopicsilicovolcanoconiosis" * 20,
        "e\u0301" * 800,
        "👨‍👩‍👧‍👦" * 200,
    ]


def single_character_cases():
    cases = [chr(c) for c in range(0x00, 0x80)]
    cases += [chr(c) for c in range(0xA0, 0x100, 3)]
    cases.append("")
    return cases


def random_mix_cases(rng, count):
    pools = [CODE_SNIPPETS, SCRIPT_SAMPLES, EMOJI, COMBINING, ODD_CODE_POINTS, WORDS,
             WHITESPACE_UNITS, CONTRACTIONS, ADDED_TOKENS, TOKEN_LOOKALIKES]
    cases = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 10)):
            pool = rng.choice(pools)
            text = rng.choice(pool)
            if pool is CODE_SNIPPETS or pool is SCRIPT_SAMPLES:
                start = rng.randint(0, len(text) - 1)
                text = text[start:start + rng.randint(1, 60)]
            parts.append(text)
            if rng.random() < 0.5:
                parts.append(rng.choice([" ", "", "\n", ", ", ". "]))
        cases.append("".join(parts))
    return cases


def gsm8k_cases(path, rng, count):
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    chosen = rng.sample(range(len(rows)), count)
    cases = [rows[i]["question"] for i in sorted(chosen)]
    # Some "answer" fields too, for their <<calculator>> annotations and "####" lines.
    cases += [rows[i]["answer"] for i in sorted(chosen)[:40]]
    return cases


def main_texts(gsm8k_path, rng):
    texts = []
    texts += CODE_SNIPPETS
    texts += [snippet.replace("    ", "\t") for snippet in CODE_SNIPPETS]
    texts += [snippet.replace("\n", "\r\n") for snippet in CODE_SNIPPETS]
    texts += SCRIPT_SAMPLES
    texts += [s.upper() for s in SCRIPT_SAMPLES] + [s.lower() for s in SCRIPT_SAMPLES]
    texts += EMOJI + ["I " + e + " it" for e in EMOJI] + ["".join(EMOJI)]
    texts += COMBINING + ODD_CODE_POINTS
    texts += ["x" + c + "y" for c in ODD_CODE_POINTS] + [" " + c + " " for c in ODD_CODE_POINTS]
    texts += WORDS + [" " + w for w in WORDS] + [" ".join(WORDS)]
    texts += whitespace_cases(rng)
    texts += digit_cases(rng)
    texts += contraction_cases(rng)
    texts += added_token_cases(rng)
    texts += long_word_cases(rng)
    texts += single_character_cases()
    texts += random_mix_cases(rng, 500)
    texts += gsm8k_cases(gsm8k_path, rng, GSM8K_QUESTIONS)
    return texts


def split_id_sequences(tokenizer, rng):
    """Id sequences whose bytes are not whole UTF-8 characters."""
    vocab = tokenizer.get_vocab()
    byte_id = {b: vocab[c] for b, c in byte_level_chars().items()}
    as_ids = lambda data: [byte_id[b] for b in data]

    sequences = [
        as_ids(b"\xe4"), as_ids(b"\xe4\xb8"), as_ids(b"\xe4\xb8\xad"), as_ids(b"\xf0\x9f"),
        as_ids(b"\xf0\x9f\x98\x80"), as_ids(b"\xf0\x9f\x98"), as_ids(b"\xc0\xaf"),
        as_ids(b"\xc1\xbf"), as_ids(b"\xe0\x80\x80"), as_ids(b"\xed\xa0\x80"),
        as_ids(b"\xed\x9f\xbf"), as_ids(b"\xf4\x90\x80\x80"), as_ids(b"\xf4\x8f\xbf\xbf"),
        as_ids(b"\xf5\x80"), as_ids(b"\xff\xfe"), as_ids(b"\x80\x80\x80"),
        as_ids(b"a\xe4b"), as_ids(b"\xe4\xb8a\xad"), as_ids(b"\xf0\x9f\x98\xe4\xb8\xad"),
        as_ids(b"\xef\xbf\xbd"), as_ids(b"\xe2\x82"), as_ids(b"\xf1\x80\x80"),
        as_ids(b"\xc3") + [FIRST_ADDED_ID + 7] + as_ids(b"\xa9"),
        as_ids(b"\xe4\xb8") + [FIRST_ADDED_ID + 21] + as_ids(b"\xad"),
        as_ids(b"\xe4") + [FIRST_ADDED_ID] + as_ids(b"\xb8\xad"),
        [FIRST_ADDED_ID + 36, 160000, 9703, 1 << 30],
        list(range(FIRST_ADDED_ID, FIRST_ADDED_ID + 36)),
    ]
    for b in range(0x80, 0x100):
        sequences.append([byte_id[b]])

    # Cuts of real encodings, which end in the middle of characters.
    sources = SCRIPT_SAMPLES + EMOJI + COMBINING + ["".join(EMOJI)]
    for _ in range(300):
        ids = tokenizer.encode(rng.choice(sources), add_special_tokens=False).ids
        start = rng.randint(0, len(ids) - 1)
        sequences.append(ids[start:start + rng.randint(1, 6)])

    # Random ids from the whole range, added tokens included.
    for _ in range(200):
        sequences.append([rng.randrange(0, FIRST_ADDED_ID + 36) for _ in range(rng.randint(1, 12))])

    # Shuffled encodings of multi-byte text.
    for _ in range(100):
        ids = tokenizer.encode(rng.choice(sources), add_special_tokens=False).ids
        rng.shuffle(ids)
        sequences.append(ids)
    return sequences


def variant_definitions():
    """Patches of tokenizer.json as [JSON pointer, value] pairs, applied in order."""
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                  "use_regex": False}

    def split(pattern, behavior, invert=False):
        return {"type": "Split", "pattern": pattern, "behavior": behavior, "invert": invert}

    def sequence(*steps):
        return {"type": "Sequence", "pretokenizers": list(steps)}

    def added(content, token_id, **flags):
        token = {"id": token_id, "content": content, "single_word": False, "lstrip": False,
                 "rstrip": False, "normalized": False, "special": False}
        token.update(flags)
        return token

    flag_tokens = [
        added("<|endoftext|>", 151329, special=True),
        added("<L>", 151330, lstrip=True, special=True),
        added("<R>", 151331, rstrip=True),
        added("<LR>", 151332, lstrip=True, rstrip=True),
        added("word", 151333, single_word=True),
        added("<N>", 151334, normalized=True),
        added("<a>", 151335),
        added("<a>b", 151336),
        added("hello", 999, special=True),
        added(" sep ", 151337),
        added("é", 151338),
        added("ß", 151339, special=True),
        added("<S>", 151340, single_word=True, lstrip=True),
        added("<R>", 151331, rstrip=True),
        added("", 151341),
    ]
    byte_fallback_vocab = [["/model/vocab/<0x%02X>" % b, 200000 + b] for b in range(256)]
    return {
        "base": [],
        "ignore_merges_off": [["/model/ignore_merges", False]],
        "gpt2_byte_level": [["/pre_tokenizer", {"type": "ByteLevel", "add_prefix_space": True,
                                                "trim_offsets": True, "use_regex": True}]],
        "byte_level_regex": [["/pre_tokenizer", sequence(dict(byte_level, use_regex=True))]],
        "split_removed_string": [["/pre_tokenizer", sequence(
            split({"String": " "}, "Removed"), byte_level)]],
        "split_string_special_chars": [["/pre_tokenizer", sequence(
            split({"String": ".*"}, "Isolated"), split({"String": "\\"}, "MergedWithNext"),
            byte_level)]],
        "split_merged_previous": [["/pre_tokenizer", sequence(
            split({"Regex": "\\d+"}, "MergedWithPrevious"), byte_level)]],
        "split_merged_next": [["/pre_tokenizer", sequence(
            split({"Regex": "[.,!?]"}, "MergedWithNext"), byte_level)]],
        "split_contiguous_invert": [["/pre_tokenizer", sequence(
            split({"Regex": "\\p{L}+"}, "Contiguous", invert=True), byte_level)]],
        "split_empty_matches": [["/pre_tokenizer", sequence(
            split({"Regex": "x*"}, "Isolated"), split({"Regex": "(?=[A-Z])"}, "Removed"),
            byte_level)]],
        "no_pre_tokenizer": [["/pre_tokenizer", None]],
        "unknown_fused": [["/pre_tokenizer", None], ["/model/unk_token", "!"],
                          ["/model/fuse_unk", True]],
        "unknown_unfused": [["/pre_tokenizer", None], ["/model/unk_token", "!"],
                            ["/model/fuse_unk", False]],
        "byte_fallback": [["/pre_tokenizer", split({"Regex": "\\s+"}, "Isolated")],
                          ["/model/byte_fallback", True], ["/model/unk_token", "?"]]
                         + byte_fallback_vocab,
        "added_flags": [["/added_tokens", flag_tokens]],
        "legacy_merges": [["/model/merges", "legacy"]],
    }


def apply_patch(config, patch):
    for pointer, value in patch:
        if pointer == "/model/merges" and value == "legacy":
            config["model"]["merges"] = [" ".join(pair) for pair in config["model"]["merges"]]
            continue
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
        node = config
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = copy.deepcopy(value)


def variant_texts(name, rng):
    common = [
        "", "Hello world", " Hello  world ", "hello, world! 1234567 x", "It's 'LL do; don't.",
        "中文测试 and English", "emoji 👍🏽 here", "tabs\tand\nnewlines\r\n", "a.b,c!d?e",
        "Hello World Example", "xxHELLOxAxBx", "x", "xx", "xAx", "ABC", "aXbXc", "\\ .* \\.*",
        "ends with space ", "  ", "١٢٣ ٤٥", "naïve café", "<|endoftext|>", "a<|endoftext|>b",
    ]
    texts = list(common)
    if name == "added_flags":
        texts += [
            "x <L>y", "x   <L>   y", "<L><L>", " \t<L>", "a <R>  b", "<R>\n\nnext", "a <LR> b",
            "  <LR>  ", "word", "a word b", "awordb", "a wordb", "_word", "word_", "1word", "éword",
            "word\u0301", "<N>", "x<N>y", "<a>", "<a>b", "<a>bc", "<a><a>b", "hello", "hellos",
            "say hello", "a sep b", " sep sep ", "é", "café", "ß", "straße", "<S>", "a<S>b",
            "a <S> b", "  <S>", "<R>", "word word", "words word", "<|endoftext|> <L>",
            "\u3000<L>", "\u0085<L>", "<R>\u00a0x", "hello<L>", "<LR><LR>", "wordword",
            "a\u200dword", "‿word", "wordé",
        ]
    for _ in range(40):
        parts = [rng.choice(WORDS + WHITESPACE_UNITS + CONTRACTIONS + EMOJI + SCRIPT_SAMPLES[:6])
                 for _ in range(rng.randint(1, 6))]
        texts.append("".join(parts))
    return texts


def merge_sensitive_words(base, variant, count=60):
    """Vocabulary entries that BPE without ignore_merges splits differently.

    With ignore_merges a word that is itself a vocabulary entry encodes to that
    one id; plain BPE may reach other ids, which these words show.
    """
    words = []
    for token_id in range(FIRST_ADDED_ID):
        text = base.decode([token_id])
        if "\ufffd" not in text:
            words.append(text)
    base_ids = base.encode_batch(words, add_special_tokens=False)
    variant_ids = variant.encode_batch(words, add_special_tokens=False)
    differing = [word for word, a, b in zip(words, base_ids, variant_ids) if a.ids != b.ids]
    chosen = differing[::max(1, len(differing) // count)][:count]
    return chosen + ["".join(chosen)]


def encode_case(tokenizer, text, variant):
    ids = tokenizer.encode(text, add_special_tokens=False).ids
    case = {"text": text, "ids": ids}
    case.update(decode_fields(tokenizer, ids))
    if variant != "base":
        case["variant"] = variant
    return case


def decode_fields(tokenizer, ids):
    return {"decode": tokenizer.decode(ids, skip_special_tokens=False),
            "decode_skip": tokenizer.decode(ids, skip_special_tokens=True)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gsm8k", required=True, type=Path,
                        help="GSM8K test.jsonl, the source of the question texts")
    parser.add_argument("--tokenizer", type=Path,
                        default=Path("tests/data/tiny-glyph/tokenizer.json"))
    parser.add_argument("--out", type=Path,
                        default=Path("tests/data/fixtures/tokenizer_cases.jsonl"))
    args = parser.parse_args()

    rng = random.Random(SEED)
    with open(args.tokenizer, encoding="utf-8") as f:
        base_config = json.load(f)
    base = Tokenizer.from_str(json.dumps(base_config))

    lines = [{"header": (
        "Tokenizer fixtures written by tools/make_tokenizer_fixtures.py with Hugging Face "
        f"tokenizers {tokenizers.__version__} as the reference, for "
        f"{args.tokenizer.as_posix()}. Each case has text and ids (encode with "
        "add_special_tokens=False) or only ids (decode cases), and decode / decode_skip "
        "(skip_special_tokens false / true). A case with 'variant' uses tokenizer.json patched "
        "by that variant's [JSON pointer, value] pairs, where the value 'legacy' for "
        "/model/merges means merges written as 'left right' strings. GSM8K questions and "
        "answers: GSM8K test split, Copyright (c) 2021 OpenAI, MIT licence.")}]

    variants = variant_definitions()
    lines.append({"variants": variants})

    texts = main_texts(args.gsm8k, rng)
    for text in texts:
        lines.append(encode_case(base, text, "base"))
    for ids in split_id_sequences(base, rng):
        case = {"ids": ids}
        case.update(decode_fields(base, ids))
        lines.append(case)

    for name, patch in variants.items():
        if name == "base":
            continue
        config = copy.deepcopy(base_config)
        apply_patch(config, patch)
        variant = Tokenizer.from_str(json.dumps(config))
        texts = variant_texts(name, rng)
        if name == "ignore_merges_off":
            texts += merge_sensitive_words(base, variant)
        for text in texts:
            lines.append(encode_case(variant, text, name))

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
    encode_count = sum(1 for line in lines if "text" in line)
    decode_count = sum(1 for line in lines if "text" not in line and "ids" in line)
    print(f"{encode_count} encode cases, {decode_count} decode cases -> {args.out} "
          f"({args.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
