#include "chat/tool_grammar.h"

#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chat/tool_call_parser.h"
#include "chat/tool_grammar_automaton.h"
#include "chat/tool_schema.h"
#include "core/error.h"

namespace glyph::chat {
namespace {

using Json = nlohmann::ordered_json;

// The GLM vocabulary of the tiny test model: token id -> bytes, decoded from
// tokenizer.json with GPT-2's byte-to-unicode table. Added tokens other than
// the markup tokens get "" (never allowed), as a caller passes them.
struct GlmVocabulary {
  std::vector<std::string> token_bytes;
  std::vector<std::string> text_of;  // Like token_bytes, with added tokens' text kept.
  ToolCallMarkupTokens markup;
  std::vector<int32_t> eos_token_ids;
  std::unordered_map<std::string, int32_t> id_of;  // Ordinary tokens only.
  int32_t think_end = -1;
};

void append_utf8(std::string& out, uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

const GlmVocabulary& glm_vocabulary() {
  static const GlmVocabulary vocabulary = [] {
    // GPT-2's table: printable bytes map to themselves, the other 68 bytes
    // to U+0100 upwards in byte order.
    std::map<std::string, uint8_t> byte_of_char;
    uint32_t next_extra = 256;
    for (uint32_t byte = 0; byte < 256; ++byte) {
      const bool printable = (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) ||
                             (byte >= 174 && byte <= 255);
      std::string encoded;
      append_utf8(encoded, printable ? byte : next_extra++);
      byte_of_char[encoded] = static_cast<uint8_t>(byte);
    }

    std::ifstream file(GLYPH_TEST_DATA_DIR "/tiny-glyph/tokenizer.json");
    EXPECT_TRUE(file.good());
    // nlohmann::json, not ordered_json: ordered_json inserts in linear time
    // per key, which takes minutes for 151k vocabulary entries.
    const nlohmann::json tokenizer = nlohmann::json::parse(file);
    GlmVocabulary result;
    const nlohmann::json& vocab = tokenizer["model"]["vocab"];
    int32_t size = 0;
    for (const auto& [text, id] : vocab.items()) size = std::max(size, id.get<int32_t>() + 1);
    for (const nlohmann::json& added : tokenizer["added_tokens"]) {
      size = std::max(size, added["id"].get<int32_t>() + 1);
    }
    result.token_bytes.resize(static_cast<size_t>(size));
    for (const auto& [text, id] : vocab.items()) {
      std::string bytes;
      for (size_t i = 0; i < text.size();) {
        size_t length = 1;
        const auto lead = static_cast<unsigned char>(text[i]);
        if (lead >= 0xE0)
          length = 3;
        else if (lead >= 0xC0)
          length = 2;
        bytes += static_cast<char>(byte_of_char.at(text.substr(i, length)));
        i += length;
      }
      result.id_of[bytes] = id.get<int32_t>();
      result.token_bytes[static_cast<size_t>(id.get<int32_t>())] = std::move(bytes);
    }
    result.text_of = result.token_bytes;
    for (const nlohmann::json& added : tokenizer["added_tokens"]) {
      const auto id = added["id"].get<int32_t>();
      const auto content = added["content"].get<std::string>();
      result.text_of[static_cast<size_t>(id)] = content;
      if (content == "<tool_call>") result.markup.tool_call_start = id;
      if (content == "</tool_call>") result.markup.tool_call_end = id;
      if (content == "<arg_key>") result.markup.arg_key_start = id;
      if (content == "</arg_key>") result.markup.arg_key_end = id;
      if (content == "<arg_value>") result.markup.arg_value_start = id;
      if (content == "</arg_value>") result.markup.arg_value_end = id;
      if (content == "</think>") result.think_end = id;
    }
    result.eos_token_ids = {151329, 151336, 151338};  // generation_config.json
    return result;
  }();
  return vocabulary;
}

// The shared trie, with the markup tags as single tokens or spelled in bytes.
std::shared_ptr<const ToolGrammarVocabulary> shared_vocabulary(bool markup_tokens) {
  static std::shared_ptr<const ToolGrammarVocabulary> cached[2];
  auto& slot = cached[markup_tokens ? 1 : 0];
  if (!slot) {
    const GlmVocabulary& glm = glm_vocabulary();
    slot = std::make_shared<ToolGrammarVocabulary>(
        glm.token_bytes, markup_tokens ? glm.markup : ToolCallMarkupTokens{}, glm.eos_token_ids);
  }
  return slot;
}

const char* kToolsJson = R"([
  {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
    "properties": {
      "location": {"type": "string"},
      "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
    "required": ["location"]}}},
  {"type": "function", "function": {"name": "get_time"}},
  {"type": "function", "function": {"name": "search", "parameters": {"type": "object",
    "properties": {
      "query": {"type": "string"},
      "limit": {"type": "integer"},
      "threshold": {"type": "number"},
      "exact": {"type": "boolean"},
      "filters": {"type": "object"},
      "tags": {"type": "array"},
      "maybe": {"type": ["integer", "null"]},
      "level": {"enum": [1, 2, 3.5, null]},
      "note": {"description": "untyped"},
      "either": {"type": ["boolean", "string"]}},
    "required": ["query", "limit"]}}}
])";

