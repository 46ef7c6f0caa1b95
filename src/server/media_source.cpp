#include "server/media_source.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <system_error>

#include <curl/curl.h>

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

// curl_global_init is not thread-safe before libcurl 7.84, and the server
// fetches from several request threads at once.
void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) {
      throw_error(ErrorKind::kInternal, "curl_global_init failed: {}", curl_easy_strerror(code));
    }
  });
}

// url without the "user:password@" that curl would read as credentials, which
// messages must not echo. curl ends the authority at the first '/', '?' or '#'.
std::string without_credentials(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const size_t authority_start = scheme_end + 3;
  const size_t authority_end = std::min(url.find_first_of("/?#", authority_start), url.size());
  const size_t at = url.substr(0, authority_end).rfind('@');
  if (at == std::string_view::npos || at < authority_start) return std::string(url);
  return std::string(url.substr(0, authority_start)) + std::string(url.substr(at + 1));
}

// The form of a URL that messages show.
std::string shown_url(std::string_view url) { return shorten(without_credentials(url)); }

// Cap on the size of one response's header lines, status line included.
// libcurl 7.88 stops at 300 KiB with a bare CURLE_RECV_ERROR ("Failure when
// receiving data from the peer"), so this lower cap also gives a clear message.
constexpr size_t kMaxResponseHeaderBytes = size_t{64} << 10;

// One fetch's response, filled by the curl callbacks, which stop the
// transfer as soon as a limit is crossed.
struct FetchState {
  enum class Stop { kNone, kHeadersTooLarge, kBodyTooLarge, kNotOk };

  CURL* handle = nullptr;
  int64_t max_body_bytes = 0;
  Stop stop = Stop::kNone;
  size_t header_bytes = 0;
  int64_t declared_length = -1;  // Content-Length, or -1 without one.
  std::string location;          // Location header as sent.
  long status = 0;               // HTTP status of the final (non-1xx) response.
  int64_t received_body_bytes = 0;  // Set when the body passed the limit.
  std::vector<uint8_t> body;
};

std::string_view trim_header_value(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) {
    value.remove_suffix(1);
  }
  return value;
}

// CURLOPT_HEADERFUNCTION: curl calls it once per header line. Returning less
// than the line's size aborts the transfer with CURLE_WRITE_ERROR.
size_t receive_header(char* data, size_t size, size_t count, void* user_data) {
  auto& state = *static_cast<FetchState*>(user_data);
  const size_t length = size * count;
  state.header_bytes += length;
  if (state.header_bytes > kMaxResponseHeaderBytes) {
    state.stop = FetchState::Stop::kHeadersTooLarge;
    return 0;
  }

  const std::string_view line(data, length);
  if (starts_with_ignoring_case(line, "http/")) {
    // A status line starts a new response, as after "100 Continue".
    state.declared_length = -1;
    state.location.clear();
    return length;
  }
  if (starts_with_ignoring_case(line, "location:")) {
    state.location = std::string(trim_header_value(line.substr(9)));
    return length;
  }
  if (starts_with_ignoring_case(line, "content-length:")) {
    const std::string_view value = trim_header_value(line.substr(15));
    int64_t declared = -1;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), declared);
    if (error == std::errc() && end == value.data() + value.size()) {
      state.declared_length = declared;
    }
    return length;
  }
  if (!trim_header_value(line).empty()) return length;

  // A blank line ends one response's headers.
  long status = 0;
  curl_easy_getinfo(state.handle, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 100 && status < 200) return length;  // Another response follows.
  state.status = status;
  if (status != 200) {
    // The body of an error or a redirect is not needed.
    state.stop = FetchState::Stop::kNotOk;
    return 0;
  }
  if (state.declared_length > state.max_body_bytes) {
    state.stop = FetchState::Stop::kBodyTooLarge;
    return 0;
  }
  return length;
}

// CURLOPT_WRITEFUNCTION: curl calls it with each piece of the body.
size_t receive_body(char* data, size_t size, size_t count, void* user_data) {
  auto& state = *static_cast<FetchState*>(user_data);
  const size_t length = size * count;
  const int64_t total = static_cast<int64_t>(state.body.size() + length);
  if (total > state.max_body_bytes) {
    state.received_body_bytes = total;
    state.stop = FetchState::Stop::kBodyTooLarge;
    return 0;
  }
  state.body.insert(state.body.end(), data, data + length);
  return length;
}

// The reason a transfer failed, for "could not fetch URL: ...". Timeouts and
// the stops of the callbacks are reported before this is called.
std::string describe_fetch_error(CURLcode code, const FetchState& state) {
  const std::string reason = curl_easy_strerror(code);
  switch (code) {
    case CURLE_PARTIAL_FILE:
      if (state.declared_length < 0) return reason;
      return fmt::format("{} (the server closed the connection after {} of {} bytes)", reason,
                         state.body.size(), state.declared_length);
    case CURLE_SSL_CONNECT_ERROR:
      return reason + " (is it an https URL for a plain http server?)";
    case CURLE_PEER_FAILED_VERIFICATION:
      return reason + " (the server's TLS certificate did not verify)";
    default:
      return reason;
  }
}

// Sets the options every fetch uses; see fetch_url for the reasons.
void configure_fetch(CURL* handle, const std::string& url, FetchState& state,
                     const MediaSourceOptions& options) {
  // Zero would mean no limit, so the deadline is at least 1 ms.
  const long timeout_ms =
      std::max(1L, static_cast<long>(std::ceil(options.fetch_timeout_seconds * 1000.0)));
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_PROXY, "");
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "glyph.cpp");
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, receive_header);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &state);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, receive_body);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &state);
}

