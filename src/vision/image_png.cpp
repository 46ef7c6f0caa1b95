// PNG through libpng, converted to RGB as Pillow 13's convert("RGB") does.
//
// libpng reports errors by longjmp to the setjmp in png_step, so every libpng
// call runs inside png_step and no C++ object with a destructor is created
// between the setjmp and the libpng call (a longjmp past one is undefined).

#include <png.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "core/error.h"
#include "vision/image.h"
#include "vision/image_codecs.h"

namespace glyph::vision {
namespace {

constexpr std::string_view kFormat = "PNG";

struct PngSource {
  std::span<const uint8_t> bytes;
  size_t offset = 0;
  bool ran_out = false;  // The decoder asked for bytes past the end.
  char message[256] = {};
};

void read_from_source(png_structp png, png_bytep out, size_t length) {
  auto* source = static_cast<PngSource*>(png_get_io_ptr(png));
  if (length > source->bytes.size() - source->offset) {
    source->ran_out = true;
    png_error(png, "the data ends early");
  }
  std::memcpy(out, source->bytes.data() + source->offset, length);
  source->offset += length;
}

void store_error(png_structp png, png_const_charp message) {
  auto* source = static_cast<PngSource*>(png_get_error_ptr(png));
  std::snprintf(source->message, sizeof(source->message), "%s", message);
  png_longjmp(png, 1);
}

void ignore_warning(png_structp, png_const_charp) {}

// Runs one libpng step; returns false when libpng reported an error.
template <typename Step>
bool png_step(png_structp png, Step&& step) {
  if (setjmp(png_jmpbuf(png))) {
    return false;
  }
  step();
  return true;
}

class PngReadHandle {
 public:
  explicit PngReadHandle(PngSource* source) {
    png_ = png_create_read_struct(PNG_LIBPNG_VER_STRING, source, store_error, ignore_warning);
    if (png_ == nullptr) {
      throw_error(ErrorKind::kInternal, "libpng could not create a PNG reader");
    }
    info_ = png_create_info_struct(png_);
    if (info_ == nullptr) {
      png_destroy_read_struct(&png_, nullptr, nullptr);
      throw_error(ErrorKind::kInternal, "libpng could not create a PNG info struct");
    }
    png_set_read_fn(png_, source, read_from_source);
  }
  ~PngReadHandle() { png_destroy_read_struct(&png_, &info_, nullptr); }
  PngReadHandle(const PngReadHandle&) = delete;
  PngReadHandle& operator=(const PngReadHandle&) = delete;

  png_structp png() const { return png_; }
  png_infop info() const { return info_; }

