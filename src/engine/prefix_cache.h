// The radix prefix cache: a trie of whole KV pages keyed by the tokens they
// hold. Requests that share a prompt prefix reuse its pages; unused leaves are
// evicted least recently used first.
//
// Keys are "cache tokens": the prompt's ids, except that an image's
// placeholder tokens are replaced by ids derived from the image's content
// hash, so two requests with the same page share KV and different pages never do.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "engine/page_pool.h"

namespace glyph::engine {

class PrefixCache {
 public:
  PrefixCache(PagePool& pool, int32_t page_size);
  ~PrefixCache();
  PrefixCache(const PrefixCache&) = delete;
  PrefixCache& operator=(const PrefixCache&) = delete;

  // Returns the pages of the longest cached prefix of key made of whole
  // pages, with one reference added to each for the caller.
  std::vector<int32_t> match(std::span<const int32_t> key);

  // Caches the whole pages of key, backed by pages[i] for page i. Where a page
  // is already cached, pages[i] is swapped for the cached page (the caller's
  // reference moves to it) so the caller's duplicate can be freed.
  void insert(std::span<const int32_t> key, std::vector<int32_t>& pages);

  // Drops least recently used leaves that no request holds until `pages`
  // pages are freed or nothing more can go. Returns the pages freed.
  int32_t evict(int32_t pages);
  // Drops every page that no request holds (POST /flush_cache).
  void flush() { evict(cached_pages()); }

  int32_t cached_pages() const { return node_count_; }
  // Pages that evict() could free right now.
  int32_t evictable_pages() const;

 private:
  struct Node;
  Node* find_child(Node& node, std::span<const int32_t> page_key) const;
  void remove_leaf(Node* leaf);

  PagePool& pool_;
  int32_t page_size_;
  std::unique_ptr<Node> root_;
  int32_t node_count_ = 0;
  uint64_t clock_ = 0;  // Access counter for LRU order.
};

}  // namespace glyph::engine
