#include "server/http_server.h"

#include <httplib.h>

#include "core/error.h"
#include "core/log.h"
#include "server/api_error.h"
#include "server/api_routes.h"
#include "server/chat_response.h"
#include "server/client_connection.h"
#include "server/native_routes.h"
#include "server/parser_routes.h"

namespace glyph::server {

namespace {

// HTTP worker threads. A streaming request occupies one for its whole life,
// so this caps the concurrent streams, and later connections wait in the queue.
constexpr size_t kHttpThreads = 256;

int status_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidRequest: return 400;
    case ErrorKind::kNotFound: return 404;
    case ErrorKind::kUnavailable: return 503;
    default: break;
  }
  return 500;
}

void send_error(httplib::Response& response, int status, const std::string& message) {
  response.status = status;
  response.set_content(dump_json(error_body(status, message)), "application/json");
}

void send_reply(HttpReply reply, httplib::Response& response) {
  response.status = reply.status;
  if (!reply.stream) {
    response.set_content(std::move(reply.body), reply.content_type);
    return;
  }
  auto stream = std::move(reply.stream);
  auto cancel = std::move(reply.cancel);
  response.set_chunked_content_provider(
      reply.content_type,
      [stream](size_t /*offset*/, httplib::DataSink& sink) {
        const bool finished = stream([&sink](const std::string& piece) {
          return sink.is_writable() && sink.write(piece.data(), piece.size());
        });
        if (!finished) return false;
        sink.done();
        return true;
      },
      [cancel](bool success) {
        if (!success && cancel) cancel();
      });
}

}  // namespace

struct HttpServer::Impl {
  explicit Impl(ServingStack& stack) : stack(stack), routes(stack) {}

  // Runs a route and turns every exception into an error reply.
  void run(const httplib::Request& request, httplib::Response& response,
           const std::function<HttpReply()>& route) {
    ClientConnection connection(request.remote_addr, request.remote_port, request.local_port);
    ScopedClientConnection scoped(connection);
    try {
      send_reply(route(), response);
      return;
    } catch (const ApiError& error) {
      log::info("{} {}: {} {}", request.method, request.path, error.status(), error.what());
      send_error(response, error.status(), error.what());
    } catch (const Error& error) {
      const int status = status_for(error.kind());
      log_failure(request, status, error.what());
      send_error(response, status,
                 status == 500 ? std::string("Internal server error: ") + error.what()
                               : std::string(error.what()));
    } catch (const std::exception& error) {
      log_failure(request, 500, error.what());
      send_error(response, 500, std::string("Internal server error: ") + error.what());
    }
  }

  static void log_failure(const httplib::Request& request, int status, const char* message) {
    if (status >= 500) {
      log::error("{} {}: {} {}", request.method, request.path, status, message);
    } else {
      log::info("{} {}: {} {}", request.method, request.path, status, message);
    }
  }

