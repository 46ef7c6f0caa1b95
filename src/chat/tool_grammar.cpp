#include "chat/tool_grammar.h"

#include <algorithm>
#include <bit>
#include <limits>

#include "chat/tool_call_parser.h"
#include "core/error.h"

namespace glyph::chat {
namespace {

// A walk that visits this many trie nodes is worth caching. The whole GLM
// trie has about 341k nodes, and a walk in a name, key or number visits a
// few hundred at most.
constexpr size_t kCacheMinNodes = 20000;
// Cached masks per grammar, 19 KB each for a 151k-token vocabulary.
constexpr size_t kCacheEntries = 8;

grammar::MarkupTags make_tags(const ToolCallMarkupTokens& tokens) {
  grammar::MarkupTags tags;
  tags.tool_call_start = {std::string(kToolCallStartTag), tokens.tool_call_start};
  tags.tool_call_end = {std::string(kToolCallEndTag), tokens.tool_call_end};
  tags.arg_key_start = {std::string(kArgKeyStartTag), tokens.arg_key_start};
  tags.arg_key_end = {std::string(kArgKeyEndTag), tokens.arg_key_end};
  tags.arg_value_start = {std::string(kArgValueStartTag), tokens.arg_value_start};
  tags.arg_value_end = {std::string(kArgValueEndTag), tokens.arg_value_end};
  return tags;
}

}  // namespace

ToolGrammarVocabulary::ToolGrammarVocabulary(const std::vector<std::string>& token_bytes,
                                             ToolCallMarkupTokens markup,
                                             std::vector<int32_t> eos_token_ids)
    : markup_tags_(make_tags(markup)), eos_token_ids_(std::move(eos_token_ids)) {
  const auto count = static_cast<int32_t>(token_bytes.size());
  GLYPH_CHECK(token_bytes.size() < std::numeric_limits<int32_t>::max(), "{} tokens",
              token_bytes.size());

  offsets_.reserve(token_bytes.size() + 1);
  for (const std::string& bytes : token_bytes) {
    offsets_.push_back(static_cast<uint32_t>(bytes_.size()));
    bytes_ += bytes;
  }
  offsets_.push_back(static_cast<uint32_t>(bytes_.size()));

  // Markup and end-of-sequence tokens are matched by id, never as bytes.
  std::vector<bool> excluded(token_bytes.size(), false);
  for (int32_t id : {markup.tool_call_start, markup.tool_call_end, markup.arg_key_start,
                     markup.arg_key_end, markup.arg_value_start, markup.arg_value_end}) {
    if (id >= 0 && id < count) excluded[static_cast<size_t>(id)] = true;
  }
  for (int32_t id : eos_token_ids_) {
    if (id >= 0 && id < count) excluded[static_cast<size_t>(id)] = true;
  }

  std::vector<int32_t> order;
  for (int32_t id = 0; id < count; ++id) {
    if (!excluded[static_cast<size_t>(id)] && !token_bytes[static_cast<size_t>(id)].empty()) {
      order.push_back(id);
    }
  }
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return token_bytes[static_cast<size_t>(a)] < token_bytes[static_cast<size_t>(b)];
  });

  // Sorted token texts give the depth-first order directly: each text adds
  // nodes for the bytes past its common prefix with the previous text.
  next_same_bytes_.assign(token_bytes.size(), -1);
  std::vector<uint32_t> path;  // Node indices from depth 1 to the previous text's end.
  std::string_view previous;
  for (int32_t id : order) {
    const std::string_view text = token_bytes[static_cast<size_t>(id)];
    GLYPH_CHECK(text.size() <= std::numeric_limits<uint16_t>::max(), "token {} has {} bytes", id,
                text.size());
    if (text == previous) {
      Node& end = nodes_[path.back()];
      next_same_bytes_[static_cast<size_t>(id)] = end.token;
      end.token = id;
      continue;
    }

    size_t common = 0;
    while (common < previous.size() && common < text.size() && previous[common] == text[common]) {
      ++common;
    }
    while (path.size() > common) {
      nodes_[path.back()].subtree_end = static_cast<uint32_t>(nodes_.size());
      path.pop_back();
    }
    for (size_t depth = common; depth < text.size(); ++depth) {
      path.push_back(static_cast<uint32_t>(nodes_.size()));
      nodes_.push_back(
          Node{0, static_cast<uint16_t>(depth + 1), static_cast<uint8_t>(text[depth]), -1});
    }
    nodes_[path.back()].token = id;
    max_depth_ = std::max(max_depth_, static_cast<uint16_t>(text.size()));
    previous = text;
  }
  while (!path.empty()) {
    nodes_[path.back()].subtree_end = static_cast<uint32_t>(nodes_.size());
    path.pop_back();
  }
}

std::string_view ToolGrammarVocabulary::token_bytes(int32_t id) const {
  GLYPH_CHECK(id >= 0 && id < size(), "token id {} outside the vocabulary of {}", id, size());
  const auto index = static_cast<size_t>(id);
  return std::string_view(bytes_).substr(offsets_[index], offsets_[index + 1] - offsets_[index]);
}

ToolCallGrammar::ToolCallGrammar(std::shared_ptr<const ToolGrammarVocabulary> vocabulary,
                                 const std::vector<ToolSpec>& tools, ToolGrammarOptions options)
    : vocabulary_(std::move(vocabulary)),
      automaton_(tools, vocabulary_->markup_tags(), options.parallel_tool_calls),
      state_(automaton_.initial_state(options.reasoning_end_token >= 0)),
      reasoning_end_token_(options.reasoning_end_token),
      walk_states_(static_cast<size_t>(vocabulary_->max_depth_) + 1) {}

