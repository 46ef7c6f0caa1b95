// GIF (first frame) through giflib, laid out the way Pillow 13 loads frame 0
// and converted to RGB as its convert("RGB") does.

#include <gif_lib.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "core/error.h"
#include "vision/image.h"
#include "vision/image_codecs.h"

namespace glyph::vision::detail {
namespace {

constexpr std::string_view kFormat = "GIF";

struct GifSource {
  std::span<const uint8_t> bytes;
  size_t offset = 0;
  bool ran_out = false;  // giflib asked for bytes past the end.
};

int read_from_source(GifFileType* gif, GifByteType* out, int length) {
  auto* source = static_cast<GifSource*>(gif->UserData);
  const size_t available = source->bytes.size() - source->offset;
  size_t count = static_cast<size_t>(std::max(length, 0));
  if (count > available) {
    source->ran_out = true;
    count = available;
  }
  std::memcpy(out, source->bytes.data() + source->offset, count);
  source->offset += count;
  return static_cast<int>(count);
}

class GifHandle {
 public:
  explicit GifHandle(GifSource* source) {
    int error = 0;
    gif_ = DGifOpen(source, read_from_source, &error);
    if (gif_ == nullptr) {
      if (source->ran_out) {
        throw_truncated(kFormat);
      }
      throw_corrupt(kFormat, GifErrorString(error));
    }
  }
  ~GifHandle() {
    int error = 0;
    DGifCloseFile(gif_, &error);
  }
  GifHandle(const GifHandle&) = delete;
  GifHandle& operator=(const GifHandle&) = delete;

  GifFileType* get() const { return gif_; }

 private:
  GifFileType* gif_ = nullptr;
};

[[noreturn]] void throw_gif_failure(const GifSource& source, const GifFileType* gif) {
  if (source.ran_out) {
    throw_truncated(kFormat);
  }
  const char* detail = GifErrorString(gif->Error);
  throw_corrupt(kFormat, detail != nullptr ? detail : "giflib reported an unknown error");
}

// Reads records up to the first image descriptor. Returns the transparent
// colour index of the graphic control extension before it, or -1.
int read_to_first_frame(GifFileType* gif, const GifSource& source) {
  int transparent_index = -1;
  while (true) {
    GifRecordType record = UNDEFINED_RECORD_TYPE;
    if (DGifGetRecordType(gif, &record) == GIF_ERROR) {
      throw_gif_failure(source, gif);
    }
    if (record == IMAGE_DESC_RECORD_TYPE) {
      if (DGifGetImageDesc(gif) == GIF_ERROR) {
        throw_gif_failure(source, gif);
      }
      return transparent_index;
    }
    if (record == TERMINATE_RECORD_TYPE) {
      throw_corrupt(kFormat, "the file contains no image frames");
    }
    if (record != EXTENSION_RECORD_TYPE) {
      throw_corrupt(kFormat, "unknown record type");
    }
    int code = 0;
    GifByteType* block = nullptr;
    if (DGifGetExtension(gif, &code, &block) == GIF_ERROR) {
      throw_gif_failure(source, gif);
    }
    // block[0] is the sub-block length; a graphic control block is
    // flags, delay (2 bytes), transparent index. Pillow keeps the last one.
    if (code == GRAPHICS_EXT_FUNC_CODE && block != nullptr && block[0] >= 4) {
      transparent_index = (block[1] & 1) ? block[4] : -1;
    }
    while (block != nullptr) {
      if (DGifGetExtensionNext(gif, &block) == GIF_ERROR) {
        throw_gif_failure(source, gif);
      }
    }
  }
}

// Pillow's palette: the frame's local colour table, else the global one,
// else greyscale (mode L, where the index is the grey level). Entries past
// the end of a short table stay black.
std::array<uint8_t, 256 * 3> make_palette(const GifFileType* gif) {
  std::array<uint8_t, 256 * 3> palette{};
  const ColorMapObject* map = gif->Image.ColorMap != nullptr ? gif->Image.ColorMap : gif->SColorMap;
  if (map == nullptr) {
    for (int i = 0; i < 256; ++i) {
      palette[3 * i] = palette[3 * i + 1] = palette[3 * i + 2] = static_cast<uint8_t>(i);
    }
    return palette;
  }
  const int count = std::clamp(map->ColorCount, 0, 256);
  for (int i = 0; i < count; ++i) {
    palette[3 * i] = map->Colors[i].Red;
    palette[3 * i + 1] = map->Colors[i].Green;
    palette[3 * i + 2] = map->Colors[i].Blue;
  }
  return palette;
}

}  // namespace

Image decode_gif(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  GifSource source{.bytes = bytes};
  GifHandle handle(&source);
  GifFileType* gif = handle.get();

  const int transparent_index = read_to_first_frame(gif, source);
  const GifImageDesc& frame = gif->Image;
  if (frame.Left < 0 || frame.Top < 0 || frame.Width <= 0 || frame.Height <= 0) {
    throw_corrupt(kFormat, fmt::format("the first frame is {}x{} pixels at ({}, {})", frame.Width,
                                       frame.Height, frame.Left, frame.Top));
  }
  // Pillow grows the logical screen to hold the first frame.
  const int64_t width = std::max<int64_t>(gif->SWidth, int64_t{frame.Left} + frame.Width);
  const int64_t height = std::max<int64_t>(gif->SHeight, int64_t{frame.Top} + frame.Height);
  check_image_size(kFormat, width, height, limits);

  // Pixels outside the frame get the transparent index, or index 0 when
  // there is none; Pillow's RGB conversion ignores transparency.
  std::vector<uint8_t> indices(static_cast<size_t>(width) * static_cast<size_t>(height),
                               static_cast<uint8_t>(std::max(transparent_index, 0)));
  // Interlaced frames store rows in four passes: every 8th row from 0, every
  // 8th from 4, every 4th from 2, every 2nd from 1.
  constexpr std::array<int, 4> kPassStart{0, 4, 2, 1};
  constexpr std::array<int, 4> kPassStep{8, 8, 4, 2};
  const int passes = frame.Interlace ? 4 : 1;
  for (int pass = 0; pass < passes; ++pass) {
    const int start = frame.Interlace ? kPassStart[pass] : 0;
    const int step = frame.Interlace ? kPassStep[pass] : 1;
    for (int row = start; row < frame.Height; row += step) {
      uint8_t* line = indices.data() + (static_cast<size_t>(frame.Top) + row) * width + frame.Left;
      if (DGifGetLine(gif, line, frame.Width) == GIF_ERROR) {
        throw_gif_failure(source, gif);
      }
    }
  }

  const std::array<uint8_t, 256 * 3> palette = make_palette(gif);
  Image image = make_rgb_image(width, height);
  for (size_t i = 0; i < indices.size(); ++i) {
    std::memcpy(image.rgb.data() + 3 * i, palette.data() + 3 * indices[i], 3);
  }
  return image;
}

}  // namespace glyph::vision::detail
