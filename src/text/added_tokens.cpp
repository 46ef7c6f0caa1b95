#include "text/added_tokens.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"
#include "text/utf8.h"

namespace glyph::text {

namespace {

// Rust regex's Unicode \w, which tokenizers uses to decide single_word matches.
constexpr const char* kWordCharPattern = R"([\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}])";

AddedToken parse_token(const nlohmann::json& entry, size_t index, const std::string& source) {
  const auto content = entry.find("content");
  if (!entry.is_object() || content == entry.end() || !content->is_string()) {
    throw_error(ErrorKind::kBadModel, "{}: added_tokens[{}] has no \"content\" string", source,
                index);
  }
  AddedToken token;
  token.content = content->get<std::string>();
  const auto flag = [&](const char* key, bool& value) {
    const auto found = entry.find(key);
    if (found == entry.end()) return;
    if (!found->is_boolean()) {
      throw_error(ErrorKind::kBadModel, "{}: added_tokens[{}].{} must be true or false, not {}",
                  source, index, key, found->dump());
    }
    value = found->get<bool>();
  };
  flag("single_word", token.single_word);
  flag("lstrip", token.lstrip);
  flag("rstrip", token.rstrip);
  flag("normalized", token.normalized);
  flag("special", token.special);
  return token;
}

// Start of the whitespace run that ends `text` (regex \s*$).
size_t trailing_space_start(std::string_view text) {
  size_t start = text.size();
  while (start > 0) {
    size_t char_start = start - 1;
    while (char_start > 0 && (static_cast<uint8_t>(text[char_start]) & 0xC0) == 0x80) --char_start;
    size_t pos = char_start;
    if (!is_white_space(decode_utf8(text, pos))) break;
    start = char_start;
  }
  return start;
}

// Length of the whitespace run that starts `text` (regex ^\s*).
size_t leading_space_length(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t next = pos;
    if (!is_white_space(decode_utf8(text, next))) break;
    pos = next;
  }
  return pos;
}

}  // namespace

AddedVocabulary::AddedVocabulary(const nlohmann::json& tokens, const BpeModel& model,
                                 const std::string& source) {
  if (tokens.is_null()) return;
  if (!tokens.is_array()) {
    throw_error(ErrorKind::kBadModel, "{}: added_tokens must be an array, not {}", source,
                tokens.type_name());
  }

  std::vector<AddedToken> parsed;
  std::vector<int64_t> file_ids;
  for (size_t i = 0; i < tokens.size(); ++i) {
    parsed.push_back(parse_token(tokens[i], i, source));
    const auto id = tokens[i].find("id");
    file_ids.push_back(id != tokens[i].end() && id->is_number_integer() ? id->get<int64_t>() : -1);
  }

  // Special tokens first, then the others, each in file order: the order in
  // which tokenizers builds its matchers.
  std::vector<AddedToken> special_list;
  std::vector<AddedToken> classic_list;
  for (const AddedToken& token : parsed) {
    if (token.special && !token.content.empty() && !special_contents_.contains(token.content)) {
      special_list.push_back(token);
      special_contents_.insert(token.content);
    }
  }

  // Ids are not read from the file: as in tokenizers, a token already in the
  // model vocabulary keeps that id and the others count up from the number of
  // vocabulary entries. The file's ids only raise a warning when they differ.
  auto next_id = static_cast<int32_t>(model.entry_count());
  std::vector<AddedToken> seen;
  for (size_t i = 0; i < parsed.size(); ++i) {
    const AddedToken& token = parsed[i];
    if (token.content.empty() || std::find(seen.begin(), seen.end(), token) != seen.end()) continue;
    std::optional<int32_t> id = token_to_id(token.content);
    if (!id) id = model.token_to_id(token.content);
    if (!id) id = next_id++;
    if (file_ids[i] >= 0 && file_ids[i] != *id) {
      log::warn("{}: added token '{}' is listed with id {} but gets id {}", source, token.content,
                file_ids[i], *id);
    }
    ids_by_content_[token.content] = *id;
    tokens_by_id_[*id] = token;
    id_limit_ = std::max(id_limit_, *id + 1);
    if (!special_contents_.contains(token.content)) classic_list.push_back(token);
    seen.push_back(token);
  }

  for (const auto* list : {&special_list, &classic_list}) {
    for (const AddedToken& token : *list) {
      Matcher& matcher = token.normalized ? normalized_matcher_ : raw_matcher_;
      matcher.add(token.content, ids_by_content_.at(token.content));
    }
  }
  word_char_ = std::make_unique<Regex>(kWordCharPattern, "the single_word check");
}

AddedVocabulary::~AddedVocabulary() = default;

