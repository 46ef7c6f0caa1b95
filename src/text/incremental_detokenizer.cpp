#include "text/tokenizer.h"
#include "text/utf8.h"

namespace glyph::text {

IncrementalDetokenizer::IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(tokenizer), skip_special_tokens_(skip_special_tokens) {}

std::string IncrementalDetokenizer::push(int32_t id) {
  if (skip_special_tokens_ && tokenizer_.is_special(id)) return {};
  pending_.append(tokenizer_.token_bytes(id));

  // Everything but an unfinished character at the end is final: the lossy
  // conversion decides each earlier byte without looking further ahead, so
  // converting now gives what decode() of the whole sequence gives there.
  const size_t held = incomplete_utf8_suffix(pending_);
  std::string text;
  append_utf8_lossy(std::string_view(pending_).substr(0, pending_.size() - held), text);
  pending_.erase(0, pending_.size() - held);
  return text;
}

std::string IncrementalDetokenizer::flush() {
  std::string text;
  append_utf8_lossy(pending_, text);
  pending_.clear();
  return text;
}

}  // namespace glyph::text
