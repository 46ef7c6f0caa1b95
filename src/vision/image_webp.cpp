// WebP (still or animated) through libwebpdemux's animation decoder. Pillow 13
// reads every WebP file with that decoder, so the first frame is composited
// on the canvas the same way in both.

#include <webp/decode.h>
#include <webp/demux.h>

#include <cstring>
#include <memory>

#include "core/error.h"
#include "vision/image.h"
#include "vision/image_codecs.h"

namespace glyph::vision::detail {
namespace {

constexpr std::string_view kFormat = "WebP";

struct DemuxDeleter {
  void operator()(WebPDemuxer* demuxer) const { WebPDemuxDelete(demuxer); }
};

struct AnimDecoderDeleter {
  void operator()(WebPAnimDecoder* decoder) const { WebPAnimDecoderDelete(decoder); }
};

// The demuxer stops early both on a cut file and on a whole file without an
// image chunk. The RIFF size field distinguishes the two.
[[noreturn]] void throw_incomplete(std::span<const uint8_t> bytes) {
  const uint64_t riff_size = bytes.size() >= 8
                                 ? (uint64_t{bytes[4]} | uint64_t{bytes[5]} << 8 |
                                    uint64_t{bytes[6]} << 16 | uint64_t{bytes[7]} << 24)
                                 : 0;
  if (bytes.size() < 12 || bytes.size() < riff_size + 8) {
    throw_truncated(kFormat);
  }
  throw_corrupt(kFormat, "no image chunk (VP8, VP8L or ANMF) was found in it");
}

}  // namespace

Image decode_webp(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  const WebPData data{bytes.data(), bytes.size()};

  // The demuxer parses chunk headers only, so the canvas size is known (and
  // checked) before any pixel buffer exists.
  WebPDemuxState state = WEBP_DEMUX_PARSE_ERROR;
  std::unique_ptr<WebPDemuxer, DemuxDeleter> demuxer(WebPDemuxPartial(&data, &state));
  if (demuxer == nullptr || state == WEBP_DEMUX_PARSE_ERROR) {
    if (state == WEBP_DEMUX_PARSING_HEADER) {
      throw_incomplete(bytes);
    }
    throw_corrupt(kFormat, "the RIFF container or its chunk headers are invalid");
  }
  if (state == WEBP_DEMUX_PARSING_HEADER) {
    throw_incomplete(bytes);
  }
  const int64_t width = WebPDemuxGetI(demuxer.get(), WEBP_FF_CANVAS_WIDTH);
  const int64_t height = WebPDemuxGetI(demuxer.get(), WEBP_FF_CANVAS_HEIGHT);
  check_image_size(kFormat, width, height, limits);
  if (state != WEBP_DEMUX_DONE) {
    throw_incomplete(bytes);
  }
  if (WebPDemuxGetI(demuxer.get(), WEBP_FF_FRAME_COUNT) == 0) {
    throw_corrupt(kFormat, "the file contains no image frames");
  }
  demuxer.reset();

  WebPAnimDecoderOptions options;
  if (!WebPAnimDecoderOptionsInit(&options)) {
    throw_error(ErrorKind::kInternal,
                "libwebpdemux version mismatch in WebPAnimDecoderOptionsInit");
  }
  options.color_mode =
      MODE_RGBA;  // Straight alpha: matches Pillow on the lossy fixture with alpha.
  options.use_threads = 0;
  std::unique_ptr<WebPAnimDecoder, AnimDecoderDeleter> decoder(WebPAnimDecoderNew(&data, &options));
  if (decoder == nullptr) {
    throw_corrupt(kFormat, "libwebp could not start decoding it");
  }
  uint8_t* canvas = nullptr;
  int timestamp = 0;
  if (!WebPAnimDecoderGetNext(decoder.get(), &canvas, &timestamp) || canvas == nullptr) {
    throw_corrupt(kFormat, "libwebp could not decode the first frame");
  }

  // RGBA -> RGB drops alpha without compositing, as Pillow's convert("RGB").
  Image image = make_rgb_image(width, height);
  const size_t count = static_cast<size_t>(width) * static_cast<size_t>(height);
  for (size_t i = 0; i < count; ++i) {
    std::memcpy(image.rgb.data() + 3 * i, canvas + 4 * i, 3);
  }
  return image;
}

}  // namespace glyph::vision::detail
