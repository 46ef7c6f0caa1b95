// The images of a chat request: image_url parts read and encoded, and
// rendered_text parts rendered into pages and encoded, in prompt order.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "server/chat_request.h"
#include "server/image_inputs.h"
#include "server/serving_stack.h"

namespace glyph::server {

struct ChatMedia {
  // One per image placeholder in the rendered prompt, in order; a
  // rendered_text part contributes one per page.
  std::vector<std::shared_ptr<const EncodedImage>> images;
  int32_t image_tokens = 0;          // Placeholder tokens of all images.
  int32_t rendered_text_tokens = 0;  // Tokens the rendered text would have taken as text.
};

// Reads, renders and encodes request.media, and rewrites request.messages so
// that a rendered_text part becomes one image part per page. Throws
// ApiError(400) naming the image (its index and place in the request) and the problem.
ChatMedia prepare_chat_media(const ServingStack& stack, ChatRequest& request);

// The same for SGLang's image_data (a string or a list of strings).
std::vector<std::shared_ptr<const EncodedImage>> prepare_image_data(
    const ServingStack& stack, const nlohmann::ordered_json& image_data);

}  // namespace glyph::server
