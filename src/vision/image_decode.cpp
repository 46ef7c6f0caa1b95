// decode_image: picks the codec from the signature and applies the limits
// every format shares.

#include <cstring>

#include "core/error.h"
#include "vision/image.h"
#include "vision/image_codecs.h"

namespace glyph::vision {
namespace detail {

void check_image_size(std::string_view format, int64_t width, int64_t height,
                      const DecodeLimits& limits) {
  if (width <= 0 || height <= 0) {
    throw_error(ErrorKind::kInvalidRequest,
                "image is {}x{} pixels: a {} image needs a width and height of at least 1", width,
                height, format);
  }
  // Both sides come from 32-bit header fields, so the product fits in int64.
  const int64_t pixels = width * height;
  if (pixels > limits.max_pixels) {
    throw_error(ErrorKind::kInvalidRequest,
                "image is {}x{} = {} pixels, above the limit of {}: send a smaller image", width,
                height, pixels, limits.max_pixels);
  }
  if (limits.check_size) limits.check_size(width, height);
}

Image make_rgb_image(int64_t width, int64_t height) {
  Image image;
  image.width = static_cast<int32_t>(width);
  image.height = static_cast<int32_t>(height);
  image.rgb.resize(static_cast<size_t>(width) * static_cast<size_t>(height) * 3);
  return image;
}

void throw_truncated(std::string_view format) {
  throw_error(ErrorKind::kInvalidRequest,
              "image is truncated: the {} data ends before the image does; send the whole file",
              format);
}

void throw_corrupt(std::string_view format, std::string_view detail) {
  throw_error(ErrorKind::kInvalidRequest, "image is not a valid {} file: {}", format, detail);
}

}  // namespace detail

namespace {

enum class Format { kUnknown, kPng, kJpeg, kWebp, kGif };

bool starts_with(std::span<const uint8_t> bytes, std::string_view prefix) {
  return bytes.size() >= prefix.size() &&
         std::memcmp(bytes.data(), prefix.data(), prefix.size()) == 0;
}

// The signatures Pillow 13 accepts for these four formats.
Format detect_format(std::span<const uint8_t> bytes) {
  if (starts_with(bytes, "\x89PNG\r\n\x1a\n")) {
    return Format::kPng;
  }
  if (starts_with(bytes, "\xff\xd8\xff")) {
    return Format::kJpeg;
  }
  if (starts_with(bytes, "GIF87a") || starts_with(bytes, "GIF89a")) {
    return Format::kGif;
  }
  if (starts_with(bytes, "RIFF") && bytes.size() >= 16 &&
      std::memcmp(bytes.data() + 8, "WEBP", 4) == 0) {
    return Format::kWebp;
  }
  return Format::kUnknown;
}

}  // namespace

Image decode_image(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  if (bytes.empty()) {
    throw_error(ErrorKind::kInvalidRequest,
                "image data is empty: send PNG, JPEG, WebP or GIF bytes");
  }
  if (static_cast<int64_t>(bytes.size()) > limits.max_bytes) {
    throw_error(ErrorKind::kInvalidRequest,
                "image is {} bytes, above the limit of {} bytes: send a smaller file", bytes.size(),
                limits.max_bytes);
  }

  switch (detect_format(bytes)) {
    case Format::kPng:
      return detail::decode_png(bytes, limits);
    case Format::kJpeg:
      return detail::decode_jpeg(bytes, limits);
    case Format::kWebp:
      return detail::decode_webp(bytes, limits);
    case Format::kGif:
      return detail::decode_gif(bytes, limits);
    case Format::kUnknown:
      break;
  }
  throw_error(ErrorKind::kInvalidRequest,
              "image format not recognised: send PNG, JPEG, WebP or GIF (the first {} bytes match "
              "none of their signatures)",
              bytes.size() < 16 ? bytes.size() : 16);
}

}  // namespace glyph::vision
