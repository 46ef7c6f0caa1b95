// Image sources. data: URLs and bare base64 are always read. Local files are
// read only under --allowed-local-media-path, and http(s) URLs only with
// --allow-remote-media, within a size and a time limit.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace glyph::server {

struct MediaSourceOptions {
  // SGLang's image_data also takes bare base64; chat image_url parts do not.
  bool allow_bare_base64 = false;
  std::string allowed_local_media_path;  // Empty: no local files.
  bool allow_remote_media = false;
  double fetch_timeout_seconds = 10.0;
  int64_t max_image_bytes = int64_t{64} << 20;  // Encoded size, from any source.
};

// Reads the bytes an image reference names: "data:image/...;base64,...",
// "file:///abs/path", "/abs/path" or "relative/path" (resolved against the
// allowed directory), "http(s)://...", or, with allow_bare_base64, base64
// that is not a path. Throws glyph::Error(kInvalidRequest) saying what to fix.
std::vector<uint8_t> read_media_bytes(std::string_view reference,
                                      const MediaSourceOptions& options);

// Standard base64 (RFC 4648) with optional padding; ASCII whitespace is
// skipped. Returns false for any other character or a bad length.
bool decode_base64(std::string_view text, std::vector<uint8_t>& bytes);

}  // namespace glyph::server
