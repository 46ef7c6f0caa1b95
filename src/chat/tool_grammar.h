// Constrained decoding for tool_choice "required" and a named tool: the
// reply is forced into the model's own tool-call format,
//
//   <tool_call>NAME
//   <arg_key>KEY</arg_key>
//   <arg_value>VALUE</arg_value>
//   ...
//   </tool_call>
//
// with NAME an allowed tool, each KEY a property of its schema at most once,
// every required property present before </tool_call>, and each VALUE valid
// for its property: one of its enum values, a JSON number, integer, boolean,
// null, object or array for those types (checked by a small JSON automaton),
// or free UTF-8 text without "</arg_value>" for strings and untyped
// properties. An optional newline may precede the first call, and calls are
// separated by one newline. parse_tool_calls() reads what the grammar
// accepts back as calls of the allowed tools with no content, each argument
// of a listed type or enum value (the tests check this with random walks
// over the GLM vocabulary).
// NOTE: only the top level of a value is checked against the schema: the
// properties and items of an object or array value, and an enum inside
// anyOf/oneOf, are not enforced.
//
// SGLang 0.5.6 constrains these requests with a JSON schema instead (the
// reply is a JSON array of {"name", "parameters"}); this grammar keeps the
// format the model was trained on, so the ordinary glm45 parser reads the reply.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chat/tool_grammar_automaton.h"
#include "chat/tool_schema.h"
#include "core/token_constraint.h"

namespace glyph::chat {

// Ids of the markup tokens. An id of -1 means the vocabulary has no single
// token for that tag, so the grammar matches it byte by byte through
// ordinary tokens.
struct ToolCallMarkupTokens {
  int32_t tool_call_start = -1;  // <tool_call>
  int32_t tool_call_end = -1;    // </tool_call>
  int32_t arg_key_start = -1;    // <arg_key>
  int32_t arg_key_end = -1;      // </arg_key>
  int32_t arg_value_start = -1;  // <arg_value>
  int32_t arg_value_end = -1;    // </arg_value>
};

// A tokenizer's vocabulary as a byte trie, built once and shared by every
// request's grammar (it is immutable, so safe to read from many threads).
class ToolGrammarVocabulary {
 public:
  // token_bytes[id] is the text token `id` decodes to. Pass "" for tokens a
  // tool call must never contain (special and control tokens such as
  // <|user|>), except the markup and end-of-sequence tokens named here,
  // which are always kept out of the trie and allowed only where they fit.
  ToolGrammarVocabulary(const std::vector<std::string>& token_bytes, ToolCallMarkupTokens markup,
                        std::vector<int32_t> eos_token_ids);

  int32_t size() const { return static_cast<int32_t>(offsets_.size()) - 1; }
  std::string_view token_bytes(int32_t id) const;
  const grammar::MarkupTags& markup_tags() const { return markup_tags_; }
  const std::vector<int32_t>& eos_token_ids() const { return eos_token_ids_; }

 private:
  friend class ToolCallGrammar;

  // The trie in depth-first order: a node's children follow it, and
  // subtree_end is the index just past its last descendant, so a walk can
  // skip a subtree whose prefix the grammar rejects.
  struct Node {
    uint32_t subtree_end;
    uint16_t depth;  // Bytes from the root; the root itself is not stored.
    uint8_t byte;
    int32_t token;  // A token whose bytes end here, or -1.
  };

  std::vector<Node> nodes_;
  std::vector<int32_t> next_same_bytes_;  // Per token: another token with the same bytes, or -1.
  uint16_t max_depth_ = 0;
  std::string bytes_;              // Every token's bytes, back to back.
  std::vector<uint32_t> offsets_;  // Token id -> start in bytes_; one extra at the end.
  grammar::MarkupTags markup_tags_;
  std::vector<int32_t> eos_token_ids_;
};

struct ToolGrammarOptions {
  // OpenAI's parallel_tool_calls: false allows exactly one call, true one or more.
  bool parallel_tool_calls = true;
  // When the prompt leaves the model thinking (it will write reasoning and
  // then </think>), the id of the token that ends the reasoning: every token
  // is allowed until it. -1: the reply starts with the calls.
  int32_t reasoning_end_token = -1;
};

class ToolCallGrammar final : public TokenConstraint {
 public:
  // `tools` are the tools the reply may call (tools_for_choice() gives them).
  // Throws glyph::Error(kInvalidRequest) when no tool name can be written in
  // the format (names with a newline or surrounding whitespace) or a tool has
  // more than 64 properties.
  ToolCallGrammar(std::shared_ptr<const ToolGrammarVocabulary> vocabulary,
                  const std::vector<ToolSpec>& tools, ToolGrammarOptions options);

  // Sets allowed[id] to 1 for each token that may come next and to 0 for
  // the others, entries past the vocabulary's size included. The
  // end-of-sequence tokens given to the vocabulary are allowed wherever the
  // reply may end: after a complete call. Inside a string value a step walks
  // the whole vocabulary trie, about 3-4 ms for GLM's 151k tokens on one core
  // (measured by the grammar test). The result for such a state is cached,
  // so the following steps of the value take tens of microseconds.
  void fill_allowed(std::vector<uint8_t>& allowed) override;

  // Throws glyph::Error(kInternal) for a token fill_allowed() did not allow.
  void accept(int32_t token) override;

  // True when nothing but the end of the reply may follow: after the call
  // when parallel_tool_calls is false, or after an end-of-sequence token.
  // With parallel calls the reply may also end after any </tool_call>; the
  // model decides by sampling an end-of-sequence token or another call.
  bool is_complete() const override;

 private:
  std::shared_ptr<const ToolGrammarVocabulary> vocabulary_;
  grammar::Automaton automaton_;
  grammar::State state_;
  int32_t reasoning_end_token_;
  // The allowed trie tokens of recent expensive states, as bitsets. Inside a
  // string value nearly every token is allowed and the state rarely changes
  // between steps, so the walk over the whole trie runs once per value.
  struct CachedMask {
    grammar::State state;
    std::vector<uint64_t> bits;
    uint64_t last_used = 0;
  };

  void walk_trie(std::vector<uint8_t>& allowed, int32_t limit, size_t& visited);
  const CachedMask* find_cached(const grammar::State& state);
  void store_cached(const grammar::State& state, const std::vector<uint8_t>& allowed,
                    int32_t limit);

  std::vector<grammar::State> walk_states_;  // One per trie depth, reused by walk_trie().
  std::vector<int32_t> markup_allowed_;
  std::vector<CachedMask> cache_;
  uint64_t fill_count_ = 0;
};

}  // namespace glyph::chat