const std::vector<ToolSpec>& test_tools() {
  static const std::vector<ToolSpec> tools = parse_tools(Json::parse(kToolsJson));
  return tools;
}

bool has_schema_type(const Json& value, JsonType type) {
  switch (type) {
    case JsonType::kString:
      return value.is_string();
    case JsonType::kNumber:
      return value.is_number();
    case JsonType::kInteger:
      return value.is_number_integer() ||
             (value.is_number_float() && std::floor(value.get<double>()) == value.get<double>());
    case JsonType::kBoolean:
      return value.is_boolean();
    case JsonType::kNull:
      return value.is_null();
    case JsonType::kObject:
      return value.is_object();
    case JsonType::kArray:
      return value.is_array();
  }
  return false;
}

// Returns "" when `text` parses into calls of `tools` with schema-valid
// arguments and no content, else what is wrong.
std::string check_reply(const std::string& text, const std::vector<ToolSpec>& tools,
                        bool single_call) {
  const ToolCallParseResult result = parse_tool_calls(text, tools);
  if (!result.content.empty()) return "content " + Json(result.content).dump();
  if (result.calls.empty()) return "no calls";
  if (single_call && result.calls.size() != 1) return "more than one call";
  for (const ToolCall& call : result.calls) {
    const ToolSpec* tool = nullptr;
    for (const ToolSpec& spec : tools) {
      if (spec.name == call.name) tool = &spec;
    }
    if (tool == nullptr) return "call to " + call.name;
    const Json arguments = Json::parse(call.arguments, nullptr, false);
    if (!arguments.is_object()) return "arguments not an object: " + call.arguments;
    for (const auto& [key, value] : arguments.items()) {
      const ToolParameter* parameter = tool->find_property(key);
      if (parameter == nullptr) return "unknown key " + key;
      if (!parameter->allowed_values.empty()) {
        bool listed = false;
        for (const Json& allowed : parameter->allowed_values) listed = listed || allowed == value;
        if (!listed) return key + " not in enum: " + value.dump();
        continue;
      }
      if (parameter->types.empty()) continue;
      bool typed = false;
      for (JsonType type : parameter->types) typed = typed || has_schema_type(value, type);
      if (!typed) return key + " has the wrong type: " + value.dump();
    }
    for (const ToolParameter& parameter : tool->properties) {
      if (parameter.required && !arguments.contains(parameter.name)) {
        return "missing required " + parameter.name;
      }
    }
  }
  return "";
}

std::vector<int32_t> allowed_ids(ToolCallGrammar& grammar) {
  std::vector<uint8_t> allowed(glm_vocabulary().token_bytes.size(), 0);
  grammar.fill_allowed(allowed);
  std::vector<int32_t> ids;
  for (size_t id = 0; id < allowed.size(); ++id) {
    if (allowed[id]) ids.push_back(static_cast<int32_t>(id));
  }
  return ids;
}

bool contains(const std::vector<int32_t>& ids, int32_t id) {
  return std::binary_search(ids.begin(), ids.end(), id);
}

