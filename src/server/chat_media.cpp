#include "server/chat_media.h"

#include <array>
#include <cmath>
#include <string_view>

#include <fmt/format.h>

#include "core/error.h"
#include "server/api_error.h"
#include "server/request_fields.h"
#include "vision/page_render.h"

namespace glyph::server {

namespace {

using Json = nlohmann::ordered_json;

// Runs one image's step and turns its input errors into a 400 that names the image.
template <typename Step>
auto for_image(const std::string& label, Step&& step) {
  try {
    return step();
  } catch (const Error& error) {
    // A missing font file is the server's, but the request is what cannot be served.
    if (error.kind() != ErrorKind::kInvalidRequest && error.kind() != ErrorKind::kNotFound) throw;
    throw_bad_request(fmt::format("{}: {}", label, error.what()));
  }
}

vision::RenderOptions render_options_for(const ServeOptions& serve,
                                         const RenderedTextPart& part) {
  vision::RenderOptions options;
  if (!serve.render_font.empty()) options.font_path = serve.render_font;
  if (part.dpi) options.dpi = *part.dpi;
  if (part.font_size) options.font_size_pt = *part.font_size;
  if (part.line_height) options.line_height_pt = *part.line_height;
  return options;
}

bool has_foreground(const vision::Image& image, const std::array<uint8_t, 3>& background) {
  for (size_t i = 0; i + 2 < image.rgb.size(); i += 3) {
    if (image.rgb[i] != background[0] || image.rgb[i + 1] != background[1] ||
        image.rgb[i + 2] != background[2]) {
      return true;
    }
  }
  return false;
}

// A cap on the text's length, checked before layout: bytes per image token
// left in the context. Glyph's default rendering fits about 16 bytes of
// English into one image token, so only texts far too long to fit hit it.
constexpr int64_t kMaxRenderedBytesPerToken = 1024;

// Renders one rendered_text part and encodes its pages, appending them to
// media. The pages are drawn twice: once to count their tokens against the
// context, so an oversized text costs neither memory nor the vision tower,
// then one at a time to encode. Returns the page count.
int32_t encode_rendered_text(const ServingStack& stack, const MediaPart& part, int64_t tokens_left,
                             ChatMedia& media) {
  const std::string& text = part.rendered_text->text;
  if (static_cast<int64_t>(text.size()) > kMaxRenderedBytesPerToken * tokens_left) {
    throw_error(ErrorKind::kInvalidRequest,
                "the text to render is {} bytes, too long for the {} tokens left in the context; "
                "send a shorter text or start the server with a larger --context-length",
                text.size(), std::max<int64_t>(tokens_left, 0));
  }
  ImageEncoder& encoder = *stack.image_encoder;
  vision::PageRenderer renderer(render_options_for(stack.options, *part.rendered_text));
  const std::vector<vision::LaidOutPage> layout = renderer.layout(text);
  auto draw = [&](size_t page) { return renderer.draw(layout[page], page + 1 == layout.size()); };
  auto too_many = [&](std::string_view what, int64_t tokens) {
    throw_error(ErrorKind::kInvalidRequest,
                "the text renders to {} pages of {} {} tokens, more than the {} tokens left in "
                "the context; send a shorter text or start the server with a larger "
                "--context-length",
                layout.size(), what, tokens, std::max<int64_t>(tokens_left, 0));
  };

  // Every page but the last keeps its full height, so it takes at least the
  // tokens of a full-height page one 28-pixel block wide. Many pages are
  // rejected here, before any is drawn.
  const vision::RenderOptions& options = renderer.options();
  const auto page_height = static_cast<int32_t>(
      std::lround(options.page_height_pt * options.dpi / 72.0));
  const int32_t block = encoder.processor().patch_size * encoder.processor().merge_size;
  const int64_t least_per_page = vision::count_image_tokens(block, page_height, encoder.processor());
  const int64_t least = static_cast<int64_t>(layout.size() - 1) * least_per_page;
  if (least > tokens_left) too_many("at least", least);

  int64_t tokens = 0;
  bool has_ink = false;
  for (size_t page = 0; page < layout.size(); ++page) {
    const vision::Image image = draw(page);
    tokens += vision::count_image_tokens(image.width, image.height, encoder.processor());
    if (tokens > tokens_left) too_many("more than", tokens);
    has_ink = has_ink || has_foreground(image, options.background_color);
  }
  if (!has_ink) {
    throw_error(ErrorKind::kInvalidRequest,
                "the text has no visible characters, so its pages would be blank; send text to "
                "render");
  }
  for (size_t page = 0; page < layout.size(); ++page) {
    media.images.push_back(encoder.encode_image(draw(page), tokens_left));
    tokens_left -= media.images.back()->num_tokens;
    media.image_tokens += media.images.back()->num_tokens;
  }
  return static_cast<int32_t>(layout.size());
}

// Replaces each rendered_text placeholder with one image part per page.
void expand_rendered_placeholders(Json& messages, const std::vector<int32_t>& pages_per_media) {
  for (Json& message : messages) {
    Json& content = message["content"];
    if (!content.is_array()) continue;
    Json expanded = Json::array();
    for (const Json& part : content) {
      int32_t copies = 1;
      if (part.is_object() && part.contains("media_index")) {
        copies = pages_per_media[part["media_index"].get<size_t>()];
      }
      for (int32_t copy = 0; copy < copies; ++copy) expanded.push_back(part);
    }
    content = std::move(expanded);
  }
}

}  // namespace

ChatMedia prepare_chat_media(const ServingStack& stack, ChatRequest& request) {
  ChatMedia media;
  if (request.media.empty()) return media;
  ImageEncoder& encoder = *stack.image_encoder;
  // Images alone must leave room in the context; the text is counted later.
  const int64_t context = stack.engine->context_length();
  auto tokens_left = [&] { return context - media.image_tokens; };
  std::vector<int32_t> pages_per_media;
  for (size_t i = 0; i < request.media.size(); ++i) {
    const MediaPart& part = request.media[i];
    if (!part.rendered_text) {
      media.images.push_back(for_image(fmt::format("image {} ({})", i, part.path), [&] {
        const std::vector<uint8_t> bytes = read_media_bytes(part.url, stack.media_sources);
        return encoder.encode_bytes(bytes, tokens_left());
      }));
      media.image_tokens += media.images.back()->num_tokens;
      pages_per_media.push_back(1);
      continue;
    }
    const int32_t pages = for_image(fmt::format("rendered text at {}", part.path), [&] {
      return encode_rendered_text(stack, part, tokens_left(), media);
    });
    pages_per_media.push_back(pages);
    media.rendered_text_tokens +=
        static_cast<int32_t>(stack.tokenizer->encode(part.rendered_text->text).size());
  }
  expand_rendered_placeholders(request.messages, pages_per_media);
  return media;
}

std::vector<std::shared_ptr<const EncodedImage>> prepare_image_data(const ServingStack& stack,
                                                                    const Json& image_data) {
  std::vector<std::string> references;
  if (image_data.is_string()) {
    references.push_back(image_data.get<std::string>());
  } else if (image_data.is_array() &&
             std::all_of(image_data.begin(), image_data.end(),
                         [](const Json& item) { return item.is_string(); })) {
    for (const Json& item : image_data) references.push_back(item.get<std::string>());
  } else {
    throw_bad_request(fmt::format(
        "image_data must be a string or a list of strings (data: URLs, base64, file paths or "
        "URLs), got {}",
        describe_json_type(image_data)));
  }
  MediaSourceOptions sources = stack.media_sources;
  sources.allow_bare_base64 = true;
  std::vector<std::shared_ptr<const EncodedImage>> images;
  int64_t tokens_used = 0;
  auto tokens_left = [&] { return stack.engine->context_length() - tokens_used; };
  for (size_t i = 0; i < references.size(); ++i) {
    images.push_back(for_image(fmt::format("image {} (image_data[{}])", i, i), [&] {
      const std::vector<uint8_t> bytes = read_media_bytes(references[i], sources);
      return stack.image_encoder->encode_bytes(bytes, tokens_left());
    }));
    tokens_used += images.back()->num_tokens;
  }
  return images;
}

}  // namespace glyph::server
