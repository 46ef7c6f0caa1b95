// Decoded images and the codecs that read them: PNG, JPEG, WebP (first frame
// of an animation) and GIF (first frame), always converted to 8-bit RGB the
// way Pillow's convert("RGB") does.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace glyph::vision {

// 8-bit RGB, row-major, 3 bytes per pixel, no row padding.
struct Image {
  int32_t width = 0;
  int32_t height = 0;
  std::vector<uint8_t> rgb;  // [height, width, 3]
};

struct DecodeLimits {
  // Largest width * height accepted, checked from the header before any pixel
  // is decoded so that a decompression bomb costs nothing.
  int64_t max_pixels = int64_t{89'478'485};  // Pillow's MAX_IMAGE_PIXELS.
  int64_t max_bytes = int64_t{64} << 20;     // Encoded size.
  // Called with the size the header gives, after the pixel check and before
  // any pixel is decoded; it may throw to reject the image early.
  std::function<void(int64_t width, int64_t height)> check_size;
};

// Decodes an encoded image, choosing the codec from its first bytes.
// Throws glyph::Error(kInvalidRequest) for empty, unknown, truncated or
// corrupt data and for images over the limits, with a message that names the
// problem (the caller prefixes which image it was).
// NOTE: EXIF orientation is not applied. Pillow's Image.open does not apply it
// either, but transformers' load_image (URLs and paths) does.
Image decode_image(std::span<const uint8_t> bytes, const DecodeLimits& limits = {});

// Encodes 8-bit RGB as PNG with fixed settings, so the same image always
// gives the same bytes.
std::vector<uint8_t> encode_png(const Image& image);

}  // namespace glyph::vision
