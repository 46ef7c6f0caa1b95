// The per-format decoders behind decode_image, and the checks they share.
// Each decoder is called only on bytes whose signature matched its format.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "vision/image.h"

namespace glyph::vision::detail {

Image decode_png(std::span<const uint8_t> bytes, const DecodeLimits& limits);
Image decode_jpeg(std::span<const uint8_t> bytes, const DecodeLimits& limits);
Image decode_webp(std::span<const uint8_t> bytes, const DecodeLimits& limits);
Image decode_gif(std::span<const uint8_t> bytes, const DecodeLimits& limits);

// Throws kInvalidRequest unless 0 < width, 0 < height and width * height is
// within limits.max_pixels. Decoders call it with the header's size before
// they allocate pixel memory.
void check_image_size(std::string_view format, int64_t width, int64_t height,
                      const DecodeLimits& limits);

// Allocates the RGB buffer of an image whose size check_image_size accepted.
Image make_rgb_image(int64_t width, int64_t height);

[[noreturn]] void throw_truncated(std::string_view format);
[[noreturn]] void throw_corrupt(std::string_view format, std::string_view detail);

}  // namespace glyph::vision::detail
