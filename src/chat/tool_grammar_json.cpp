#include "chat/tool_grammar_json.h"

#include <string_view>

#include "chat/tool_call_parser.h"

namespace glyph::chat::grammar {
namespace {

// Containers a JSON value may nest, as JsonState::objects has bits for.
constexpr uint8_t kMaxJsonDepth = 32;
// Exponent digits of a JSON number, so every number stays finite as a double
// (nlohmann rejects 1e999, which Python would read as inf).
constexpr uint8_t kMaxExponentDigits = 2;

// Phases of a JSON number, in JsonState::sub (low 4 bits; the exponent digit
// count is in the high 4 bits).
enum NumberPhase : uint8_t {
  kAfterMinus,
  kAfterZero,
  kInteger,
  kAfterDot,
  kFraction,
  kAfterE,
  kAfterExponentSign,
  kExponent,
};

constexpr const char* kJsonLiterals[] = {"true", "false", "null"};

bool is_json_space(uint8_t byte) {
  return byte == ' ' || byte == '\t' || byte == '\n' || byte == '\r';
}

bool is_digit(uint8_t byte) { return byte >= '0' && byte <= '9'; }

bool is_hex_digit(uint8_t byte) {
  return is_digit(byte) || (byte >= 'a' && byte <= 'f') || (byte >= 'A' && byte <= 'F');
}

}  // namespace

// Advances a UTF-8 well-formedness check (Unicode table 3-7). The low 2
// bits of the state count the continuation bytes still expected. The bits
// above select the range of the next byte: 0 for 80..BF, 1 for A0..BF (after
// E0), 2 for 80..9F (after ED), 3 for 90..BF (after F0), 4 for 80..8F (after F4).
bool step_utf8(uint8_t& state, uint8_t byte) {
  const uint8_t expected = state & 3;
  if (expected == 0) {
    if (byte < 0x80) return true;
    if (byte >= 0xC2 && byte <= 0xDF)
      state = 1;
    else if (byte == 0xE0)
      state = 2 | (1 << 2);
    else if (byte == 0xED)
      state = 2 | (2 << 2);
    else if (byte >= 0xE1 && byte <= 0xEF)
      state = 2;
    else if (byte == 0xF0)
      state = 3 | (3 << 2);
    else if (byte == 0xF4)
      state = 3 | (4 << 2);
    else if (byte >= 0xF1 && byte <= 0xF3)
      state = 3;
    else
      return false;
    return true;
  }

  static constexpr uint8_t kLow[] = {0x80, 0xA0, 0x80, 0x90, 0x80};
  static constexpr uint8_t kHigh[] = {0xBF, 0xBF, 0x9F, 0xBF, 0x8F};
  const uint8_t range = state >> 2;
  if (byte < kLow[range] || byte > kHigh[range]) return false;
  state = static_cast<uint8_t>(expected - 1);
  return true;
}

// Tracks the end of the text in `matched` against "</arg_value>"; returns
// true when the whole tag has just been matched. '<' occurs only at the
// start of the tag, so a mismatch restarts at 0, or at 1 on a '<'.
bool track_end_tag(uint8_t& matched, uint8_t byte) {
  const std::string_view tag = kArgValueEndTag;
  if (byte == static_cast<uint8_t>(tag[matched])) {
    ++matched;
  } else {
    matched = byte == '<' ? 1 : 0;
  }
  return matched == tag.size();
}

bool json_value_may_end(const JsonState& json) {
  if (json.mode == kJsonDone) return true;
  if (json.mode != kJsonNumber || json.depth != 0) return false;
  const uint8_t phase = json.sub & 0xF;
  return phase == kAfterZero || phase == kInteger || phase == kFraction || phase == kExponent;
}

namespace {

// step_json_value() with a bool result; sets `ended` when the byte completes
// the closing tag.
bool step_json(JsonState& json, uint8_t kinds, bool end_tag_in_bytes, uint8_t byte, bool& ended) {
  const auto value_done = [&] { json.mode = json.depth == 0 ? kJsonDone : kJsonAfterValue; };
  const auto open_container = [&](bool object) {
    if (json.depth >= kMaxJsonDepth) return false;
    if (object)
      json.objects |= uint32_t{1} << json.depth;
    else
      json.objects &= ~(uint32_t{1} << json.depth);
    ++json.depth;
    json.mode = object ? kJsonObjectFirst : kJsonArrayFirst;
    return true;
  };
  const auto close_container = [&](uint8_t closer) {
    const bool object = json.objects >> (json.depth - 1) & 1;
    if (closer != (object ? '}' : ']')) return false;
    --json.depth;
    value_done();
    return true;
  };
  const auto start_string = [&](bool is_key) {
    json.mode = kJsonString;
    json.is_key = is_key;
    json.end_tag = 0;
    return true;
  };
  // Starts a value with `byte`; at the top level only the kinds of the schema.
  const auto start_value = [&](uint8_t first) {
    const bool top = json.depth == 0;
    const auto allowed = [&](uint8_t bit) { return !top || (kinds & bit); };
    if (first == '{') return allowed(kJsonObjectBit) && open_container(true);
    if (first == '[') return allowed(kJsonArrayBit) && open_container(false);
    if (first == '"') return !top && start_string(false);
    if (first == '-' || is_digit(first)) {
      if (!allowed(kJsonNumberBit)) return false;
      json.mode = kJsonNumber;
      if (first == '-') {
        json.sub = kAfterMinus;
      } else if (first == '0') {
        json.sub = kAfterZero;
      } else {
        json.sub = kInteger;
      }
      return true;
    }
    for (uint8_t which = 0; which < 3; ++which) {
      if (first != kJsonLiterals[which][0]) continue;
      if (!allowed(which == 2 ? kJsonNullBit : kJsonBooleanBit)) return false;
      json.mode = kJsonLiteral;
      json.sub = static_cast<uint8_t>(which << 4 | 1);
      return true;
    }
    return false;
  };
  const auto start_end_tag = [&](uint8_t first) {
    if (!end_tag_in_bytes || first != '<') return false;
    json.mode = kJsonEndTag;
    json.end_tag = 1;
    return true;
  };

  switch (json.mode) {
    case kJsonValue:
    case kJsonArrayFirst:
      if (json.depth > 0 && is_json_space(byte)) return true;
      if (json.mode == kJsonArrayFirst && byte == ']') return close_container(byte);
      return start_value(byte);

    case kJsonObjectFirst:
    case kJsonObjectKey:
      if (is_json_space(byte)) return true;
      if (byte == '"') return start_string(true);
      return json.mode == kJsonObjectFirst && byte == '}' && close_container(byte);

    case kJsonColon:
      if (is_json_space(byte)) return true;
      if (byte != ':') return false;
      json.mode = kJsonValue;
      return true;

    case kJsonAfterValue:
      if (is_json_space(byte)) return true;
      if (byte == ',') {
        const bool object = json.objects >> (json.depth - 1) & 1;
        json.mode = object ? kJsonObjectKey : kJsonValue;
        return true;
      }
      return close_container(byte);

    case kJsonString:
      if ((json.utf8 & 3) == 0) {
        if (byte == '"') {
          if (json.is_key) {
            json.mode = kJsonColon;
          } else {
            value_done();
          }
          return true;
        }
        if (byte == '\\') {
          json.mode = kJsonEscape;
          json.end_tag = 0;
          return true;
        }
        if (byte < 0x20) return false;
      }
      // A string holding "</arg_value>" would end the value early for the parser.
      return step_utf8(json.utf8, byte) && !track_end_tag(json.end_tag, byte);

    case kJsonEscape:
      if (byte == 'u') {
        json.mode = kJsonUnicode;
        json.sub = 0;
        return true;
      }
      if (std::string_view("\"\\/bfnrt").find(static_cast<char>(byte)) == std::string_view::npos) {
        return false;
      }
      json.mode = kJsonString;
      return true;

    case kJsonUnicode: {
      // No \uD800-\uDFFF: nlohmann rejects unpaired surrogates, and pairs are
      // not worth the states; characters beyond the BMP can be written as UTF-8.
      if (!is_hex_digit(byte)) return false;
      const uint8_t digits = json.sub & 0xF;
      const bool high_d = json.sub >> 4;
      if (digits == 0 && (byte == 'd' || byte == 'D')) json.sub |= 0x10;
      if (digits == 1 && high_d && !(byte >= '0' && byte <= '7')) return false;
      json.sub = static_cast<uint8_t>((json.sub & 0xF0) | (digits + 1));
      if (digits + 1 == 4) json.mode = kJsonString;
      return true;
    }

    case kJsonNumber: {
      const uint8_t phase = json.sub & 0xF;
      const uint8_t exponent_digits = json.sub >> 4;
      const bool top_integer = json.depth == 0 && (kinds & kJsonIntegerOnly);
      const auto set_phase = [&](uint8_t next) {
        json.sub = static_cast<uint8_t>((json.sub & 0xF0) | next);
        return true;
      };
      switch (phase) {
        case kAfterMinus:
          if (byte == '0') return set_phase(kAfterZero);
          return is_digit(byte) && set_phase(kInteger);
        case kAfterDot:
          return is_digit(byte) && set_phase(kFraction);
        case kAfterE:
          if (byte == '+' || byte == '-') return set_phase(kAfterExponentSign);
          [[fallthrough]];
        case kAfterExponentSign:
          if (!is_digit(byte)) return false;
          json.sub = static_cast<uint8_t>(1 << 4 | kExponent);
          return true;
        default:
          break;
      }
      // A phase where the number may end: kAfterZero, kInteger, kFraction, kExponent.
      if (is_digit(byte) && phase != kAfterZero) {
        if (phase != kExponent) return true;
        if (exponent_digits >= kMaxExponentDigits) return false;
        json.sub = static_cast<uint8_t>((exponent_digits + 1) << 4 | kExponent);
        return true;
      }
      if (byte == '.' && (phase == kAfterZero || phase == kInteger)) {
        return !top_integer && set_phase(kAfterDot);
      }
      if ((byte == 'e' || byte == 'E') && phase != kExponent) {
        return !top_integer && set_phase(kAfterE);
      }
      // The number ended; this byte belongs to what follows it.
      if (json.depth == 0) return start_end_tag(byte);
      json.mode = kJsonAfterValue;
      return step_json(json, kinds, end_tag_in_bytes, byte, ended);
    }

    case kJsonLiteral: {
      const char* literal = kJsonLiterals[json.sub >> 4];
      const uint8_t matched = json.sub & 0xF;
      if (byte != static_cast<uint8_t>(literal[matched])) return false;
      json.sub = static_cast<uint8_t>((json.sub & 0xF0) | (matched + 1));
      if (literal[matched + 1] == '\0') value_done();
      return true;
    }

    case kJsonDone:
      return start_end_tag(byte);

    case kJsonEndTag: {
      const std::string_view tag = kArgValueEndTag;
      if (byte != static_cast<uint8_t>(tag[json.end_tag])) return false;
      ended = ++json.end_tag == tag.size();
      return true;
    }

    default:
      return false;
  }
}

}  // namespace

JsonStep step_json_value(JsonState& json, uint8_t kinds, bool end_tag_in_bytes, uint8_t byte) {
  bool ended = false;
  if (!step_json(json, kinds, end_tag_in_bytes, byte, ended)) return JsonStep::kRejected;
  return ended ? JsonStep::kValueEnded : JsonStep::kAccepted;
}

}  // namespace glyph::chat::grammar