// Splits `text` into tokens: markup tags as their tokens when markup_tokens,
// the rest by greedy longest match (max_piece bytes at most) over ordinary tokens.
std::vector<int32_t> tokenize(std::string_view text, bool markup_tokens, size_t max_piece) {
  const GlmVocabulary& glm = glm_vocabulary();
  const std::pair<std::string_view, int32_t> tags[] = {
      {kToolCallStartTag, glm.markup.tool_call_start}, {kToolCallEndTag, glm.markup.tool_call_end},
      {kArgKeyStartTag, glm.markup.arg_key_start},     {kArgKeyEndTag, glm.markup.arg_key_end},
      {kArgValueStartTag, glm.markup.arg_value_start}, {kArgValueEndTag, glm.markup.arg_value_end}};
  std::vector<int32_t> tokens;
  size_t pos = 0;
  while (pos < text.size()) {
    bool tagged = false;
    for (const auto& [tag, id] : tags) {
      if (markup_tokens && text.substr(pos).starts_with(tag)) {
        tokens.push_back(id);
        pos += tag.size();
        tagged = true;
        break;
      }
    }
    if (tagged) continue;
    size_t length = std::min(max_piece, text.size() - pos);
    if (markup_tokens) {
      // Keep the next tag out of ordinary tokens: it goes in as its own token.
      for (const auto& [tag, id] : tags) {
        const size_t next = text.find(tag, pos);
        if (next != std::string_view::npos) length = std::min(length, next - pos);
      }
    }
    for (; length > 0; --length) {
      auto found = glm.id_of.find(std::string(text.substr(pos, length)));
      if (found == glm.id_of.end()) continue;
      tokens.push_back(found->second);
      break;
    }
    EXPECT_GT(length, 0u) << "no token for byte " << static_cast<int>(text[pos]);
    if (length == 0) return tokens;
    pos += length;
  }
  return tokens;
}

// Feeds tokens; returns the index of the first token fill_allowed() rejects, or -1.
int first_rejected(ToolCallGrammar& grammar, const std::vector<int32_t>& tokens) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!contains(allowed_ids(grammar), tokens[i])) return static_cast<int>(i);
    grammar.accept(tokens[i]);
  }
  return -1;
}

ToolCallGrammar make_grammar(bool markup_tokens, bool parallel,
                             const std::vector<ToolSpec>& tools = test_tools()) {
  ToolGrammarOptions options;
  options.parallel_tool_calls = parallel;
  return ToolCallGrammar(shared_vocabulary(markup_tokens), tools, options);
}

const char* kValidReplies[] = {
    "<tool_call>get_time\n</tool_call>",
    "\n<tool_call>get_weather\n<arg_key>location</arg_key>\n<arg_value>北京</arg_value>\n"
    "<arg_key>unit</arg_key>\n<arg_value>celsius</arg_value>\n</tool_call>",
    "<tool_call>get_weather\n<arg_key>unit</arg_key>\n<arg_value>fahrenheit</arg_value>\n"
    "<arg_key>location</arg_key>\n<arg_value>  a \"quoted\" \\ line\nnext </arg_valu x"
    "</arg_value>\n</tool_call>",
    "<tool_call>search\n<arg_key>query</arg_key>\n<arg_value></arg_value>\n"
    "<arg_key>limit</arg_key>\n<arg_value>-10</arg_value>\n"
    "<arg_key>threshold</arg_key>\n<arg_value>2.5e-3</arg_value>\n"
    "<arg_key>exact</arg_key>\n<arg_value>false</arg_value>\n"
    "<arg_key>filters</arg_key>\n<arg_value>{\"a\": [1, {\"b\": null}], \"c\": \"\\u00e9\\n\"}"
    "</arg_value>\n<arg_key>tags</arg_key>\n<arg_value>[]</arg_value>\n"
    "<arg_key>maybe</arg_key>\n<arg_value>null</arg_value>\n"
    "<arg_key>level</arg_key>\n<arg_value>3.5</arg_value>\n"
    "<arg_key>note</arg_key>\n<arg_value>anything { at all</arg_value>\n"
    "<arg_key>either</arg_key>\n<arg_value>maybe</arg_value>\n</tool_call>",
};