// Resolves a Location header against the request URL, as curl does when it
// follows redirects. Returns location unchanged if either does not parse.
std::string resolve_location(std::string_view url, const std::string& location) {
  const std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), curl_url_cleanup);
  if (parsed == nullptr ||
      curl_url_set(parsed.get(), CURLUPART_URL, std::string(url).c_str(), 0) != CURLUE_OK ||
      curl_url_set(parsed.get(), CURLUPART_URL, location.c_str(), 0) != CURLUE_OK) {
    return location;
  }
  char* resolved = nullptr;
  if (curl_url_get(parsed.get(), CURLUPART_URL, &resolved, 0) != CURLUE_OK) return location;
  std::string result(resolved);
  curl_free(resolved);
  return result;
}

// Throws the glyph::Error for a fetch that did not end with a whole 200 response.
void check_fetch_result(CURLcode code, std::string_view url, const FetchState& state,
                        const MediaSourceOptions& options) {
  // libcurl 7.88 rejects a single header line longer than 100 KiB with
  // CURLE_OUT_OF_MEMORY before calling the header callback. Such a line alone
  // is over the cap on all headers.
  const bool line_too_long = code == CURLE_OUT_OF_MEMORY && state.status == 0;
  switch (line_too_long ? FetchState::Stop::kHeadersTooLarge : state.stop) {
    case FetchState::Stop::kHeadersTooLarge:
      throw_error(ErrorKind::kInvalidRequest,
                  "could not fetch {}: the response headers exceed the limit of {} bytes",
                  shown_url(url), kMaxResponseHeaderBytes);
    case FetchState::Stop::kBodyTooLarge:
      // A Content-Length above the limit gives the exact size. Otherwise the
      // body was cut off once it passed the limit.
      check_size(state.declared_length, options);
      throw_error(ErrorKind::kInvalidRequest,
                  "the image is at least {} bytes, above the limit of {} bytes; send a smaller "
                  "image",
                  state.received_body_bytes, options.max_image_bytes);
    case FetchState::Stop::kNotOk:
      break;
    case FetchState::Stop::kNone:
      if (code == CURLE_OPERATION_TIMEDOUT) {
        throw_error(ErrorKind::kInvalidRequest,
                    "fetching {} took longer than {} s; send the image as a data: URL",
                    shown_url(url), options.fetch_timeout_seconds);
      }
      if (code != CURLE_OK) {
        throw_error(ErrorKind::kInvalidRequest, "could not fetch {}: {}", shown_url(url),
                    describe_fetch_error(code, state));
      }
      break;
  }

  if (state.status >= 300 && state.status < 400) {
    const std::string target =
        state.location.empty() ? "" : resolve_location(url, state.location);
    throw_error(ErrorKind::kInvalidRequest,
                "fetching {} returned HTTP {}, a redirect to {}; redirects are not followed, so "
                "send the final URL",
                shown_url(url), state.status,
                target.empty() ? "(no Location header)" : shown_url(target));
  }
  if (state.status != 200) {
    throw_error(ErrorKind::kInvalidRequest, "fetching {} returned HTTP {}", shown_url(url),
                state.status);
  }
}

// Fetches an http(s) URL with libcurl under one deadline for the whole
// exchange. Only http and https are allowed, also as redirect targets.
// Redirects are not followed: --allow-remote-media allows the URLs clients
// send, not wherever those servers point. Proxies named in the environment are
// ignored, TLS certificates are verified, and credentials in the URL
// (user:password@host) are sent as curl parses them but never shown in
// messages. CURLOPT_NOSIGNAL keeps curl from using signals, which are
// process-wide, for its timeouts.
std::vector<uint8_t> fetch_url(std::string_view url, const MediaSourceOptions& options) {
  if (!options.allow_remote_media) {
    throw_error(ErrorKind::kInvalidRequest,
                "image URLs are disabled ({}); start the server with --allow-remote-media, or "
                "send the image as a data: URL",
                shown_url(url));
  }
  init_curl_once();
  const std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> handle(curl_easy_init(),
                                                                   curl_easy_cleanup);
  GLYPH_CHECK(handle != nullptr, "curl_easy_init failed");

  FetchState state;
  state.handle = handle.get();
  state.max_body_bytes = options.max_image_bytes;
  configure_fetch(handle.get(), std::string(url), state, options);
  const CURLcode code = curl_easy_perform(handle.get());
  check_fetch_result(code, url, state, options);
  return std::move(state.body);
}

// A file: URL's path with %XX escapes decoded (RFC 8089); other text is kept.
std::string percent_decoded(std::string_view path) {
  std::string decoded;
  for (size_t i = 0; i < path.size(); ++i) {
    int value = 0;
    if (path[i] == '%' && i + 2 < path.size() &&
        std::from_chars(path.data() + i + 1, path.data() + i + 3, value, 16).ptr ==
            path.data() + i + 3) {
      decoded.push_back(static_cast<char>(value));
      i += 2;
    } else {
      decoded.push_back(path[i]);
    }
  }
  return decoded;
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
    return read_local_file(percent_decoded(reference.substr(16)), options);
  }
  if (starts_with_ignoring_case(reference, "file://")) {
    return read_local_file(percent_decoded(reference.substr(7)), options);
  }
  // Bare base64 never starts with "/" or "." and never has a "."; paths usually do.
  const bool looks_like_path = reference.starts_with('/') || reference.starts_with('.') ||
                               reference.find('.') != std::string_view::npos;
  // As SGLang does, an existing file wins over base64 that happens to decode.
  // A reference longer than PATH_MAX (4096 on Linux) cannot name a file.
  constexpr size_t kMaxPath = 4096;
  std::error_code error;
  const bool is_allowed_file =
      !options.allowed_local_media_path.empty() && reference.size() < kMaxPath &&
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
