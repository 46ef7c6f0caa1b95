#include "engine/prefix_cache.h"

#include <algorithm>
#include <functional>
#include <queue>

#include "core/error.h"

namespace glyph::engine {

struct PrefixCache::Node {
  Node* parent = nullptr;
  std::vector<int32_t> key;  // The page_size tokens this page holds.
  int32_t page = -1;
  uint64_t last_access = 0;
  // Children by the hash of their key; collisions share a bucket.
  std::unordered_multimap<uint64_t, std::unique_ptr<Node>> children;
};

namespace {

uint64_t hash_tokens(std::span<const int32_t> tokens) {
  uint64_t hash = 1469598103934665603ull;  // FNV-1a over the 32-bit ids.
  for (int32_t token : tokens) {
    hash ^= static_cast<uint32_t>(token);
    hash *= 1099511628211ull;
  }
  return hash;
}

}  // namespace

PrefixCache::PrefixCache(PagePool& pool, int32_t page_size)
    : pool_(pool), page_size_(page_size), root_(std::make_unique<Node>()) {}

PrefixCache::~PrefixCache() = default;

PrefixCache::Node* PrefixCache::find_child(Node& node, std::span<const int32_t> page_key) const {
  auto [begin, end] = node.children.equal_range(hash_tokens(page_key));
  for (auto it = begin; it != end; ++it) {
    if (std::equal(page_key.begin(), page_key.end(), it->second->key.begin(),
                   it->second->key.end())) {
      return it->second.get();
    }
  }
  return nullptr;
}

std::vector<int32_t> PrefixCache::match(std::span<const int32_t> key) {
  std::vector<int32_t> pages;
  Node* node = root_.get();
  const uint64_t now = ++clock_;
  for (size_t start = 0; start + page_size_ <= key.size(); start += page_size_) {
    Node* child = find_child(*node, key.subspan(start, page_size_));
    if (child == nullptr) break;
    child->last_access = now;
    pool_.add_ref(child->page);
    pages.push_back(child->page);
    node = child;
  }
  return pages;
}

void PrefixCache::insert(std::span<const int32_t> key, std::vector<int32_t>& pages) {
  Node* node = root_.get();
  const uint64_t now = ++clock_;
  const size_t whole_pages = std::min(key.size() / page_size_, pages.size());
  for (size_t i = 0; i < whole_pages; ++i) {
    auto page_key = key.subspan(i * page_size_, page_size_);
    Node* child = find_child(*node, page_key);
    if (child == nullptr) {
      auto created = std::make_unique<Node>();
      created->parent = node;
      created->key.assign(page_key.begin(), page_key.end());
      created->page = pages[i];
      pool_.add_ref(pages[i]);
      child = created.get();
      node->children.emplace(hash_tokens(page_key), std::move(created));
      ++node_count_;
    } else if (child->page != pages[i]) {
      // Same tokens computed twice: keep the cached page, drop the duplicate.
      pool_.add_ref(child->page);
      pool_.release(pages[i]);
      pages[i] = child->page;
    }
    child->last_access = now;
    node = child;
  }
}

void PrefixCache::remove_leaf(Node* leaf) {
  Node* parent = leaf->parent;
  auto [begin, end] = parent->children.equal_range(hash_tokens(leaf->key));
  for (auto it = begin; it != end; ++it) {
    if (it->second.get() == leaf) {
      pool_.release(leaf->page);
      parent->children.erase(it);
      --node_count_;
      return;
    }
  }
  GLYPH_CHECK(false, "prefix cache node not found under its parent");
}

int32_t PrefixCache::evict(int32_t pages) {
  // A node can go when it is a leaf and only the cache holds its page.
  auto evictable = [&](const Node* node) {
    return node != root_.get() && node->children.empty() && pool_.ref_count(node->page) == 1;
  };
  using Entry = std::pair<uint64_t, Node*>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> oldest;
  std::function<void(Node*)> collect = [&](Node* node) {
    if (evictable(node)) oldest.emplace(node->last_access, node);
    for (auto& [hash, child] : node->children) collect(child.get());
  };
  collect(root_.get());

  int32_t freed = 0;
  while (freed < pages && !oldest.empty()) {
    Node* leaf = oldest.top().second;
    oldest.pop();
    Node* parent = leaf->parent;
    remove_leaf(leaf);
    ++freed;
    if (evictable(parent)) oldest.emplace(parent->last_access, parent);
  }
  return freed;
}

int32_t PrefixCache::evictable_pages() const {
  // A subtree frees all its pages when none of them is held by a request.
  std::function<std::pair<bool, int32_t>(const Node*)> count =
      [&](const Node* node) -> std::pair<bool, int32_t> {
    bool all_free = node == root_.get() || pool_.ref_count(node->page) == 1;
    int32_t freeable = 0;
    for (const auto& [hash, child] : node->children) {
      auto [child_all_free, child_freeable] = count(child.get());
      freeable += child_freeable;
      all_free = all_free && child_all_free;
    }
    if (all_free && node != root_.get()) ++freeable;
    return {all_free, freeable};
  };
  return count(root_.get()).second;
}

}  // namespace glyph::engine