TEST(ToolCallGrammar, AcceptsValidRepliesInAnyTokenization) {
  for (bool markup_tokens : {true, false}) {
    for (size_t max_piece : {1u, 3u, 64u}) {
      for (const char* reply : kValidReplies) {
        ToolCallGrammar grammar = make_grammar(markup_tokens, /*parallel=*/false);
        const auto tokens = tokenize(reply, markup_tokens, max_piece);
        EXPECT_EQ(first_rejected(grammar, tokens), -1)
            << "markup tokens " << markup_tokens << ", pieces of " << max_piece << ": " << reply;
        EXPECT_TRUE(grammar.is_complete()) << reply;
        EXPECT_EQ(check_reply(reply, test_tools(), true), "") << reply;
      }
    }
  }
}

TEST(ToolCallGrammar, RejectsInvalidReplies) {
  const char* invalid[] = {
      "Sure.<tool_call>get_time\n</tool_call>",           // content first
      "<tool_call>get_weather_now\n</tool_call>",         // unknown tool
      "<tool_call>get_weather\n</tool_call>",             // missing required key
      "<tool_call>get_weather\n<arg_key>city</arg_key>",  // unknown key
      "<tool_call>get_weather\n<arg_key>location</arg_key>\n<arg_value>a</arg_value>\n"
      "<arg_key>location</arg_key>",  // repeated key
      "<tool_call>get_weather\n<arg_key>unit</arg_key>\n<arg_value>kelvin</arg_value>",
      "<tool_call>search\n<arg_key>limit</arg_key>\n<arg_value>1.5</arg_value>",
      "<tool_call>search\n<arg_key>limit</arg_key>\n<arg_value>007</arg_value>",
      "<tool_call>search\n<arg_key>exact</arg_key>\n<arg_value>yes</arg_value>",
      "<tool_call>search\n<arg_key>filters</arg_key>\n<arg_value>[1]</arg_value>",
      "<tool_call>search\n<arg_key>filters</arg_key>\n<arg_value>{\"a\": 1,}</arg_value>",
      "<tool_call>search\n<arg_key>filters</arg_key>\n<arg_value>{\"a\": \"</arg_value>\"}",
      "<tool_call>search\n<arg_key>filters</arg_key>\n<arg_value> {}</arg_value>",
      "<tool_call>search\n<arg_key>threshold</arg_key>\n<arg_value>1e999</arg_value>",
      "<tool_call>search\n<arg_key>level</arg_key>\n<arg_value>2.0</arg_value>",
      "<tool_call>search\n<arg_key>maybe</arg_key>\n<arg_value>\"x\"</arg_value>",
      "<tool_call>get_time\n</tool_call>\n\n<tool_call>",  // two newlines
      "<tool_call>get_time</tool_call>",                   // no newline after name
      "<tool_call>get_time\n</tool_call> ",                // trailing text
  };
  for (bool markup_tokens : {true, false}) {
    for (const char* reply : invalid) {
      ToolCallGrammar grammar = make_grammar(markup_tokens, /*parallel=*/true);
      const auto tokens = tokenize(reply, markup_tokens, 1);
      EXPECT_NE(first_rejected(grammar, tokens), -1)
          << "markup tokens " << markup_tokens << ": " << reply;
    }
  }
}

TEST(ToolCallGrammar, StartAllowsNewlineOrCallTag) {
  ToolCallGrammar grammar = make_grammar(true, true);
  const auto ids = allowed_ids(grammar);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0], glm_vocabulary().id_of.at("\n"));
  EXPECT_EQ(ids[1], glm_vocabulary().markup.tool_call_start);
}

