// Images on their way into a prompt: decoding, the image processor and the
// vision tower behind a content-addressed cache, then the placeholder
// expansion, M-RoPE positions and prefix-cache keys the engine needs.
#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "engine/engine.h"
#include "model/vision_model.h"
#include "vision/image.h"
#include "vision/image_processor.h"

namespace glyph::server {

using ContentDigest = std::array<uint8_t, 32>;  // SHA-256.

// One image ready for a prompt.
struct EncodedImage {
  ContentDigest digest{};
  std::array<int32_t, 3> grid_thw{0, 0, 0};  // In patches.
  int32_t num_tokens = 0;                    // Placeholder tokens it takes.
  std::shared_ptr<const std::vector<float>> embeddings;  // [num_tokens, hidden_size]
};

// Runs the vision tower once per distinct image: results are kept by the
// SHA-256 of the image's encoded bytes (or of a rendered page's pixels) in
// an LRU cache of at most cache_bytes of embeddings. Images are decoded in
// parallel; the vision tower encodes one at a time.
class ImageEncoder {
 public:
  ImageEncoder(std::unique_ptr<model::VisionModel> model, vision::ProcessorConfig processor,
               vision::DecodeLimits limits, size_t cache_bytes);

  // Throws glyph::Error(kInvalidRequest) for an image that cannot be decoded
  // or processed, naming the problem, and for one that needs more than
  // max_tokens placeholder tokens (checked before the vision tower runs).
  std::shared_ptr<const EncodedImage> encode_bytes(std::span<const uint8_t> bytes,
                                                   int64_t max_tokens);
  std::shared_ptr<const EncodedImage> encode_image(const vision::Image& image,
                                                   int64_t max_tokens);

  const vision::ProcessorConfig& processor() const { return processor_; }
  int64_t cache_hits() const;
  int64_t encodes() const;

 private:
  template <typename LoadImage>
  std::shared_ptr<const EncodedImage> encode_cached(const ContentDigest& digest,
                                                    int64_t max_tokens, LoadImage&& load);
  std::shared_ptr<const EncodedImage> find_cached(const ContentDigest& digest);
  void insert_cached(const std::shared_ptr<const EncodedImage>& image);

  std::unique_ptr<model::VisionModel> model_;
  vision::ProcessorConfig processor_;
  vision::DecodeLimits limits_;
  size_t cache_bytes_;

  std::mutex model_mutex_;     // Held while the vision tower runs.
  mutable std::mutex mutex_;  // Guards the cache and the counters.
  std::list<ContentDigest> recency_;  // Most recently used first.
  struct Entry {
    std::shared_ptr<const EncodedImage> image;
    std::list<ContentDigest>::iterator position;
  };
  std::map<ContentDigest, Entry> cache_;
  size_t cached_bytes_ = 0;
  int64_t cache_hits_ = 0;
  int64_t encodes_ = 0;
};

// Expands the i-th image_token_id of prompt into images[i]'s placeholder
// tokens and fills request.prompt, cache_key (image tokens keyed by the
// image's digest, so equal images share KV and different ones never do),
// embeddings and positions. Throws ApiError(400) when the prompt's
// placeholders and the images do not pair up.
void place_images(std::span<const int32_t> prompt,
                  std::span<const std::shared_ptr<const EncodedImage>> images,
                  int32_t image_token_id, int32_t merge_size, engine::GenerateRequest& request);

}  // namespace glyph::server
