// SGLang's native routes: /generate, /v1/completions, /get_server_info,
// /flush_cache, /health_generate and /metrics.
#pragma once

#include <string>

#include "server/api_routes.h"
#include "server/serving_stack.h"

namespace glyph::server {

class NativeRoutes {
 public:
  explicit NativeRoutes(ServingStack& stack) : stack_(stack) {}

  HttpReply generate(const std::string& body) const;     // POST /generate
  HttpReply completions(const std::string& body) const;  // POST /v1/completions
  HttpReply server_info() const;                         // GET /get_server_info
  HttpReply flush_cache() const;                         // POST or GET /flush_cache
  HttpReply health_generate() const;                     // GET /health_generate
  HttpReply metrics() const;                             // GET /metrics (--enable-metrics)

 private:
  ServingStack& stack_;
};

}  // namespace glyph::server
