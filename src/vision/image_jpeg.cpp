// JPEG through libjpeg(-turbo), converted to RGB as Pillow 13's
// convert("RGB") does.
//
// libjpeg's default error handler calls exit(), so error_exit here longjmps
// back to the setjmp in jpeg_step instead. As in image_png.cpp, no C++ object
// with a destructor is created between the setjmp and the libjpeg call.

// jpeglib.h uses size_t and FILE without including their headers.
#include <cstddef>
#include <cstdio>
// clang-format off
#include <jpeglib.h>
// clang-format on

#include <csetjmp>
#include <cstring>

#include "core/error.h"
#include "vision/image.h"
#include "vision/image_codecs.h"

namespace glyph::vision {
namespace {

constexpr std::string_view kFormat = "JPEG";

struct JpegErrorState {
  jpeg_error_mgr manager;  // First, so libjpeg's pointer to it is a pointer to the whole struct.
  std::jmp_buf jump;
  bool ran_out = false;  // The decoder asked for bytes past the end.
  char message[JMSG_LENGTH_MAX] = {};
};

void exit_with_longjmp(j_common_ptr cinfo) {
  auto* state = reinterpret_cast<JpegErrorState*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, state->message);
  std::longjmp(state->jump, 1);
}

// Warnings (corrupt entropy data, extraneous bytes) are ignored, as Pillow
// ignores them: libjpeg still produces an image.
void ignore_message(j_common_ptr, int) {}

// A source over the whole input that never pads: reaching the end is an
// error here, where jpeg_mem_src would insert a fake end-of-image marker.
void init_source(j_decompress_ptr) {}

boolean fill_input_buffer(j_decompress_ptr cinfo) {
  auto* state = reinterpret_cast<JpegErrorState*>(cinfo->err);
  state->ran_out = true;
  std::snprintf(state->message, sizeof(state->message), "the data ends early");
  std::longjmp(state->jump, 1);
}

void skip_input_data(j_decompress_ptr cinfo, long count) {
  if (count <= 0) {
    return;
  }
  jpeg_source_mgr* source = cinfo->src;
  if (static_cast<size_t>(count) > source->bytes_in_buffer) {
    fill_input_buffer(cinfo);
  }
  source->next_input_byte += count;
  source->bytes_in_buffer -= static_cast<size_t>(count);
}

void term_source(j_decompress_ptr) {}

class JpegDecompressHandle {
 public:
  JpegDecompressHandle(std::span<const uint8_t> bytes, JpegErrorState* state) {
    cinfo_.err = jpeg_std_error(&state->manager);
    state->manager.error_exit = exit_with_longjmp;
    state->manager.emit_message = ignore_message;
    // jpeg_create_decompress fails only on a library version mismatch or
    // out of memory, and libjpeg reports both through error_exit.
    if (setjmp(state->jump)) {
      throw_error(ErrorKind::kInternal, "libjpeg could not create a decoder: {}", state->message);
    }
    jpeg_create_decompress(&cinfo_);
    created_ = true;

    source_.next_input_byte = bytes.data();
    source_.bytes_in_buffer = bytes.size();
    source_.init_source = init_source;
    source_.fill_input_buffer = fill_input_buffer;
    source_.skip_input_data = skip_input_data;
    source_.resync_to_restart = jpeg_resync_to_restart;
    source_.term_source = term_source;
    cinfo_.src = &source_;
  }
  ~JpegDecompressHandle() {
    if (created_) {
      jpeg_destroy_decompress(&cinfo_);
    }
  }
  JpegDecompressHandle(const JpegDecompressHandle&) = delete;
  JpegDecompressHandle& operator=(const JpegDecompressHandle&) = delete;

  jpeg_decompress_struct* cinfo() { return &cinfo_; }

