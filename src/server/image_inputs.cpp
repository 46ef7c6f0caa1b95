#include "server/image_inputs.h"

#include <openssl/evp.h>

#include <algorithm>

#include <fmt/format.h>

#include "core/error.h"
#include "core/log.h"
#include "model/multimodal_positions.h"
#include "server/api_error.h"

namespace glyph::server {

namespace {

ContentDigest sha256(std::span<const uint8_t> first, std::span<const uint8_t> second = {}) {
  ContentDigest digest{};
  unsigned int length = 0;
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  const bool ok = context && EVP_DigestInit_ex(context, EVP_sha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(context, first.data(), first.size()) == 1 &&
                  EVP_DigestUpdate(context, second.data(), second.size()) == 1 &&
                  EVP_DigestFinal_ex(context, digest.data(), &length) == 1;
  EVP_MD_CTX_free(context);
  GLYPH_CHECK(ok && length == digest.size(), "SHA-256 failed");
  return digest;
}

// A 31-bit prefix-cache key for image token `index`, negative so that it
// never equals a vocabulary id. Every token's key mixes the whole digest.
int32_t image_token_key(const ContentDigest& digest, int32_t index) {
  uint64_t state = 0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(index + 1);
  for (size_t i = 0; i < digest.size(); i += 8) {
    uint64_t word = 0;
    for (size_t j = 0; j < 8; ++j) word |= uint64_t{digest[i + j]} << (8 * j);
    state ^= word + 0x9e3779b97f4a7c15ULL + (state << 6) + (state >> 2);
  }
  // splitmix64's finaliser.
  state = (state ^ (state >> 30)) * 0xbf58476d1ce4e5b9ULL;
  state = (state ^ (state >> 27)) * 0x94d049bb133111ebULL;
  state ^= state >> 31;
  return -1 - static_cast<int32_t>(state & 0x7fffffffULL);
}

void check_token_budget(int64_t tokens, int64_t max_tokens) {
  if (tokens > max_tokens) {
    throw_error(ErrorKind::kInvalidRequest,
                "the image needs {} tokens, more than the {} tokens left in the context; send a "
                "smaller image or start the server with a larger --context-length",
                tokens, std::max<int64_t>(max_tokens, 0));
  }
}

}  // namespace

ImageEncoder::ImageEncoder(std::unique_ptr<model::VisionModel> model,
                           vision::ProcessorConfig processor, vision::DecodeLimits limits,
                           size_t cache_bytes)
    : model_(std::move(model)),
      processor_(std::move(processor)),
      limits_(limits),
      cache_bytes_(cache_bytes) {}

int64_t ImageEncoder::cache_hits() const {
  std::lock_guard lock(mutex_);
  return cache_hits_;
}

int64_t ImageEncoder::encodes() const {
  std::lock_guard lock(mutex_);
  return encodes_;
}

std::shared_ptr<const EncodedImage> ImageEncoder::find_cached(const ContentDigest& digest) {
  std::lock_guard lock(mutex_);
  auto found = cache_.find(digest);
  if (found == cache_.end()) return nullptr;
  recency_.splice(recency_.begin(), recency_, found->second.position);
  ++cache_hits_;
  return found->second.image;
}

void ImageEncoder::insert_cached(const std::shared_ptr<const EncodedImage>& image) {
  std::lock_guard lock(mutex_);
  if (cache_.contains(image->digest)) return;  // Another request encoded it meanwhile.
  recency_.push_front(image->digest);
  cache_.emplace(image->digest, Entry{image, recency_.begin()});
  cached_bytes_ += image->embeddings->size() * sizeof(float);
  while (cached_bytes_ > cache_bytes_ && recency_.size() > 1) {
    auto oldest = cache_.find(recency_.back());
    cached_bytes_ -= oldest->second.image->embeddings->size() * sizeof(float);
    cache_.erase(oldest);
    recency_.pop_back();
  }
}

// Decoding and preprocessing run on the request's thread, in parallel with
// other requests; only the vision tower itself runs one image at a time.
template <typename LoadImage>
std::shared_ptr<const EncodedImage> ImageEncoder::encode_cached(const ContentDigest& digest,
                                                                int64_t max_tokens,
                                                                LoadImage&& load) {
  if (auto cached = find_cached(digest)) {
    check_token_budget(cached->num_tokens, max_tokens);
    return cached;
  }

  const vision::Image& loaded = load();
  check_token_budget(vision::count_image_tokens(loaded.width, loaded.height, processor_),
                     max_tokens);
  const vision::ProcessedImage processed = vision::preprocess(loaded, processor_);

  auto image = std::make_shared<EncodedImage>();
  image->digest = digest;
  image->grid_thw = processed.grid_thw;
  image->num_tokens = processed.num_tokens();
  {
    std::lock_guard lock(model_mutex_);
    if (auto cached = find_cached(digest)) return cached;
    image->embeddings = std::make_shared<const std::vector<float>>(
        model_->encode(processed.pixel_values, processed.grid_thw));
    std::lock_guard count_lock(mutex_);
    ++encodes_;
  }
  insert_cached(image);
  return image;
}

std::shared_ptr<const EncodedImage> ImageEncoder::encode_bytes(std::span<const uint8_t> bytes,
                                                               int64_t max_tokens) {
  vision::Image decoded;
  return encode_cached(sha256(bytes), max_tokens, [&]() -> const vision::Image& {
    // The token count follows from the header's size, so an image too large
    // for the context is rejected before its pixels are decoded.
    vision::DecodeLimits limits = limits_;
    limits.check_size = [&](int64_t width, int64_t height) {
      check_token_budget(vision::count_image_tokens(static_cast<int32_t>(width),
                                                    static_cast<int32_t>(height), processor_),
                         max_tokens);
    };
    decoded = vision::decode_image(bytes, limits);
    return decoded;
  });
}

std::shared_ptr<const EncodedImage> ImageEncoder::encode_image(const vision::Image& image,
                                                               int64_t max_tokens) {
  const std::array<int32_t, 2> size{image.width, image.height};
  const auto* size_bytes = reinterpret_cast<const uint8_t*>(size.data());
  const ContentDigest digest =
      sha256(std::span(size_bytes, sizeof(size)), std::span(image.rgb.data(), image.rgb.size()));
  return encode_cached(digest, max_tokens, [&]() -> const vision::Image& { return image; });
}

void place_images(std::span<const int32_t> prompt,
                  std::span<const std::shared_ptr<const EncodedImage>> images,
                  int32_t image_token_id, int32_t merge_size, engine::GenerateRequest& request) {
  const auto placeholders = static_cast<size_t>(
      std::count(prompt.begin(), prompt.end(), image_token_id));
  if (placeholders != images.size()) {
    throw_bad_request(fmt::format(
        "the prompt has {} image placeholder(s) for {} image(s); each image needs one <|image|> "
        "placeholder (as <|begin_of_image|><|image|><|end_of_image|>), and text must not "
        "contain <|image|> otherwise",
        placeholders, images.size()));
  }
  request.prompt.clear();
  request.cache_key.clear();
  request.embeddings.clear();
  std::vector<model::ImagePlacement> placements;
  size_t next_image = 0;
  for (const int32_t token : prompt) {
    if (token != image_token_id) {
      request.prompt.push_back(token);
      request.cache_key.push_back(token);
      continue;
    }
    const EncodedImage& image = *images[next_image++];
    const auto offset = static_cast<int32_t>(request.prompt.size());
    placements.push_back({offset, image.grid_thw});
    request.embeddings.push_back({offset, image.num_tokens, image.embeddings});
    for (int32_t i = 0; i < image.num_tokens; ++i) {
      request.prompt.push_back(image_token_id);
      request.cache_key.push_back(image_token_key(image.digest, i));
    }
  }
  if (images.empty()) {
    request.cache_key.clear();
    return;
  }
  model::MultimodalPositions positions = model::multimodal_positions(
      static_cast<int32_t>(request.prompt.size()), placements, merge_size);
  request.positions = std::move(positions.positions);
}

}  // namespace glyph::server
