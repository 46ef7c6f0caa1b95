#include "server/media_source.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <httplib.h>

#include "core/error.h"

namespace glyph::server {

namespace fs = std::filesystem;

namespace {

// A short form of a reference for messages: long base64 is not echoed back.
std::string shorten(std::string_view reference) {
  constexpr size_t kShown = 48;
  if (reference.size() <= kShown) return std::string(reference);
  return std::string(reference.substr(0, kShown)) + "...";
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

void check_size(int64_t size, const MediaSourceOptions& options) {
  if (size > options.max_image_bytes) {
    throw_error(ErrorKind::kInvalidRequest,
                "the image is {} bytes, above the limit of {} bytes; send a smaller image",
                size, options.max_image_bytes);
  }
}

std::vector<uint8_t> read_data_url(std::string_view url, const MediaSourceOptions& options) {
  const size_t comma = url.find(',');
  if (comma == std::string_view::npos) {
    throw_error(ErrorKind::kInvalidRequest,
                "the data: URL has no comma before its data; send data:image/png;base64,...");
  }
  const std::string_view header = url.substr(0, comma);
  if (header.size() < 7 || header.substr(header.size() - 7) != ";base64") {
    throw_error(ErrorKind::kInvalidRequest,
                "the data: URL is not base64 ({}); send data:image/png;base64,...",
                shorten(header));
  }
  const std::string_view payload = url.substr(comma + 1);
  // Four base64 characters carry three bytes.
  check_size(static_cast<int64_t>(payload.size() / 4 * 3), options);
  std::vector<uint8_t> bytes;
  if (!decode_base64(payload, bytes)) {
    throw_error(ErrorKind::kInvalidRequest,
                "the data: URL's payload is not valid base64; encode the image file with "
                "standard base64");
  }
  return bytes;
}

std::vector<uint8_t> read_local_file(std::string_view reference,
                                     const MediaSourceOptions& options) {
  if (options.allowed_local_media_path.empty()) {
    throw_error(ErrorKind::kInvalidRequest,
                "local image files are disabled ({}); start the server with "
                "--allowed-local-media-path DIR, or send the image as a data: URL",
                shorten(reference));
  }
  std::error_code error;
  fs::path root = fs::weakly_canonical(options.allowed_local_media_path, error);
  if (!root.has_filename()) root = root.parent_path();  // "dir/" iterates with a trailing "".
  fs::path requested(reference);
  if (requested.is_relative()) requested = root / requested;
  std::error_code resolve_error;
  const fs::path resolved = fs::weakly_canonical(requested, resolve_error);
  const auto [root_end, unused] =
      std::mismatch(root.begin(), root.end(), resolved.begin(), resolved.end());
  if (error || resolve_error || root_end != root.end()) {
    throw_error(ErrorKind::kInvalidRequest,
                "the image path {} is outside --allowed-local-media-path {}; only files under "
                "that directory may be read",
                std::string(reference), root.string());
  }
  if (!fs::is_regular_file(resolved, error)) {
    throw_error(ErrorKind::kInvalidRequest, "the image file {} does not exist or is not a file",
                std::string(reference));
  }
  check_size(static_cast<int64_t>(fs::file_size(resolved, error)), options);
  std::ifstream file(resolved, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)),
                             std::istreambuf_iterator<char>());
  if (!file.good() && !file.eof()) {
    throw_error(ErrorKind::kInvalidRequest, "the image file {} could not be read",
                std::string(reference));
  }
  return bytes;
}

std::string describe_fetch_error(httplib::Error error, const MediaSourceOptions& options) {
  switch (error) {
    case httplib::Error::Connection:
      return "the connection failed or was refused";
    case httplib::Error::Read:
      return fmt::format("no complete response within {} s", options.fetch_timeout_seconds);
    case httplib::Error::Write:
      return "the request could not be sent";
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLServerVerification:
      return "the TLS connection failed (is it an https URL for a plain http server?)";
    default:
      return fmt::format("the request failed ({})", httplib::to_string(error));
  }
}

std::vector<uint8_t> fetch_url(std::string_view url, const MediaSourceOptions& options) {
  if (!options.allow_remote_media) {
    throw_error(ErrorKind::kInvalidRequest,
                "image URLs are disabled ({}); start the server with --allow-remote-media, or "
                "send the image as a data: URL",
                shorten(url));
  }
  // scheme://host[:port]/path
  const size_t host_start = url.find("://") + 3;
  const size_t path_start = url.find('/', host_start);
  const std::string origin(url.substr(0, path_start));
  const std::string path = path_start == std::string_view::npos ? "/" : std::string(url.substr(path_start));
  httplib::Client client(origin);
  const auto timeout = std::chrono::duration<double>(options.fetch_timeout_seconds);
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(timeout - seconds);
  client.set_connection_timeout(seconds.count(), micros.count());
  client.set_read_timeout(seconds.count(), micros.count());
  // Redirects are not followed: the flag allows the URLs clients send, not
  // wherever those servers point.
  client.set_follow_location(false);

  std::string body;
  bool too_large = false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool too_slow = false;
  const httplib::Result result = client.Get(path, [&](const char* data, size_t length) {
    body.append(data, length);
    too_large = static_cast<int64_t>(body.size()) > options.max_image_bytes;
    too_slow = std::chrono::steady_clock::now() > deadline;
    return !too_large && !too_slow;
  });
  if (too_large) check_size(static_cast<int64_t>(body.size()), options);
  if (too_slow) {
    throw_error(ErrorKind::kInvalidRequest,
                "fetching {} took longer than {} s; send the image as a data: URL",
                shorten(url), options.fetch_timeout_seconds);
  }
  if (!result) {
    throw_error(ErrorKind::kInvalidRequest, "could not fetch {}: {}", shorten(url),
                describe_fetch_error(result.error(), options));
  }
  if (result->status >= 300 && result->status < 400) {
    throw_error(ErrorKind::kInvalidRequest,
                "fetching {} returned HTTP {}, a redirect to {}; redirects are not followed, so "
                "send the final URL",
                shorten(url), result->status,
                shorten(result->get_header_value("Location")));
  }
  if (result->status != 200) {
    throw_error(ErrorKind::kInvalidRequest, "fetching {} returned HTTP {}", shorten(url),
                result->status);
  }
  return std::vector<uint8_t>(body.begin(), body.end());
}

}  // namespace