void ToolCallGrammar::fill_allowed(std::vector<uint8_t>& allowed) {
  std::fill(allowed.begin(), allowed.end(), 0);
  const auto limit = static_cast<int32_t>(
      std::min<size_t>(allowed.size(), static_cast<size_t>(vocabulary_->size())));
  ++fill_count_;
  if (state_.phase == grammar::Phase::kReasoning) {
    std::fill(allowed.begin(), allowed.begin() + limit, 1);
    return;
  }

  if (const CachedMask* cached = find_cached(state_)) {
    for (size_t word = 0; word < cached->bits.size(); ++word) {
      uint64_t bits = cached->bits[word];
      if (bits == ~uint64_t{0}) {
        std::fill_n(allowed.begin() + static_cast<std::ptrdiff_t>(word * 64), 64, 1);
        continue;
      }
      while (bits != 0) {
        allowed[word * 64 + static_cast<size_t>(std::countr_zero(bits))] = 1;
        bits &= bits - 1;
      }
    }
  } else {
    size_t visited = 0;
    walk_trie(allowed, limit, visited);
    if (visited >= kCacheMinNodes) store_cached(state_, allowed, limit);
  }

  markup_allowed_.clear();
  automaton_.allowed_tokens(state_, markup_allowed_);
  bool final = false;
  if (automaton_.may_end(state_, final)) {
    markup_allowed_.insert(markup_allowed_.end(), vocabulary_->eos_token_ids().begin(),
                           vocabulary_->eos_token_ids().end());
  }
  for (int32_t token : markup_allowed_) {
    if (token >= 0 && token < limit) allowed[static_cast<size_t>(token)] = 1;
  }
}

// Walks the vocabulary trie from the current state: a node's state is its
// parent's advanced by one byte, and a rejected byte skips the whole subtree,
// so most tokens cost nothing once their first bytes are rejected.
void ToolCallGrammar::walk_trie(std::vector<uint8_t>& allowed, int32_t limit, size_t& visited) {
  const auto& nodes = vocabulary_->nodes_;
  const auto& next_same_bytes = vocabulary_->next_same_bytes_;
  walk_states_[0] = state_;
  size_t index = 0;
  while (index < nodes.size()) {
    ++visited;
    const ToolGrammarVocabulary::Node& node = nodes[index];
    grammar::State& state = walk_states_[node.depth];
    state = walk_states_[node.depth - 1];
    if (!automaton_.step(state, node.byte)) {
      index = node.subtree_end;
      continue;
    }
    for (int32_t token = node.token; token >= 0;
         token = next_same_bytes[static_cast<size_t>(token)]) {
      if (token < limit) allowed[static_cast<size_t>(token)] = 1;
    }
    ++index;
  }
}

const ToolCallGrammar::CachedMask* ToolCallGrammar::find_cached(const grammar::State& state) {
  for (CachedMask& entry : cache_) {
    if (entry.state == state) {
      entry.last_used = fill_count_;
      return &entry;
    }
  }
  return nullptr;
}

void ToolCallGrammar::store_cached(const grammar::State& state, const std::vector<uint8_t>& allowed,
                                   int32_t limit) {
  CachedMask* entry = nullptr;
  if (cache_.size() < kCacheEntries) {
    entry = &cache_.emplace_back();
  } else {
    entry = &*std::min_element(
        cache_.begin(), cache_.end(),
        [](const CachedMask& a, const CachedMask& b) { return a.last_used < b.last_used; });
  }
  entry->state = state;
  entry->last_used = fill_count_;
  entry->bits.assign((static_cast<size_t>(limit) + 63) / 64, 0);
  for (int32_t id = 0; id < limit; ++id) {
    if (allowed[static_cast<size_t>(id)])
      entry->bits[static_cast<size_t>(id) / 64] |= uint64_t{1} << (id % 64);
  }
}

void ToolCallGrammar::accept(int32_t token) {
  if (state_.phase == grammar::Phase::kReasoning) {
    if (token == reasoning_end_token_) state_ = automaton_.initial_state(false);
    return;
  }

  const auto& eos = vocabulary_->eos_token_ids();
  if (std::find(eos.begin(), eos.end(), token) != eos.end()) {
    bool final = false;
    GLYPH_CHECK(automaton_.may_end(state_, final),
                "end-of-sequence token {} before the tool call is complete", token);
    state_.phase = grammar::Phase::kEnd;
    return;
  }

  grammar::State next = state_;
  if (automaton_.step_token(next, token)) {
    state_ = next;
    return;
  }
  const grammar::MarkupTags& tags = vocabulary_->markup_tags();
  for (const grammar::Tag* tag : {&tags.tool_call_start, &tags.tool_call_end, &tags.arg_key_start,
                                  &tags.arg_key_end, &tags.arg_value_start, &tags.arg_value_end}) {
    GLYPH_CHECK(token != tag->token, "markup token {} ({}) is not allowed here", token, tag->text);
  }
  for (char byte : vocabulary_->token_bytes(token)) {
    const bool allowed = automaton_.step(next, static_cast<uint8_t>(byte));
    GLYPH_CHECK(allowed, "token {} is not allowed by the tool-call grammar here", token);
  }
  GLYPH_CHECK(!vocabulary_->token_bytes(token).empty(), "token {} has no text", token);
  state_ = next;
}

bool ToolCallGrammar::is_complete() const {
  bool final = false;
  return automaton_.may_end(state_, final) && final;
}

}  // namespace glyph::chat