std::optional<int32_t> AddedVocabulary::token_to_id(std::string_view content) const {
  const auto found = ids_by_content_.find(content);
  if (found == ids_by_content_.end()) return std::nullopt;
  return found->second;
}

const AddedToken* AddedVocabulary::find(int32_t id) const {
  const auto found = tokens_by_id_.find(id);
  return found == tokens_by_id_.end() ? nullptr : &found->second;
}

bool AddedVocabulary::is_special_content(std::string_view content) const {
  return special_contents_.find(content) != special_contents_.end();
}

std::vector<Segment> AddedVocabulary::split(std::string_view text) const {
  std::vector<Segment> first_pass;
  if (raw_matcher_.empty()) {
    first_pass.push_back({0, text.size(), -1});
  } else {
    find_matches(text, 0, raw_matcher_, first_pass);
  }
  if (normalized_matcher_.empty()) return first_pass;

  std::vector<Segment> segments;
  for (const Segment& segment : first_pass) {
    if (segment.id >= 0) {
      segments.push_back(segment);
      continue;
    }
    find_matches(text.substr(segment.begin, segment.end - segment.begin), segment.begin,
                 normalized_matcher_, segments);
  }
  return segments;
}

void AddedVocabulary::find_matches(std::string_view sentence, size_t offset, const Matcher& matcher,
                                   std::vector<Segment>& segments) const {
  // Follows tokenizers' AddedVocabulary::find_matches. Matches come from the
  // trie without regard to the flags; single_word may then discard a match,
  // and lstrip/rstrip widen it over neighbouring whitespace.
  size_t start_offset = 0;
  size_t from = 0;
  size_t begin = 0;
  size_t end = 0;
  int32_t id = -1;
  while (matcher.find(sentence, from, begin, end, id)) {
    from = end;
    const AddedToken& token = tokens_by_id_.at(id);
    if (token.single_word) {
      const bool space_before = begin == 0 || !ends_with_word_char(sentence.substr(0, begin));
      const bool space_after =
          end == sentence.size() || !starts_with_word_char(sentence.substr(end));
      if (!space_before || !space_after) continue;
    }
    if (token.lstrip)
      begin = std::max(trailing_space_start(sentence.substr(0, begin)), start_offset);
    if (token.rstrip) end += leading_space_length(sentence.substr(end));
    if (start_offset < begin) segments.push_back({offset + start_offset, offset + begin, -1});
    segments.push_back({offset + begin, offset + end, id});
    start_offset = end;
  }
  if (start_offset != sentence.size()) {
    segments.push_back({offset + start_offset, offset + sentence.size(), -1});
  }
}

bool AddedVocabulary::ends_with_word_char(std::string_view text) const {
  if (text.empty()) return false;
  std::string last;
  append_utf8(last_code_point(text), last);
  return word_char_->matches_at_start(last);
}

bool AddedVocabulary::starts_with_word_char(std::string_view text) const {
  return !text.empty() && word_char_->matches_at_start(text);
}

void AddedVocabulary::Matcher::add(std::string_view content, int32_t id) {
  int32_t node = 0;
  for (const char c : content) {
    const auto byte = static_cast<uint8_t>(c);
    int32_t next = child(node, byte);
    if (next < 0) {
      next = static_cast<int32_t>(nodes_.size());
      nodes_[node].children.emplace_back(byte, next);
      nodes_.emplace_back();
    }
    node = next;
  }
  // The first token with this text keeps it, as the first pattern does in
  // tokenizers' Aho-Corasick automaton.
  if (nodes_[node].id < 0) nodes_[node].id = id;
  first_bytes_[static_cast<uint8_t>(content[0])] = true;
}

int32_t AddedVocabulary::Matcher::child(int32_t node, uint8_t byte) const {
  for (const auto& [child_byte, index] : nodes_[node].children) {
    if (child_byte == byte) return index;
  }
  return -1;
}

bool AddedVocabulary::Matcher::find(std::string_view text, size_t from, size_t& begin, size_t& end,
                                    int32_t& id) const {
  for (size_t start = from; start < text.size(); ++start) {
    if (!first_bytes_[static_cast<uint8_t>(text[start])]) continue;
    int32_t node = 0;
    int32_t best_id = -1;
    size_t best_end = 0;
    for (size_t pos = start; pos < text.size(); ++pos) {
      node = child(node, static_cast<uint8_t>(text[pos]));
      if (node < 0) break;
      if (nodes_[node].id >= 0) {
        best_id = nodes_[node].id;
        best_end = pos + 1;
      }
    }
    if (best_id >= 0) {
      begin = start;
      end = best_end;
      id = best_id;
      return true;
    }
  }
  return false;
}

}  // namespace glyph::text
