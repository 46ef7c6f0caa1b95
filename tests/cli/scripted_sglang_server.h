// An in-process stand-in for a SGLang server on 127.0.0.1, for testing
// glyph bench and glyph eval end to end without a model. It replies to the
// routes the clients call with scripted bodies and records every request.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace glyph::cli::testing {

struct RecordedRequest {
  std::string method;
  std::string path;
  nlohmann::json body;  // null for GET.
};

class ScriptedSglangServer {
 public:
  // Replies to a non-streaming /generate body.
  using GenerateReply = std::function<nlohmann::json(const nlohmann::json& body)>;

  // `model_path` is what /get_model_info reports.
  explicit ScriptedSglangServer(std::string model_path) : model_path_(std::move(model_path)) {
    using nlohmann::json;
    server_.Get("/v1/models", [this](const httplib::Request& request, httplib::Response& response) {
      record("GET", request.path, nullptr);
      response.set_content(R"({"object": "list", "data": [{"id": "scripted-model"}]})",
                           "application/json");
    });
    server_.Get(
        "/get_model_info", [this](const httplib::Request& request, httplib::Response& response) {
          record("GET", request.path, nullptr);
          response.set_content(json({{"model_path", model_path_}}).dump(), "application/json");
        });
    server_.Get("/get_server_info",
                [this](const httplib::Request& request, httplib::Response& response) {
                  record("GET", request.path, nullptr);
                  response.set_content(R"({"internal_states": [{}], "version": "scripted"})",
                                       "application/json");
                });
    server_.Post("/flush_cache", [this](const httplib::Request& request, httplib::Response&) {
      record("POST", request.path, nullptr);
    });
    server_.Post("/generate", [this](const httplib::Request& request, httplib::Response& response) {
      handle_generate(request, response);
    });

    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("the scripted server could not bind 127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  ~ScriptedSglangServer() {
    server_.stop();
    thread_.join();
  }

  ScriptedSglangServer(const ScriptedSglangServer&) = delete;
  ScriptedSglangServer& operator=(const ScriptedSglangServer&) = delete;

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

  // Streams "text" growing by " tok" per token, two tokens per chunk,
  // `delay_ms` apart; completion_tokens counts all tokens so far.
  void set_chunk_delay_ms(int delay_ms) { chunk_delay_ms_ = delay_ms; }
  // Makes every n-th /generate call (1-based, warmup included) return HTTP 500.
  void fail_every(int n) { fail_every_ = n; }
  void set_generate_reply(GenerateReply reply) {
    std::lock_guard lock(mutex_);
    generate_reply_ = std::move(reply);
  }

  std::vector<RecordedRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::vector<RecordedRequest> requests_to(const std::string& path) const {
    std::vector<RecordedRequest> matching;
    for (const RecordedRequest& request : requests()) {
      if (request.path == path) matching.push_back(request);
    }
    return matching;
  }
  int max_in_flight() const { return max_in_flight_.load(); }

 private:
  void handle_generate(const httplib::Request& request, httplib::Response& response) {
    using nlohmann::json;
    const json body = json::parse(request.body);
    record("POST", request.path, body);

    const int call = ++generate_calls_;
    if (fail_every_ > 0 && call % fail_every_ == 0) {
      response.status = 500;
      response.set_content(R"({"error": {"message": "scripted failure"}})", "application/json");
      return;
    }

    if (!body.value("stream", false)) {
      GenerateReply reply;
      {
        std::lock_guard lock(mutex_);
        reply = generate_reply_;
      }
      const int64_t tokens = body["sampling_params"].value("max_new_tokens", int64_t{0});
      const json answer = reply ? reply(body)
                                : json{{"text", repeated_token(tokens)},
                                       {"meta_info", {{"completion_tokens", tokens}}}};
      response.set_content(answer.dump(), "application/json");
      return;
    }

    const int64_t max_new_tokens = body["sampling_params"]["max_new_tokens"].get<int64_t>();
    const int delay_ms = chunk_delay_ms_;
    track_start();
    response.set_chunked_content_provider(
        "text/event-stream", [this, max_new_tokens, delay_ms, produced = int64_t{0}](
                                 size_t, httplib::DataSink& sink) mutable {
          std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
          if (produced >= max_new_tokens) {
            const std::string done = "data: [DONE]\n\n";
            sink.write(done.data(), done.size());
            // Leave the count before the final chunk frees the client for its next request.
            --in_flight_;
            sink.done();
            return true;
          }
          produced = std::min(produced + 2, max_new_tokens);
          const nlohmann::json chunk = {
              {"text", repeated_token(produced)},
              {"meta_info", {{"completion_tokens", produced}, {"prompt_tokens", 4}}}};
          const std::string line = "data: " + chunk.dump() + "\n\n";
          sink.write(line.data(), line.size());
          return true;
        });
  }

  static std::string repeated_token(int64_t count) {
    std::string text;
    for (int64_t i = 0; i < count; ++i) text += " tok";
    return text;
  }

  void track_start() {
    const int now = ++in_flight_;
    int seen = max_in_flight_.load();
    while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {
    }
  }

  void record(const std::string& method, const std::string& path, nlohmann::json body) {
    std::lock_guard lock(mutex_);
    requests_.push_back({method, path, std::move(body)});
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::string model_path_;
  std::atomic<int> chunk_delay_ms_{2};
  std::atomic<int> fail_every_{0};
  std::atomic<int> generate_calls_{0};
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
  mutable std::mutex mutex_;
  std::vector<RecordedRequest> requests_;
  GenerateReply generate_reply_;
};

}  // namespace glyph::cli::testing