 private:
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
};

// The IDAT chunks' data, in file order, up to IEND.
std::vector<std::span<const uint8_t>> idat_chunks(std::span<const uint8_t> bytes) {
  constexpr size_t kSignature = 8;
  std::vector<std::span<const uint8_t>> chunks;
  for (size_t offset = kSignature; offset + 8 <= bytes.size();) {
    const uint32_t length = (uint32_t{bytes[offset]} << 24) | (uint32_t{bytes[offset + 1]} << 16) |
                            (uint32_t{bytes[offset + 2]} << 8) | uint32_t{bytes[offset + 3]};
    const std::string_view type(reinterpret_cast<const char*>(bytes.data() + offset + 4), 4);
    if (type == "IEND") break;
    const size_t data_start = offset + 8;
    if (type == "IDAT") {
      const size_t available = bytes.size() - std::min(bytes.size(), data_start);
      chunks.push_back(bytes.subspan(std::min(bytes.size(), data_start),
                                     std::min<size_t>(length, available)));
    }
    offset = data_start + static_cast<size_t>(length) + 4;  // Data, then the CRC.
  }
  return chunks;
}

// Rejects image data that inflates to more than the image needs. libpng
// inflates every remaining IDAT byte after the last row to find the end of
// the zlib stream, so a small image followed by gigabytes of deflated zeros
// would cost minutes of CPU. This pass inflates at most the image's own size
// plus a margin into a small buffer, which costs about as much as the decode
// itself. Truncated or corrupt streams are left for libpng to report.
void check_inflated_size(std::span<const uint8_t> bytes, int64_t width, int64_t height,
                         int bit_depth, int color_type) {
  int samples = 1;
  if (color_type == PNG_COLOR_TYPE_RGB) samples = 3;
  if (color_type == PNG_COLOR_TYPE_GRAY_ALPHA) samples = 2;
  if (color_type == PNG_COLOR_TYPE_RGB_ALPHA) samples = 4;
  // One filter byte a row; Adam7 interlacing adds at most 7 more rows' worth of filter bytes
  // and partial bytes, which the per-row margin covers.
  const int64_t row_bytes = 1 + (width * samples * bit_depth + 7) / 8;
  const int64_t limit = height * (row_bytes + 16) + 1024;

  z_stream stream{};
  if (inflateInit(&stream) != Z_OK) {
    throw_error(ErrorKind::kInternal, "zlib could not start an inflate stream");
  }
  std::array<uint8_t, 65536> scratch;
  int64_t inflated = 0;
  int status = Z_OK;
  for (const std::span<const uint8_t> chunk : idat_chunks(bytes)) {
    stream.next_in = const_cast<Bytef*>(chunk.data());
    stream.avail_in = static_cast<uInt>(chunk.size());
    while (stream.avail_in > 0 && status == Z_OK && inflated <= limit) {
      stream.next_out = scratch.data();
      stream.avail_out = static_cast<uInt>(scratch.size());
      status = inflate(&stream, Z_NO_FLUSH);
      inflated += static_cast<int64_t>(scratch.size() - stream.avail_out);
      if (status == Z_BUF_ERROR) status = Z_OK;  // Needs the next chunk.
    }
    if (status != Z_OK || inflated > limit) break;
  }
  inflateEnd(&stream);
  if (inflated > limit) {
    detail::throw_corrupt(kFormat,
                          fmt::format("its image data inflates to more than {} bytes, the most a "
                                      "{}x{} image needs",
                                      limit, width, height));
  }
}

[[noreturn]] void throw_png_failure(const PngSource& source) {
  if (source.ran_out) {
    detail::throw_truncated(kFormat);
  }
  detail::throw_corrupt(kFormat, source.message);
}

}  // namespace

namespace detail {

Image decode_png(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  PngSource source{.bytes = bytes};
  PngReadHandle handle(&source);
  png_structp png = handle.png();
  png_infop info = handle.info();

  // Size limits are ours (DecodeLimits), not libpng's default of 1,000,000
  // pixels a side.
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
  if (!png_step(png, [&] { png_read_info(png, info); })) {
    throw_png_failure(source);
  }
  const int64_t width = png_get_image_width(png, info);
  const int64_t height = png_get_image_height(png, info);
  check_image_size(kFormat, width, height, limits);

  const int bit_depth = png_get_bit_depth(png, info);
  const int color_type = png_get_color_type(png, info);
  check_inflated_size(bytes, width, height, bit_depth, color_type);
  // Pillow opens 16-bit greyscale as mode I;16, and I;16 -> RGB clamps each
  // value to 255 instead of taking the high byte, so that case keeps all
  // 16 bits here. Every other 16-bit layout keeps the high byte, as Pillow's
  // ";16B" unpackers do.
  const bool clamp_gray16 = bit_depth == 16 && color_type == PNG_COLOR_TYPE_GRAY;
  int channels = 0;
  size_t row_bytes = 0;
  const bool transformed = png_step(png, [&] {
    if (!clamp_gray16) {
      png_set_expand(png);  // Palette -> RGB, low-bit greyscale -> 8 bits, tRNS -> alpha.
      png_set_strip_16(png);
      png_set_gray_to_rgb(png);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    channels = png_get_channels(png, info);
    row_bytes = png_get_rowbytes(png, info);
  });
  if (!transformed) {
    throw_png_failure(source);
  }
  const bool layout_ok = clamp_gray16
                             ? (channels == 1 && row_bytes == static_cast<size_t>(width) * 2)
                             : ((channels == 3 || channels == 4) &&
                                row_bytes == static_cast<size_t>(width * channels));
  if (!layout_ok) {
    throw_error(ErrorKind::kInternal,
                "libpng returned {} channels and {} bytes a row for a {}x{} PNG (bit depth {}, "
                "color type {})",
                channels, row_bytes, width, height, bit_depth, color_type);
  }

  std::vector<uint8_t> pixels(row_bytes * static_cast<size_t>(height));
  std::vector<png_bytep> rows(static_cast<size_t>(height));
  for (size_t y = 0; y < rows.size(); ++y) {
    rows[y] = pixels.data() + y * row_bytes;
  }
  if (!png_step(png, [&] { png_read_image(png, rows.data()); })) {
    throw_png_failure(source);
  }
  // The IEND chunk is not read: like Pillow, a file that ends after its
  // last image row decodes.

  Image image = make_rgb_image(width, height);
  const size_t count = static_cast<size_t>(width) * static_cast<size_t>(height);
  uint8_t* out = image.rgb.data();
  if (clamp_gray16) {
    for (size_t i = 0; i < count; ++i) {
      const int value = (pixels[2 * i] << 8) | pixels[2 * i + 1];
      const auto gray = static_cast<uint8_t>(std::min(value, 255));
      out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = gray;
    }
  } else if (channels == 3) {
    std::memcpy(out, pixels.data(), count * 3);
  } else {
    // RGBA -> RGB drops alpha without compositing, as Pillow does.
    for (size_t i = 0; i < count; ++i) {
      std::memcpy(out + 3 * i, pixels.data() + 4 * i, 3);
    }
  }
  return image;
}

}  // namespace detail

namespace {

struct PngSink {
  std::vector<uint8_t> bytes;
  char message[256] = {};
};

void write_to_sink(png_structp png, png_bytep data, size_t length) {
  auto* sink = static_cast<PngSink*>(png_get_io_ptr(png));
  bool allocated = true;
  try {
    sink->bytes.insert(sink->bytes.end(), data, data + length);
  } catch (const std::bad_alloc&) {
    allocated = false;
  }
  // png_error longjmps, so it must not run inside the catch block.
  if (!allocated) {
    png_error(png, "out of memory for the encoded PNG");
  }
}

void flush_sink(png_structp) {}

void store_write_error(png_structp png, png_const_charp message) {
  auto* sink = static_cast<PngSink*>(png_get_error_ptr(png));
  std::snprintf(sink->message, sizeof(sink->message), "%s", message);
  png_longjmp(png, 1);
}

class PngWriteHandle {
 public:
  explicit PngWriteHandle(PngSink* sink) {
    png_ = png_create_write_struct(PNG_LIBPNG_VER_STRING, sink, store_write_error, ignore_warning);
    if (png_ == nullptr) {
      throw_error(ErrorKind::kInternal, "libpng could not create a PNG writer");
    }
    info_ = png_create_info_struct(png_);
    if (info_ == nullptr) {
      png_destroy_write_struct(&png_, nullptr);
      throw_error(ErrorKind::kInternal, "libpng could not create a PNG info struct");
    }
    png_set_write_fn(png_, sink, write_to_sink, flush_sink);
  }
  ~PngWriteHandle() { png_destroy_write_struct(&png_, &info_); }
  PngWriteHandle(const PngWriteHandle&) = delete;
  PngWriteHandle& operator=(const PngWriteHandle&) = delete;