 private:
  jpeg_decompress_struct cinfo_{};
  jpeg_source_mgr source_{};
  bool created_ = false;
};

// Runs one libjpeg step; returns false when libjpeg reported an error.
template <typename Step>
bool jpeg_step(JpegErrorState& state, Step&& step) {
  if (setjmp(state.jump)) {
    return false;
  }
  step();
  return true;
}

[[noreturn]] void throw_jpeg_failure(const JpegErrorState& state) {
  if (state.ran_out) {
    detail::throw_truncated(kFormat);
  }
  detail::throw_corrupt(kFormat, state.message);
}

// Pillow's CMYK -> RGB: each of C, M, Y scaled by (255 - K), rounded.
uint8_t cmyk_channel_to_rgb(int ink, int black) {
  const int white = 255 - black;
  const int product = ink * white + 128;
  const int rounded = ((product >> 8) + product) >> 8;  // ink * white / 255, rounded.
  return static_cast<uint8_t>(white - rounded);
}

}  // namespace

namespace detail {

Image decode_jpeg(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  JpegErrorState state;
  JpegDecompressHandle handle(bytes, &state);
  jpeg_decompress_struct* cinfo = handle.cinfo();

  if (!jpeg_step(state, [&] { jpeg_read_header(cinfo, TRUE); })) {
    throw_jpeg_failure(state);
  }
  const int64_t width = cinfo->image_width;
  const int64_t height = cinfo->image_height;
  check_image_size(kFormat, width, height, limits);

  // Pillow opens 1-component JPEGs as L, 3 as RGB and 4 (CMYK or YCCK) as
  // CMYK with inverted (Adobe) polarity; libjpeg does the colour transforms.
  J_COLOR_SPACE out_space = JCS_UNKNOWN;
  switch (cinfo->num_components) {
    case 1:
      out_space = JCS_GRAYSCALE;
      break;
    case 3:
      out_space = JCS_RGB;
      break;
    case 4:
      out_space = JCS_CMYK;
      break;
    default:
      throw_corrupt(kFormat, fmt::format("{} colour components are not supported; send a "
                                         "greyscale, RGB or CMYK JPEG",
                                         cinfo->num_components));
  }
  const int components = cinfo->num_components;
  std::vector<uint8_t> row(static_cast<size_t>(width) * static_cast<size_t>(components));
  Image image = make_rgb_image(width, height);

  const bool decoded = jpeg_step(state, [&] {
    // Pillow's defaults: the slow integer IDCT and fancy upsampling.
    cinfo->out_color_space = out_space;
    cinfo->dct_method = JDCT_ISLOW;
    cinfo->do_fancy_upsampling = TRUE;
    jpeg_start_decompress(cinfo);
    while (cinfo->output_scanline < cinfo->output_height) {
      const size_t y = cinfo->output_scanline;
      JSAMPROW row_pointer = row.data();
      jpeg_read_scanlines(cinfo, &row_pointer, 1);
      uint8_t* out = image.rgb.data() + y * static_cast<size_t>(width) * 3;
      for (size_t x = 0; x < static_cast<size_t>(width); ++x) {
        const uint8_t* in = row.data() + x * components;
        if (components == 1) {
          out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = in[0];
        } else if (components == 3) {
          std::memcpy(out + 3 * x, in, 3);
        } else {
          // libjpeg returns Adobe-style inverted CMYK; Pillow's "CMYK;I"
          // inverts it back before converting.
          const int black = 255 - in[3];
          out[3 * x] = cmyk_channel_to_rgb(255 - in[0], black);
          out[3 * x + 1] = cmyk_channel_to_rgb(255 - in[1], black);
          out[3 * x + 2] = cmyk_channel_to_rgb(255 - in[2], black);
        }
      }
    }
  });
  if (!decoded) {
    throw_jpeg_failure(state);
  }
  // jpeg_finish_decompress is skipped: it would read on to the end-of-image
  // marker, which Pillow does not require either.
  return image;
}

}  // namespace detail
}  // namespace glyph::vision
