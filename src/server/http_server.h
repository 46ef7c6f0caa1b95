// The HTTP server: SGLang's routes over cpp-httplib, API-key checks and error bodies.
#pragma once

#include <memory>

#include "server/serving_stack.h"

namespace glyph::server {

class HttpServer {
 public:
  explicit HttpServer(ServingStack& stack);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds --host and --port; logs and returns false when that fails.
  bool bind();
  // Serves requests until stop(); call after bind().
  void serve();
  // Stops serve(); safe from another thread.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace glyph::server
