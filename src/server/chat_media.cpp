#include "server/chat_media.h"

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
auto for_image(size_t index, const std::string& where, Step&& step) {
  try {
    return step();
  } catch (const Error& error) {
    // A missing font file is the server's, but the request is what cannot be served.
    if (error.kind() != ErrorKind::kInvalidRequest && error.kind() != ErrorKind::kNotFound) throw;
    throw_bad_request(fmt::format("image {} ({}): {}", index, where, error.what()));
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

// Replaces each rendered_text placeholder with one image part per page.
void expand_rendered_placeholders(Json& messages, const std::vector<int32_t>& pages_per_media) {
  for (Json& message : messages) {
    Json& content = message["content"];
    if (!content.is_array()) continue;
    Json expanded = Json::array();
    for (Json& part : content) {
      const Json* index = part.is_object() && part.contains("media_index") ? &part["media_index"]
                                                                           : nullptr;
      const int32_t pages =
          index ? pages_per_media[index->get<size_t>()] : 1;
      for (int32_t page = 0; page < pages; ++page) expanded.push_back(part);
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
      media.images.push_back(for_image(i, part.path, [&] {
        const std::vector<uint8_t> bytes = read_media_bytes(part.url, stack.media_sources);
        return encoder.encode_bytes(bytes, tokens_left());
      }));
      media.image_tokens += media.images.back()->num_tokens;
      pages_per_media.push_back(1);
      continue;
    }
    const std::vector<vision::Image> pages = for_image(i, part.path, [&] {
      return vision::render_pages(part.rendered_text->text, render_options_for(stack.options, *part.rendered_text));
    });
    const vision::RenderStats stats = vision::compute_render_stats(pages, encoder.processor());
    if (stats.image_tokens > tokens_left()) {
      throw_bad_request(fmt::format(
          "image {} ({}): the text renders to {} pages of {} tokens in all, more than the {} "
          "tokens left in the context; send a shorter text or start the server with a larger "
          "--context-length",
          i, part.path, stats.pages, stats.image_tokens, std::max<int64_t>(tokens_left(), 0)));
    }
    for (const vision::Image& page : pages) {
      media.images.push_back(
          for_image(i, part.path, [&] { return encoder.encode_image(page, tokens_left()); }));
      media.image_tokens += media.images.back()->num_tokens;
    }
    pages_per_media.push_back(static_cast<int32_t>(pages.size()));
    media.rendered_pages += static_cast<int32_t>(pages.size());
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
  std::vector<std::shared_ptr<const EncodedImage>> images;
  int64_t tokens_used = 0;
  auto tokens_left = [&] { return stack.engine->context_length() - tokens_used; };
  for (size_t i = 0; i < references.size(); ++i) {
    images.push_back(for_image(i, fmt::format("image_data[{}]", i), [&] {
      const std::vector<uint8_t> bytes = read_media_bytes(references[i], stack.media_sources);
      return stack.image_encoder->encode_bytes(bytes, tokens_left());
    }));
    tokens_used += images.back()->num_tokens;
  }
  return images;
}

}  // namespace glyph::server