bool decode_base64(std::string_view text, std::vector<uint8_t>& bytes) {
  static const std::array<int8_t, 256> values = [] {
    std::array<int8_t, 256> table{};
    table.fill(-1);
    const std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < alphabet.size(); ++i) {
      table[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
    }
    return table;
  }();
  bytes.clear();
  bytes.reserve(text.size() / 4 * 3);
  uint32_t buffer = 0;
  int bits = 0;
  size_t padding = 0;
  size_t symbols = 0;
  for (const char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      ++padding;
      ++symbols;
      continue;
    }
    const int8_t value = values[static_cast<unsigned char>(c)];
    if (value < 0 || padding > 0) return false;  // Data after padding is malformed.
    ++symbols;
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push_back(static_cast<uint8_t>(buffer >> bits));
    }
  }
  if (padding > 2) return false;
  // Unpadded input may end after 2 or 3 characters of a group, never after 1.
  return padding > 0 ? symbols % 4 == 0 : symbols % 4 != 1;
}

std::vector<uint8_t> read_media_bytes(std::string_view reference,
                                      const MediaSourceOptions& options) {
  if (starts_with_ignoring_case(reference, "data:")) return read_data_url(reference, options);
  if (starts_with_ignoring_case(reference, "http://") ||
      starts_with_ignoring_case(reference, "https://")) {
    return fetch_url(reference, options);
  }
  if (starts_with_ignoring_case(reference, "file://localhost/")) {
    return read_local_file(reference.substr(16), options);
  }
  if (starts_with_ignoring_case(reference, "file://")) {
    return read_local_file(reference.substr(7), options);
  }
  // Bare base64 never starts with "/" or "." and never has a "."; paths usually do.
  const bool looks_like_path = reference.starts_with('/') || reference.starts_with('.') ||
                               reference.find('.') != std::string_view::npos;
  // As SGLang does, an existing file wins over base64 that happens to decode.
  std::error_code error;
  const bool is_allowed_file =
      !options.allowed_local_media_path.empty() &&
      fs::exists(fs::path(options.allowed_local_media_path) / fs::path(reference), error);
  std::vector<uint8_t> bytes;
  if (options.allow_bare_base64 && !looks_like_path && !is_allowed_file &&
      decode_base64(reference, bytes)) {
    check_size(static_cast<int64_t>(bytes.size()), options);
    return bytes;
  }
  if (reference.find("://") != std::string_view::npos) {
    throw_error(ErrorKind::kInvalidRequest,
                "the image URL scheme of {} is not supported; send a data:, file:// or "
                "http(s):// URL",
                shorten(reference));
  }
  return read_local_file(reference, options);
}

}  // namespace glyph::server
