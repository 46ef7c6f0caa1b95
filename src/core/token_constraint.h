// A grammar that limits which tokens a request may generate next.
//
// The chat layer builds one per request (for example the tool-call grammar
// of tool_choice "required"); the engine consults it before sampling each
// token, so neither layer needs to know the other.
#pragma once

#include <cstdint>
#include <vector>

namespace glyph {

class TokenConstraint {
 public:
  virtual ~TokenConstraint() = default;

  // Sets allowed[id] to 1 for every token id that may come next, 0 otherwise.
  // allowed has one entry per tokenizer id. When the grammar is complete,
  // only end-of-sequence tokens (which the engine adds) are allowed.
  virtual void fill_allowed(std::vector<uint8_t>& allowed) = 0;

  // Advances the grammar past a generated token.
  virtual void accept(int32_t token) = 0;

  // True once the output so far is a complete sentence of the grammar.
  virtual bool is_complete() const = 0;
};

}  // namespace glyph