  // SGLang's API-key middleware: every route but /health* needs
  // "Authorization: Bearer KEY" when --api-key is set.
  httplib::Server::HandlerResponse check_api_key(const httplib::Request& request,
                                                 httplib::Response& response) const {
    const std::string& key = stack.options.api_key;
    if (key.empty() || request.method == "OPTIONS" || request.path.rfind("/health", 0) == 0) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    if (request.get_header_value("Authorization") == "Bearer " + key) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    log::info("{} {}: 401 missing or wrong API key", request.method, request.path);
    response.status = 401;
    response.set_content(R"({"error":"Unauthorized"})", "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }

  void register_routes() {
    server.set_pre_routing_handler(
        [this](const httplib::Request& request, httplib::Response& response) {
          // Debian's httplib gzips replies when the client accepts it, and a
          // gzip stream holds SSE chunks back until it ends. SGLang (uvicorn)
          // sends replies uncompressed, so drop the header. The Request is the
          // server's own non-const object, which makes the cast safe.
          const_cast<httplib::Request&>(request).headers.erase("Accept-Encoding");
          return check_api_key(request, response);
        });
    // Unknown routes get FastAPI's body; errors set by the routes keep theirs.
    server.set_error_handler([](const httplib::Request&, httplib::Response& response) {
      if (response.body.empty() && response.status == 404) {
        response.set_content(R"({"detail":"Not Found"})", "application/json");
      }
    });

    server.Get("/health", [](const httplib::Request&, httplib::Response& response) {
      response.status = 200;
    });
    register_native_routes();
    register_parser_routes();

    server.Post("/v1/chat/completions",
                [this](const httplib::Request& request, httplib::Response& response) {
                  run(request, response, [&] { return routes.chat_completions(request.body); });
                });
    server.Get("/v1/models", [this](const httplib::Request& request, httplib::Response& response) {
      run(request, response, [&] { return routes.models(); });
    });
    server.Get(R"(/v1/models/(.+))",
               [this](const httplib::Request& request, httplib::Response& response) {
                 run(request, response, [&] { return routes.model(request.matches[1]); });
               });
    server.Get("/get_model_info",
               [this](const httplib::Request& request, httplib::Response& response) {
                 run(request, response, [&] { return routes.model_info(); });
               });
    for (const char* path : {"/v1/tokenize", "/tokenize"}) {
      server.Post(path, [this](const httplib::Request& request, httplib::Response& response) {
        run(request, response, [&] { return routes.tokenize(request.body); });
      });
    }
    for (const char* path : {"/v1/detokenize", "/detokenize"}) {
      server.Post(path, [this](const httplib::Request& request, httplib::Response& response) {
        run(request, response, [&] { return routes.detokenize(request.body); });
      });
    }
  }

  // Registers handler(request body) for path under each HTTP method given.
  template <typename Handler>
  void add_route(std::initializer_list<const char*> methods, const char* path, Handler handler) {
    for (std::string_view method : methods) {
      auto wrapped = [this, handler](const httplib::Request& request,
                                     httplib::Response& response) {
        run(request, response, [&] { return handler(request.body); });
      };
      if (method == "GET") server.Get(path, wrapped);
      else server.Post(path, wrapped);
    }
  }

  void register_native_routes() {
    add_route({"POST"}, "/generate", [this](const std::string& body) { return native.generate(body); });
    add_route({"POST"}, "/v1/completions",
              [this](const std::string& body) { return native.completions(body); });
    add_route({"GET"}, "/get_server_info", [this](const std::string&) { return native.server_info(); });
    add_route({"GET", "POST"}, "/flush_cache",
              [this](const std::string&) { return native.flush_cache(); });
    add_route({"GET"}, "/health_generate",
              [this](const std::string&) { return native.health_generate(); });
    if (stack.options.enable_metrics) {
      add_route({"GET"}, "/metrics", [this](const std::string&) { return native.metrics(); });
    }
  }

  void register_parser_routes() {
    add_route({"POST"}, "/parse_function_call",
              [this](const std::string& body) { return parsers.parse_function_call(body); });
    add_route({"POST"}, "/separate_reasoning",
              [this](const std::string& body) { return parsers.separate_reasoning(body); });
  }

  ServingStack& stack;
  ApiRoutes routes;
  NativeRoutes native{stack};
  ParserRoutes parsers{stack};
  httplib::Server server;
};

HttpServer::HttpServer(ServingStack& stack) : impl_(std::make_unique<Impl>(stack)) {
  impl_->server.new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  // httplib's default also sets SO_REUSEPORT, which lets a second server
  // share a busy port silently. Only SO_REUSEADDR, so that bind() fails instead.
  impl_->server.set_socket_options([](socket_t socket) {
    int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  impl_->register_routes();
}

HttpServer::~HttpServer() = default;

bool HttpServer::bind() {
  const ServeOptions& options = impl_->stack.options;
  if (!impl_->server.bind_to_port(options.host, options.port)) {
    log::error("cannot listen on {}:{}; the port may be in use (choose another with --port)",
               options.host, options.port);
    return false;
  }
  return true;
}

void HttpServer::serve() {
  const ServeOptions& options = impl_->stack.options;
  log::info("Listening on http://{}:{}", options.host, options.port);
  log::info("The server is fired up and ready to roll!");
  impl_->server.listen_after_bind();
}

void HttpServer::stop() { impl_->server.stop(); }

}  // namespace glyph::server
