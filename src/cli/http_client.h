// A small blocking HTTP/1.1 client for glyph bench and glyph eval, over
// cpp-httplib: GET, POST of JSON, and POST with the body handed over line by
// line as it arrives (for SSE streams). Plain http only.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace glyph::cli {

// A base URL split the way cpp-httplib wants it.
struct BaseUrl {
  std::string scheme_host_port;  // "http://127.0.0.1:30000"
  std::string path_prefix;       // "" or "/prefix", prepended to every path.
};

// Splits "http://host:port/prefix". A URL without a scheme gets "http://".
// Throws std::invalid_argument for https or an empty host.
BaseUrl parse_base_url(std::string_view url);

struct HttpResponse {
  int status = 0;
  std::string reason;  // The status line's reason phrase, such as "Not Found".
  std::string body;    // The whole body, except for 200 replies to post_json_lines.
};

// No HTTP response arrived at all: the connection was refused, reset or timed out.
class HttpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Each call opens its own connection, so one client may serve several threads.
class HttpClient {
 public:
  // `read_timeout_s` bounds the wait for each piece of a response.
  explicit HttpClient(std::string_view base_url, HttpHeaders headers = {},
                      double read_timeout_s = 6 * 3600.0);

  HttpResponse get(const std::string& path) const;
  HttpResponse post_json(const std::string& path, const nlohmann::json& body) const;

  // Posts `body`. While the reply status is 200, each line of the body goes
  // to `on_line`, without its "\n", as soon as it is complete. The last line
  // goes too, even without a "\n". Bodies of other statuses are collected into
  // the returned body. An exception thrown by `on_line` closes the connection
  // and propagates.
  HttpResponse post_json_lines(const std::string& path, const nlohmann::json& body,
                               const std::function<void(std::string_view line)>& on_line) const;

  // The full URL of `path`, for messages.
  std::string url(const std::string& path) const;

 private:
  BaseUrl base_;
  HttpHeaders headers_;
  double read_timeout_s_;
};

// The Authorization header bench_serving sends: "Bearer $OPENAI_API_KEY"
// when that variable is set, else the raw value of $API_KEY, else none.
HttpHeaders auth_headers_from_environment();

}  // namespace glyph::cli