TEST(ToolCallGrammar, NamedToolAllowsOnlyItsName) {
  const auto tools = tools_for_choice(test_tools(), {ToolChoiceMode::kNamed, "get_time"});
  ToolCallGrammar grammar = make_grammar(true, false, tools);
  grammar.accept(glm_vocabulary().markup.tool_call_start);
  const auto ids = allowed_ids(grammar);
  EXPECT_TRUE(contains(ids, glm_vocabulary().id_of.at("get")));
  EXPECT_FALSE(contains(ids, glm_vocabulary().id_of.at("search")));
  for (int32_t id : ids) {
    const std::string& bytes = glm_vocabulary().token_bytes[static_cast<size_t>(id)];
    EXPECT_TRUE(std::string("get_time\n").starts_with(bytes)) << bytes;
  }
}

TEST(ToolCallGrammar, SingleCallEndsAfterCloseTag) {
  ToolCallGrammar grammar = make_grammar(true, /*parallel=*/false);
  EXPECT_EQ(first_rejected(grammar, tokenize("<tool_call>get_time\n</tool_call>", true, 64)), -1);
  EXPECT_TRUE(grammar.is_complete());
  const auto ids = allowed_ids(grammar);
  EXPECT_EQ(ids, glm_vocabulary().eos_token_ids);
}

TEST(ToolCallGrammar, ParallelCallsMayEndOrContinue) {
  ToolCallGrammar grammar = make_grammar(true, /*parallel=*/true);
  EXPECT_EQ(first_rejected(grammar, tokenize("<tool_call>get_time\n</tool_call>", true, 64)), -1);
  EXPECT_FALSE(grammar.is_complete());
  std::vector<int32_t> expected = glm_vocabulary().eos_token_ids;
  expected.push_back(glm_vocabulary().id_of.at("\n"));
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(allowed_ids(grammar), expected);

  grammar.accept(glm_vocabulary().id_of.at("\n"));
  EXPECT_EQ(allowed_ids(grammar), std::vector<int32_t>{glm_vocabulary().markup.tool_call_start});
  grammar.accept(glm_vocabulary().markup.tool_call_start);
  EXPECT_FALSE(grammar.is_complete());
}

TEST(ToolCallGrammar, EosEndsParallelCalls) {
  ToolCallGrammar grammar = make_grammar(true, /*parallel=*/true);
  EXPECT_EQ(first_rejected(grammar, tokenize("<tool_call>get_time\n</tool_call>", true, 64)), -1);
  grammar.accept(glm_vocabulary().eos_token_ids[0]);
  EXPECT_TRUE(grammar.is_complete());
}

TEST(ToolCallGrammar, RequiredKeyGatesCloseTag) {
  ToolCallGrammar grammar = make_grammar(true, false);
  EXPECT_EQ(first_rejected(grammar, tokenize("<tool_call>get_weather\n", true, 64)), -1);
  auto ids = allowed_ids(grammar);
  EXPECT_EQ(ids, std::vector<int32_t>{glm_vocabulary().markup.arg_key_start});
  EXPECT_EQ(first_rejected(grammar, tokenize("<arg_key>location</arg_key>\n<arg_value>x"
                                             "</arg_value>\n",
                                             true, 64)),
            -1);
  ids = allowed_ids(grammar);
  EXPECT_TRUE(contains(ids, glm_vocabulary().markup.tool_call_end));
  EXPECT_TRUE(contains(ids, glm_vocabulary().markup.arg_key_start));
}

TEST(ToolCallGrammar, RejectsDisallowedTokenInAccept) {
  ToolCallGrammar grammar = make_grammar(true, false);
  EXPECT_THROW(grammar.accept(glm_vocabulary().id_of.at("hello")), Error);
  ToolCallGrammar other = make_grammar(true, false);
  EXPECT_THROW(other.accept(glm_vocabulary().markup.arg_value_end), Error);
}

TEST(ToolCallGrammar, ReasoningPrefixAllowsEverything) {
  ToolGrammarOptions options;
  options.reasoning_end_token = glm_vocabulary().think_end;
  ToolCallGrammar grammar(shared_vocabulary(true), test_tools(), options);
  EXPECT_EQ(allowed_ids(grammar).size(), glm_vocabulary().token_bytes.size());
  grammar.accept(glm_vocabulary().id_of.at("hello"));
  grammar.accept(glm_vocabulary().think_end);
  EXPECT_EQ(allowed_ids(grammar).size(), 2u);
}