  png_structp png() const { return png_; }
  png_infop info() const { return info_; }

 private:
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
};

}  // namespace

std::vector<uint8_t> encode_png(const Image& image) {
  const size_t expected = static_cast<size_t>(std::max(image.width, 0)) *
                          static_cast<size_t>(std::max(image.height, 0)) * 3;
  if (image.width <= 0 || image.height <= 0 || image.rgb.size() != expected) {
    throw_error(ErrorKind::kInternal, "cannot encode a {}x{} image with {} RGB bytes as PNG",
                image.width, image.height, image.rgb.size());
  }

  PngSink sink;
  PngWriteHandle handle(&sink);
  png_structp png = handle.png();
  png_infop info = handle.info();
  std::vector<png_bytep> rows(static_cast<size_t>(image.height));
  for (size_t y = 0; y < rows.size(); ++y) {
    // libpng's row type is not const, but png_write_image only reads.
    rows[y] = const_cast<uint8_t*>(image.rgb.data()) + y * static_cast<size_t>(image.width) * 3;
  }

  // Fixed settings and no tIME chunk: the same pixels give the same bytes
  // for a given zlib build.
  const bool written = png_step(png, [&] {
    png_set_IHDR(png, info, static_cast<png_uint_32>(image.width),
                 static_cast<png_uint_32>(image.height), 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 6);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_ALL_FILTERS);
    png_write_info(png, info);
    png_write_image(png, rows.data());
    png_write_end(png, nullptr);
  });
  if (!written) {
    throw_error(ErrorKind::kInternal, "libpng failed to encode a {}x{} PNG: {}", image.width,
                image.height, sink.message);
  }
  return std::move(sink.bytes);
}

}  // namespace glyph::vision
