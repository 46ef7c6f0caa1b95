// SGLang's helper routes that run the output parsers on given text:
// /parse_function_call and /separate_reasoning.
#pragma once

#include <string>

#include "server/api_routes.h"
#include "server/serving_stack.h"

namespace glyph::server {

class ParserRoutes {
 public:
  explicit ParserRoutes(ServingStack& stack) : stack_(stack) {}

  HttpReply parse_function_call(const std::string& body) const;  // POST /parse_function_call
  HttpReply separate_reasoning(const std::string& body) const;   // POST /separate_reasoning

 private:
  ServingStack& stack_;
};

}  // namespace glyph::server