TEST(ToolCallGrammar, RejectsUnwritableTools) {
  const auto tools = parse_tools(Json::parse(R"([{"function": {"name": " spaced "}}])"));
  EXPECT_THROW(make_grammar(true, false, tools), Error);
}

// Checks the trie walk against stepping every token's bytes one by one.
TEST(ToolCallGrammar, TrieWalkMatchesBruteForce) {
  const char* prefixes[] = {
      "",
      "<tool_call>",
      "<tool_call>get_weather\n<arg_key>",
      "<tool_call>get_weather\n<arg_key>location</arg_key>\n<arg_value>",
      "<tool_call>get_weather\n<arg_key>location</arg_key>\n<arg_value>ab</arg_",
      "<tool_call>search\n<arg_key>filters</arg_key>\n<arg_value>{\"k\": \"v",
      "<tool_call>search\n<arg_key>threshold</arg_key>\n<arg_value>-1",
      "<tool_call>search\n<arg_key>level</arg_key>\n<arg_value>",
  };
  const GlmVocabulary& glm = glm_vocabulary();
  for (bool markup_tokens : {true, false}) {
    grammar::MarkupTags tags = shared_vocabulary(markup_tokens)->markup_tags();
    const grammar::Automaton automaton(test_tools(), tags, true);
    for (const char* prefix : prefixes) {
      ToolCallGrammar grammar = make_grammar(markup_tokens, true);
      ASSERT_EQ(first_rejected(grammar, tokenize(prefix, markup_tokens, 64)), -1) << prefix;
      const auto ids = allowed_ids(grammar);

      grammar::State start = automaton.initial_state(false);
      for (int32_t token : tokenize(prefix, markup_tokens, 64)) {
        if (!automaton.step_token(start, token)) {
          for (char byte : glm.token_bytes[static_cast<size_t>(token)]) {
            ASSERT_TRUE(automaton.step(start, static_cast<uint8_t>(byte)));
          }
        }
      }
      std::vector<int32_t> expected;
      automaton.allowed_tokens(start, expected);
      for (size_t id = 0; id < glm.token_bytes.size(); ++id) {
        const std::string& bytes = glm.token_bytes[id];
        if (bytes.empty()) continue;
        grammar::State state = start;
        bool ok = true;
        for (char byte : bytes) {
          if (!automaton.step(state, static_cast<uint8_t>(byte))) {
            ok = false;
            break;
          }
        }
        if (ok) expected.push_back(static_cast<int32_t>(id));
      }
      std::sort(expected.begin(), expected.end());
      expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
      EXPECT_EQ(ids.size(), expected.size()) << "markup tokens " << markup_tokens << ": " << prefix;
      EXPECT_TRUE(ids == expected) << "markup tokens " << markup_tokens << ": " << prefix;
    }
  }
}

// Picks the next token of a random walk. Uniform picks over 150k tokens would
// almost never close a value, so the walk favours markup and end-of-sequence
// tokens, then one-byte ASCII tokens (JSON punctuation and digits), then the rest.
int32_t pick_token(const std::vector<int32_t>& ids, std::mt19937& random) {
  const GlmVocabulary& glm = glm_vocabulary();
  std::vector<int32_t> groups[3];
  for (int32_t id : ids) {
    const std::string& bytes = glm.token_bytes[static_cast<size_t>(id)];
    if (bytes.empty()) {
      groups[0].push_back(id);
    } else if (bytes.size() == 1 && static_cast<unsigned char>(bytes[0]) < 0x80) {
      groups[1].push_back(id);
    } else {
      groups[2].push_back(id);
    }
  }
  const double weights[3] = {groups[0].empty() ? 0 : 0.35, groups[1].empty() ? 0 : 0.45,
                             groups[2].empty() ? 0 : 0.2};
  std::discrete_distribution<int> group_of(std::begin(weights), std::end(weights));
  const auto& group = groups[group_of(random)];
  return group[std::uniform_int_distribution<size_t>(0, group.size() - 1)(random)];
}

