// Reads tests/data/fixtures/tokenizer_cases.jsonl, written by
// tools/make_tokenizer_fixtures.py with Hugging Face tokenizers, and builds
// the tokenizers (the tiny model's and its patched variants) it refers to.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "text/tokenizer.h"

namespace glyph::text::testing {

inline const std::string kTokenizerPath = GLYPH_TEST_DATA_DIR "/tiny-glyph/tokenizer.json";
inline const std::string kCasesPath = GLYPH_TEST_DATA_DIR "/fixtures/tokenizer_cases.jsonl";

struct FixtureCase {
  size_t line = 0;        // 1-based line in the fixture file.
  bool has_text = false;  // Encode case; otherwise a decode-only case.
  std::string text;
  std::vector<int32_t> ids;
  std::string decode;       // skip_special_tokens = false
  std::string decode_skip;  // skip_special_tokens = true
  std::string variant = "base";
};

struct Fixtures {
  std::vector<FixtureCase> cases;
  nlohmann::json variants;  // Name -> list of [JSON pointer, value] patches.
};

inline Fixtures read_fixtures() {
  Fixtures fixtures;
  std::ifstream file(kCasesPath);
  if (!file) {
    ADD_FAILURE() << "cannot open " << kCasesPath;
    return fixtures;
  }
  std::string line;
  size_t number = 0;
  while (std::getline(file, line)) {
    ++number;
    const nlohmann::json entry = nlohmann::json::parse(line);
    if (entry.contains("header")) continue;
    if (entry.contains("variants")) {
      fixtures.variants = entry["variants"];
      continue;
    }
    FixtureCase item;
    item.line = number;
    item.has_text = entry.contains("text");
    if (item.has_text) item.text = entry["text"].get<std::string>();
    item.ids = entry["ids"].get<std::vector<int32_t>>();
    item.decode = entry["decode"].get<std::string>();
    item.decode_skip = entry["decode_skip"].get<std::string>();
    if (entry.contains("variant")) item.variant = entry["variant"].get<std::string>();
    fixtures.cases.push_back(std::move(item));
  }
  return fixtures;
}

// Fixtures and tokenizers are read once per test binary: the tiny model's
// tokenizer.json is 8.5 MB.
inline const Fixtures& fixtures() {
  static const Fixtures instance = read_fixtures();
  return instance;
}

inline const nlohmann::json& base_config() {
  static const nlohmann::json config = [] {
    std::ifstream file(kTokenizerPath);
    return nlohmann::json::parse(file);
  }();
  return config;
}

inline const Tokenizer& base_tokenizer() {
  static const std::unique_ptr<Tokenizer> tokenizer = Tokenizer::load(kTokenizerPath);
  return *tokenizer;
}

// Applies the fixture's patches to tokenizer.json. The value "legacy" for
// /model/merges rewrites the merges as "left right" strings.
inline nlohmann::json patched_config(const nlohmann::json& patches) {
  nlohmann::json config = base_config();
  for (const auto& patch : patches) {
    const std::string pointer = patch[0].get<std::string>();
    if (pointer == "/model/merges" && patch[1] == "legacy") {
      nlohmann::json merges = nlohmann::json::array();
      for (const auto& pair : config["model"]["merges"]) {
        merges.push_back(pair[0].get<std::string>() + " " + pair[1].get<std::string>());
      }
      config["model"]["merges"] = std::move(merges);
      continue;
    }
    config[nlohmann::json::json_pointer(pointer)] = patch[1];
  }
  return config;
}

inline const Tokenizer& variant_tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> built;
  if (name == "base") return base_tokenizer();
  auto& slot = built[name];
  if (!slot) slot = Tokenizer::from_json(patched_config(fixtures().variants.at(name)), name);
  return *slot;
}

// Shortens long texts in failure messages.
inline std::string preview(const std::string& text) {
  nlohmann::json quoted = text.size() > 120 ? text.substr(0, 120) + "..." : text;
  return quoted.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace);
}

}  // namespace glyph::text::testing
