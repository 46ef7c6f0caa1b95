#include "text/pre_tokenizer.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "text/byte_level.h"

namespace glyph::text {

namespace {

// The pattern that ByteLevel splits with when use_regex is true, from GPT-2
// (openai/gpt-2 src/encoder.py), as tokenizers' ByteLevel pre-tokenizer uses it.
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct Range {
  size_t begin;
  size_t end;
};

struct Part {
  Range range;
  bool is_match;
};

// Covers `text` with its matches and the gaps between them, in order.
std::vector<Part> partition(const Regex& regex, std::string_view text, bool invert) {
  std::vector<Part> parts;
  size_t previous_end = 0;
  for (const auto& [begin, end] : regex.find_all(text)) {
    if (begin != previous_end) parts.push_back({{previous_end, begin}, invert});
    parts.push_back({{begin, end}, !invert});
    previous_end = end;
  }
  if (previous_end != text.size()) parts.push_back({{previous_end, text.size()}, invert});
  return parts;
}

// Joins parts into pieces the way tokenizers' NormalizedString::split does
// for each behaviour.
std::vector<Range> apply_behavior(const std::vector<Part>& parts, SplitBehavior behavior) {
  std::vector<Range> pieces;
  pieces.reserve(parts.size());
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (const Part& part : parts) pieces.push_back(part.range);
      break;
    case SplitBehavior::kRemoved:
      for (const Part& part : parts) {
        if (!part.is_match) pieces.push_back(part.range);
      }
      break;
    case SplitBehavior::kContiguous:
      for (const Part& part : parts) {
        if (part.is_match == previous_match && !pieces.empty()) {
          pieces.back().end = part.range.end;
        } else {
          pieces.push_back(part.range);
        }
        previous_match = part.is_match;
      }
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const Part& part : parts) {
        if (part.is_match && !previous_match && !pieces.empty()) {
          pieces.back().end = part.range.end;
        } else {
          pieces.push_back(part.range);
        }
        previous_match = part.is_match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      for (auto part = parts.rbegin(); part != parts.rend(); ++part) {
        if (part->is_match && !previous_match && !pieces.empty()) {
          pieces.back().begin = part->range.begin;
        } else {
          pieces.push_back(part->range);
        }
        previous_match = part->is_match;
      }
      std::reverse(pieces.begin(), pieces.end());
      break;
  }
  return pieces;
}

SplitBehavior parse_behavior(const nlohmann::json& value, const std::string& where,
                             const std::string& source) {
  if (value == "Removed") return SplitBehavior::kRemoved;
  if (value == "Isolated") return SplitBehavior::kIsolated;
  if (value == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (value == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (value == "Contiguous") return SplitBehavior::kContiguous;
  throw_error(ErrorKind::kBadModel,
              "{}: {}.behavior = {} is invalid; expected Removed, Isolated, MergedWithPrevious, "
              "MergedWithNext or Contiguous",
              source, where, value.dump());
}

bool read_flag(const nlohmann::json& config, const char* key, bool default_value,
               const std::string& where, const std::string& source) {
  const auto found = config.find(key);
  if (found == config.end()) return default_value;
  if (!found->is_boolean()) {
    throw_error(ErrorKind::kBadModel, "{}: {}.{} must be true or false, not {}", source, where, key,
                found->dump());
  }
  return found->get<bool>();
}

}  // namespace

PreTokenizer::PreTokenizer(const nlohmann::json& config, const std::string& source) {
  if (!config.is_null()) add_step(config, "pre_tokenizer", source);
}

PreTokenizer::~PreTokenizer() = default;

void PreTokenizer::add_step(const nlohmann::json& config, const std::string& where,
                            const std::string& source) {
  const auto type = config.find("type");
  if (!config.is_object() || type == config.end() || !type->is_string()) {
    throw_error(ErrorKind::kBadModel, "{}: {} must be an object with a \"type\" string", source,
                where);
  }

  if (*type == "Sequence") {
    const auto children = config.find("pretokenizers");
    if (children == config.end() || !children->is_array()) {
      throw_error(ErrorKind::kBadModel, "{}: {}.pretokenizers is missing or not an array", source,
                  where);
    }
    for (size_t i = 0; i < children->size(); ++i) {
      add_step((*children)[i], fmt::format("{}.pretokenizers[{}]", where, i), source);
    }
    return;
  }

  Step step;
  if (*type == "Split") {
    step.kind = Step::Kind::kSplit;
    const auto pattern = config.find("pattern");
    const auto behavior = config.find("behavior");
    if (pattern == config.end() || behavior == config.end()) {
      throw_error(ErrorKind::kBadModel, "{}: {} (Split) needs \"pattern\" and \"behavior\"", source,
                  where);
    }
    const std::string pattern_source = fmt::format("{} {}.pattern", source, where);
    if (pattern->contains("Regex") && (*pattern)["Regex"].is_string()) {
      step.regex = std::make_unique<Regex>((*pattern)["Regex"].get<std::string>(), pattern_source);
    } else if (pattern->contains("String") && (*pattern)["String"].is_string()) {
      step.regex = std::make_unique<Regex>(escape_regex((*pattern)["String"].get<std::string>()),
                                           pattern_source);
    } else {
      throw_error(ErrorKind::kBadModel,
                  "{}: {}.pattern = {} is invalid; expected {{\"Regex\": ...}} or "
                  "{{\"String\": ...}}",
                  source, where, pattern->dump());
    }
    step.behavior = parse_behavior(*behavior, where, source);
    step.invert = read_flag(config, "invert", false, where, source);
  } else if (*type == "ByteLevel") {
    step.kind = Step::Kind::kByteLevel;
    // Defaults as in tokenizers' ByteLevel: add_prefix_space and use_regex true.
    step.add_prefix_space = read_flag(config, "add_prefix_space", true, where, source);
    if (read_flag(config, "use_regex", true, where, source)) {
      step.regex = std::make_unique<Regex>(std::string(kGpt2Pattern),
                                           fmt::format("{} {} (GPT-2 pattern)", source, where));
    }
  } else {
    throw_error(ErrorKind::kBadModel,
                "{}: {} has type {}, which glyph does not support; supported pre-tokenizers are "
                "Split, ByteLevel and Sequence",
                source, where, type->dump());
  }
  steps_.push_back(std::move(step));
}

void PreTokenizer::split(std::string_view text,
                         const std::function<void(std::string_view)>& emit) const {
  run(0, text, emit);
}

void PreTokenizer::run(size_t step, std::string_view piece,
                       const std::function<void(std::string_view)>& emit) const {
  // Hugging Face drops empty pieces after every step.
  if (piece.empty()) return;
  if (step == steps_.size()) {
    emit(piece);
    return;
  }
  const Step& current = steps_[step];
  if (current.kind == Step::Kind::kSplit) {
    run_split(current, step + 1, piece, emit);
  } else {
    run_byte_level(current, step + 1, piece, emit);
  }
}

void PreTokenizer::run_split(const Step& step, size_t next, std::string_view piece,
                             const std::function<void(std::string_view)>& emit) const {
  const std::vector<Part> parts = partition(*step.regex, piece, step.invert);
  for (const Range& range : apply_behavior(parts, step.behavior)) {
    run(next, piece.substr(range.begin, range.end - range.begin), emit);
  }
}

void PreTokenizer::run_byte_level(const Step& step, size_t next, std::string_view piece,
                                  const std::function<void(std::string_view)>& emit) const {
  std::string with_prefix;
  if (step.add_prefix_space && piece.front() != ' ') {
    with_prefix.reserve(piece.size() + 1);
    with_prefix.push_back(' ');
    with_prefix.append(piece);
    piece = with_prefix;
  }

  std::string mapped;
  const auto map_and_run = [&](std::string_view part) {
    if (part.empty()) return;
    mapped.clear();
    append_byte_level(part, mapped);
    run(next, mapped, emit);
  };
  if (step.regex == nullptr) {
    map_and_run(piece);
    return;
  }
  size_t previous_end = 0;
  for (const auto& [begin, end] : step.regex->find_all(piece)) {
    map_and_run(piece.substr(previous_end, begin - previous_end));
    map_and_run(piece.substr(begin, end - begin));
    previous_end = end;
  }
  map_and_run(piece.substr(previous_end));
}

}  // namespace glyph::text
