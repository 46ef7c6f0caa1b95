#include "text/regex.h"

#include <cctype>
#include <cstdint>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/error.h"
#include "text/utf8.h"

namespace glyph::text {

namespace {

// JIT stack bounds per thread. The pre-tokenizer patterns need little stack,
// so the maximum only guards against pathological patterns. A search that
// still runs out falls back to the interpreter, which uses the heap.
constexpr size_t kJitStackStartBytes = 64 * 1024;
constexpr size_t kJitStackMaxBytes = 16 * 1024 * 1024;

// Match data and JIT stack of one thread: PCRE2 allows neither to be shared
// between threads that match at the same time.
struct ThreadMatchState {
  pcre2_match_data* match_data = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* jit_stack = nullptr;

  ThreadMatchState() {
    match_data = pcre2_match_data_create(1, nullptr);
    context = pcre2_match_context_create(nullptr);
    jit_stack = pcre2_jit_stack_create(kJitStackStartBytes, kJitStackMaxBytes, nullptr);
    if (context != nullptr && jit_stack != nullptr) {
      pcre2_jit_stack_assign(context, nullptr, jit_stack);
    }
  }
  ~ThreadMatchState() {
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_context_free(context);
    pcre2_match_data_free(match_data);
  }
};

ThreadMatchState& thread_match_state() {
  thread_local ThreadMatchState state;
  if (state.match_data == nullptr || state.context == nullptr) {
    throw_error(ErrorKind::kInternal, "PCRE2 could not allocate match data: out of memory");
  }
  return state;
}

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  const int length = pcre2_get_error_message(code, buffer, sizeof(buffer));
  if (length < 0) return "PCRE2 error " + std::to_string(code);
  return std::string(reinterpret_cast<const char*>(buffer), static_cast<size_t>(length));
}

}  // namespace

Regex::Regex(const std::string& pattern, const std::string& source) : source_(source) {
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                        PCRE2_UTF | PCRE2_UCP, &error_code, &error_offset, nullptr);
  if (code_ == nullptr) {
    throw_error(ErrorKind::kBadModel, "{}: the regex '{}' does not compile at offset {}: {}",
                source, pattern, error_offset, pcre2_message(error_code));
  }
  // A failed JIT compilation is not an error: pcre2_match then interprets.
  pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE);
}

Regex::~Regex() { pcre2_code_free(code_); }

bool Regex::search(std::string_view text, size_t start, bool anchored, size_t& begin,
                   size_t& end) const {
  ThreadMatchState& state = thread_match_state();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  // The caller has checked that the text is valid UTF-8; without
  // PCRE2_NO_UTF_CHECK every call would check the whole text again.
  uint32_t options = PCRE2_NO_UTF_CHECK | (anchored ? PCRE2_ANCHORED : 0);
  int result =
      pcre2_match(code_, subject, text.size(), start, options, state.match_data, state.context);
  if (result == PCRE2_ERROR_JIT_STACKLIMIT) {
    result = pcre2_match(code_, subject, text.size(), start, options | PCRE2_NO_JIT,
                         state.match_data, state.context);
  }
  if (result == PCRE2_ERROR_NOMATCH) return false;
  if (result < 0) {
    throw_error(ErrorKind::kInvalidRequest,
                "the regex of {} failed on a text of {} bytes at offset {}: {}", source_,
                text.size(), start, pcre2_message(result));
  }
  const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(state.match_data);
  begin = ovector[0];
  end = ovector[1];
  return true;
}

std::vector<std::pair<size_t, size_t>> Regex::find_all(std::string_view text) const {
  // The loop follows the find_iter of the Rust onig crate, which Hugging Face
  // tokenizers uses: after an empty match the search resumes one character
  // later, and after a non-empty match the next empty match is dropped.
  std::vector<std::pair<size_t, size_t>> matches;
  size_t search_start = 0;
  bool skip_next_empty = false;
  while (search_start <= text.size()) {
    size_t begin = 0;
    size_t end = 0;
    if (!search(text, search_start, /*anchored=*/false, begin, end)) break;
    search_start = end;
    if (begin == end) {
      search_start += end < text.size() ? utf8_sequence_length(static_cast<uint8_t>(text[end])) : 1;
      if (skip_next_empty) {
        skip_next_empty = false;
        continue;
      }
    } else {
      skip_next_empty = true;
    }
    matches.emplace_back(begin, end);
  }
  return matches;
}

bool Regex::matches_at_start(std::string_view text) const {
  size_t begin = 0;
  size_t end = 0;
  return search(text, 0, /*anchored=*/true, begin, end);
}

std::string escape_regex(std::string_view literal) {
  // PCRE2 reads a backslash before any ASCII character that is not a letter
  // or digit as that character itself, so escaping all punctuation is safe.
  std::string escaped;
  escaped.reserve(literal.size() * 2);
  for (const char c : literal) {
    const auto byte = static_cast<uint8_t>(c);
    if (byte > 0x20 && byte < 0x7F && !std::isalnum(byte)) escaped.push_back('\\');
    escaped.push_back(c);
  }
  return escaped;
}

}  // namespace glyph::text