TEST(ToolCallGrammar, RandomWalksParseIntoValidCalls) {
  const GlmVocabulary& glm = glm_vocabulary();
  std::mt19937 random(7);
  int completed = 0;
  constexpr int kWalks = 60;
  for (int walk = 0; walk < kWalks; ++walk) {
    const bool parallel = walk % 2 == 0;
    ToolCallGrammar grammar = make_grammar(true, parallel);
    std::string text;
    std::vector<std::string> pieces;  // The text token by token, as a stream delivers it.
    bool ended = false;
    for (int step = 0; step < 400 && !ended; ++step) {
      if (grammar.is_complete()) {
        ended = true;
        break;
      }
      const auto ids = allowed_ids(grammar);
      ASSERT_FALSE(ids.empty()) << "dead end after " << Json(text).dump();
      const int32_t token = pick_token(ids, random);
      grammar.accept(token);
      if (std::find(glm.eos_token_ids.begin(), glm.eos_token_ids.end(), token) !=
          glm.eos_token_ids.end()) {
        ended = true;
        break;
      }
      text += glm.text_of[static_cast<size_t>(token)];
      pieces.push_back(glm.text_of[static_cast<size_t>(token)]);
    }
    if (!ended) continue;
    ++completed;
    EXPECT_EQ(check_reply(text, test_tools(), !parallel), "") << Json(text).dump();

    ToolCallParser parser(test_tools());
    std::vector<ToolCall> streamed;
    for (const std::string& piece : pieces) {
      for (ToolCallEvent& event : parser.feed(piece)) {
        EXPECT_NE(event.kind, ToolCallEventKind::kContent) << Json(text).dump();
        if (event.kind == ToolCallEventKind::kCallStarted) streamed.push_back({event.text, ""});
        if (event.kind == ToolCallEventKind::kArguments) streamed.back().arguments += event.text;
      }
    }
    EXPECT_TRUE(parser.finish().empty()) << Json(text).dump();
    const ToolCallParseResult whole = parse_tool_calls(text, test_tools());
    ASSERT_EQ(streamed.size(), whole.calls.size()) << Json(text).dump();
    for (size_t i = 0; i < streamed.size(); ++i) {
      EXPECT_EQ(streamed[i].name, whole.calls[i].name);
      EXPECT_EQ(streamed[i].arguments, whole.calls[i].arguments);
    }
  }
  EXPECT_GE(completed, kWalks / 2);
  std::cout << "[          ] " << completed << " of " << kWalks << " random walks completed\n";
}

// Not an assertion (timings depend on the machine): prints the time of one
// fill_allowed() over the 151k-token vocabulary in the states that cost most.
TEST(ToolCallGrammar, ReportsFillAllowedTime) {
  const char* prefixes[] = {
      "<tool_call>",
      "<tool_call>get_weather\n<arg_key>location</arg_key>\n<arg_value>",
      "<tool_call>search\n<arg_key>filters</arg_key>\n<arg_value>{\"k\": \"v",
      "<tool_call>search\n<arg_key>limit</arg_key>\n<arg_value>1",
  };
  using Clock = std::chrono::steady_clock;
  using Milliseconds = std::chrono::duration<double, std::milli>;
  std::vector<uint8_t> allowed(glm_vocabulary().token_bytes.size());
  for (const char* prefix : prefixes) {
    // accept() alone leaves the mask cache cold, so the first fill walks the
    // trie; the best of five fresh grammars filters out other load.
    Milliseconds walk = Milliseconds::max();
    Milliseconds cached{};
    for (int trial = 0; trial < 5; ++trial) {
      ToolCallGrammar grammar = make_grammar(true, true);
      for (int32_t token : tokenize(prefix, true, 64)) grammar.accept(token);
      auto start = Clock::now();
      grammar.fill_allowed(allowed);
      walk = std::min<Milliseconds>(walk, Clock::now() - start);
      start = Clock::now();
      grammar.fill_allowed(allowed);
      cached = Clock::now() - start;
    }
    std::cout << "[          ] fill_allowed " << walk.count() << " ms walking the trie, "
              << cached.count() << " ms from the cache, after " << Json(prefix).dump() << "\n";
  }
}

}  // namespace
}  // namespace glyph::chat
