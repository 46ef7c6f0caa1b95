// The KV page allocator. Pages are reference counted: a running request
// holds one reference to each page it reads, and the prefix cache holds one
// to each page it keeps, so a shared prompt prefix is freed only when nobody
// uses it.
#pragma once

#include <cstdint>
#include <vector>

namespace glyph::engine {

class PagePool {
 public:
  explicit PagePool(int32_t num_pages);

  // Takes a free page with one reference; returns -1 when none is free.
  int32_t allocate();
  void add_ref(int32_t page);
  // Drops one reference; the page returns to the free list at zero.
  void release(int32_t page);
  void release_all(std::vector<int32_t>& pages);

  int32_t ref_count(int32_t page) const { return ref_counts_[page]; }
  int32_t free_pages() const { return static_cast<int32_t>(free_.size()); }
  int32_t total_pages() const { return static_cast<int32_t>(ref_counts_.size()); }

 private:
  std::vector<int32_t> ref_counts_;
  std::vector<int32_t> free_;
};

}  // namespace glyph::engine
