#include "engine/page_pool.h"

#include "core/error.h"

namespace glyph::engine {

PagePool::PagePool(int32_t num_pages) : ref_counts_(num_pages, 0) {
  free_.reserve(num_pages);
  // Hand out low page numbers first, which keeps small runs easy to read in logs.
  for (int32_t page = num_pages - 1; page >= 0; --page) free_.push_back(page);
}

int32_t PagePool::allocate() {
  if (free_.empty()) return -1;
  const int32_t page = free_.back();
  free_.pop_back();
  ref_counts_[page] = 1;
  return page;
}

void PagePool::add_ref(int32_t page) {
  GLYPH_CHECK(ref_counts_[page] > 0, "page {} is free", page);
  ++ref_counts_[page];
}

void PagePool::release(int32_t page) {
  GLYPH_CHECK(ref_counts_[page] > 0, "page {} released twice", page);
  if (--ref_counts_[page] == 0) free_.push_back(page);
}

void PagePool::release_all(std::vector<int32_t>& pages) {
  for (int32_t page : pages) release(page);
  pages.clear();
}

}  // namespace glyph::engine
