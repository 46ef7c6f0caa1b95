#include "cli/http_client.h"

#include <chrono>
#include <cstdlib>
#include <exception>

#include <fmt/format.h>
#include <httplib.h>

namespace glyph::cli {

namespace {

httplib::Headers to_httplib_headers(const HttpHeaders& headers) {
  httplib::Headers converted;
  for (const auto& [name, value] : headers) converted.emplace(name, value);
  return converted;
}

std::unique_ptr<httplib::Client> make_client(const BaseUrl& base, double read_timeout_s) {
  auto client = std::make_unique<httplib::Client>(base.scheme_host_port);
  const auto timeout = std::chrono::duration<double>(read_timeout_s);
  client->set_read_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
  client->set_write_timeout(std::chrono::seconds(60));
  return client;
}

// cpp-httplib's error names ("Connection", "Read") as sentences.
std::string describe(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
      return "could not connect; is the server running on that host and port?";
    case httplib::Error::ConnectionTimeout:
      return "the connection timed out";
    case httplib::Error::Read:
      return "the connection closed or timed out while reading the reply";
    case httplib::Error::Write:
      return "the connection closed while sending the request";
    default:
      return "cpp-httplib error " + httplib::to_string(error);
  }
}

[[noreturn]] void throw_transport_error(const std::string& method, const std::string& url,
                                        httplib::Error error) {
  throw HttpError(fmt::format("{} {} failed: {}", method, url, describe(error)));
}

}  // namespace

BaseUrl parse_base_url(std::string_view url) {
  std::string text(url);
  if (text.starts_with("https://")) {
    throw std::invalid_argument(
        fmt::format("{} uses https, which glyph's client does not speak; use http://", text));
  }
  if (!text.starts_with("http://")) text = "http://" + text;

  const size_t host_start = std::string_view("http://").size();
  const size_t path_start = text.find('/', host_start);
  BaseUrl base;
  base.scheme_host_port = text.substr(0, path_start);
  if (path_start != std::string::npos) base.path_prefix = text.substr(path_start);
  while (!base.path_prefix.empty() && base.path_prefix.back() == '/') base.path_prefix.pop_back();
  if (base.scheme_host_port.size() == host_start) {
    throw std::invalid_argument(fmt::format("the URL {} has no host", std::string(url)));
  }
  return base;
}

HttpClient::HttpClient(std::string_view base_url, HttpHeaders headers, double read_timeout_s)
    : base_(parse_base_url(base_url)),
      headers_(std::move(headers)),
      read_timeout_s_(read_timeout_s) {}

std::string HttpClient::url(const std::string& path) const {
  return base_.scheme_host_port + base_.path_prefix + path;
}

HttpResponse HttpClient::get(const std::string& path) const {
  const auto client = make_client(base_, read_timeout_s_);
  const httplib::Result result =
      client->Get(base_.path_prefix + path, to_httplib_headers(headers_));
  if (!result) throw_transport_error("GET", url(path), result.error());
  return {result->status, result->reason, result->body};
}

HttpResponse HttpClient::post_json(const std::string& path, const nlohmann::json& body) const {
  const auto client = make_client(base_, read_timeout_s_);
  const httplib::Result result = client->Post(
      base_.path_prefix + path, to_httplib_headers(headers_),
      body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
  if (!result) throw_transport_error("POST", url(path), result.error());
  return {result->status, result->reason, result->body};
}

HttpResponse HttpClient::post_json_lines(
    const std::string& path, const nlohmann::json& body,
    const std::function<void(std::string_view line)>& on_line) const {
  const auto client = make_client(base_, read_timeout_s_);

  httplib::Request request;
  request.method = "POST";
  request.path = base_.path_prefix + path;
  request.headers = to_httplib_headers(headers_);
  request.set_header("Content-Type", "application/json");
  request.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);

  HttpResponse response;
  std::string pending;  // Bytes of a line that has not ended yet.
  std::exception_ptr callback_error;

  request.response_handler = [&](const httplib::Response& head) {
    response.status = head.status;
    response.reason = head.reason;
    return true;
  };
  request.content_receiver = [&](const char* data, size_t length, uint64_t, uint64_t) {
    if (response.status != 200) {
      response.body.append(data, length);
      return true;
    }
    try {
      pending.append(data, length);
      size_t line_start = 0;
      for (size_t newline = pending.find('\n'); newline != std::string::npos;
           newline = pending.find('\n', line_start)) {
        on_line(std::string_view(pending).substr(line_start, newline - line_start));
        line_start = newline + 1;
      }
      pending.erase(0, line_start);
      return true;
    } catch (...) {
      callback_error = std::current_exception();
      return false;  // Cancels the transfer.
    }
  };

  const httplib::Result result = client->send(request);
  if (callback_error) std::rethrow_exception(callback_error);
  if (!result) throw_transport_error("POST", url(path), result.error());
  if (response.status == 200 && !pending.empty()) on_line(pending);
  return response;
}

HttpHeaders auth_headers_from_environment() {
  if (const char* key = std::getenv("OPENAI_API_KEY"); key != nullptr && *key != '\0') {
    return {{"Authorization", fmt::format("Bearer {}", key)}};
  }
  if (const char* key = std::getenv("API_KEY"); key != nullptr && *key != '\0') {
    return {{"Authorization", key}};
  }
  return {};
}

}  // namespace glyph::cli
