#include "text/bpe.h"

#include <algorithm>
#include <functional>
#include <queue>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "text/utf8.h"

namespace glyph::text {

namespace {

// Words shorter than this many bytes are cached, as in Hugging Face's BPE.
constexpr size_t kMaxCachedWordBytes = 256;

// Ids index a table, so a vocabulary with ids far beyond its size is rejected
// instead of allocating for the gap. Real vocabularies are dense, and 2^24
// leaves ample room above the largest of them.
constexpr int64_t kMaxTokenId = (int64_t{1} << 24) - 1;

// One entry of the merge queue: merge the symbol at `pos` with its right
// neighbour into `new_id`. The lowest rank goes first, then the leftmost.
struct MergeCandidate {
  uint32_t rank;
  uint32_t pos;
  int32_t new_id;
  bool operator>(const MergeCandidate& other) const {
    return rank != other.rank ? rank > other.rank : pos > other.pos;
  }
};

struct Symbol {
  int32_t id;
  int32_t prev;  // Index of the left neighbour, -1 at the start.
  int32_t next;  // Index of the right neighbour, -1 at the end.
  bool removed;
};

}  // namespace

bool WordCache::lookup(std::string_view word, std::vector<int32_t>& ids) const {
  const Shard& shard = shards_[StringHash{}(word) % kShards];
  std::lock_guard lock(shard.mutex);
  const auto found = shard.words.find(word);
  if (found == shard.words.end()) return false;
  ids.insert(ids.end(), found->second.begin(), found->second.end());
  return true;
}

void WordCache::store(std::string_view word, const int32_t* ids, size_t count) {
  Shard& shard = shards_[StringHash{}(word) % kShards];
  std::lock_guard lock(shard.mutex);
  if (shard.words.size() >= kShardEntries) shard.words.clear();
  shard.words.emplace(std::string(word), std::vector<int32_t>(ids, ids + count));
}

BpeModel::BpeModel(const nlohmann::json& model, const std::string& source) {
  const auto type = model.find("type");
  if (type != model.end() && *type != "BPE") {
    throw_error(ErrorKind::kBadModel,
                "{}: model type {} is not supported; glyph reads only BPE models", source,
                type->dump());
  }
  const auto vocab = model.find("vocab");
  const auto merges = model.find("merges");
  if (vocab == model.end() || !vocab->is_object()) {
    throw_error(ErrorKind::kBadModel, "{}: model.vocab is missing or not an object", source);
  }
  if (merges == model.end() || !merges->is_array()) {
    throw_error(ErrorKind::kBadModel, "{}: model.merges is missing or not an array", source);
  }

  const auto flag = [&](const char* key) {
    const auto found = model.find(key);
    if (found == model.end() || found->is_null()) return false;
    if (!found->is_boolean()) {
      throw_error(ErrorKind::kBadModel, "{}: model.{} must be true, false or null, not {}", source,
                  key, found->dump());
    }
    return found->get<bool>();
  };
  ignore_merges_ = flag("ignore_merges");
  byte_fallback_ = flag("byte_fallback");
  fuse_unknown_ = flag("fuse_unk");

  // These change how words are split or made random; none of the supported
  // byte-level models uses them.
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const auto found = model.find(key);
    if (found != model.end() && !found->is_null()) {
      throw_error(ErrorKind::kBadModel, "{}: model.{} = {} is not supported; expected null", source,
                  key, found->dump());
    }
  }
  const auto dropout = model.find("dropout");
  if (dropout != model.end() && !dropout->is_null() &&
      !(dropout->is_number() && dropout->get<double>() == 0.0)) {
    throw_error(ErrorKind::kBadModel,
                "{}: model.dropout = {} is not supported; expected null or 0 (dropout makes "
                "encoding random)",
                source, dropout->dump());
  }

  read_vocab(*vocab, source);
  read_merges(*merges, source);

  const auto unknown = model.find("unk_token");
  if (unknown != model.end() && !unknown->is_null()) {
    if (!unknown->is_string()) {
      throw_error(ErrorKind::kBadModel, "{}: model.unk_token must be a string or null, not {}",
                  source, unknown->dump());
    }
    unknown_token_ = unknown->get<std::string>();
    unknown_id_ = token_to_id(unknown_token_);
    if (!unknown_id_) {
      throw_error(ErrorKind::kBadModel, "{}: model.unk_token '{}' is not in model.vocab", source,
                  unknown_token_);
    }
  }

  byte_fallback_ids_.fill(-1);
  for (int byte = 0; byte < 256; ++byte) {
    if (const auto id = token_to_id(fmt::format("<0x{:02X}>", byte)))
      byte_fallback_ids_[byte] = *id;
  }
}

void BpeModel::read_vocab(const nlohmann::json& vocab, const std::string& source) {
  vocab_.reserve(vocab.size());
  int64_t max_id = -1;
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > kMaxTokenId) {
      throw_error(ErrorKind::kBadModel,
                  "{}: model.vocab maps '{}' to {}; ids must be integers from 0 to {}", source,
                  token, id.dump(), kMaxTokenId);
    }
    vocab_[token] = id.get<int32_t>();
    max_id = std::max(max_id, id.get<int64_t>());
  }

  tokens_.resize(static_cast<size_t>(max_id + 1));
  has_token_.resize(tokens_.size(), false);
  // Several entries with one id leave one of them for decoding, as in
  // Hugging Face; which one is not defined there either.
  for (const auto& [token, id] : vocab_) {
    tokens_[id] = token;
    has_token_[id] = true;
  }
}

void BpeModel::read_merges(const nlohmann::json& merges, const std::string& source) {
  merges_.reserve(merges.size());
  uint32_t rank = 0;
  for (const auto& merge : merges) {
    std::string left;
    std::string right;
    if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
      left = merge[0].get<std::string>();
      right = merge[1].get<std::string>();
    } else if (merge.is_string()) {
      // The older form "left right"; like Hugging Face, skip "#version" lines
      // without giving them a rank.
      const auto& text = merge.get_ref<const std::string&>();
      if (text.starts_with("#version")) continue;
      const size_t space = text.find(' ');
      if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos) {
        throw_error(ErrorKind::kBadModel,
                    "{}: model.merges[{}] = '{}' is invalid; expected two tokens separated by "
                    "one space",
                    source, rank, text);
      }
      left = text.substr(0, space);
      right = text.substr(space + 1);
    } else {
      throw_error(ErrorKind::kBadModel,
                  "{}: model.merges[{}] = {} is invalid; expected [\"left\", \"right\"] or "
                  "\"left right\"",
                  source, rank, merge.dump());
    }

    const auto left_id = token_to_id(left);
    const auto right_id = token_to_id(right);
    const auto new_id = token_to_id(left + right);
    for (const auto& [token, id] :
         {std::pair{left, left_id}, std::pair{right, right_id}, std::pair{left + right, new_id}}) {
      if (!id) {
        throw_error(ErrorKind::kBadModel,
                    "{}: model.merges[{}] uses '{}', which is not in model.vocab", source, rank,
                    token);
      }
    }
    // A repeated pair keeps its last rank, as Hugging Face's map does.
    const uint64_t key = (static_cast<uint64_t>(*left_id) << 32) | static_cast<uint32_t>(*right_id);
    merges_[key] = Merge{rank, *new_id};
    ++rank;
  }
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
  const auto found = vocab_.find(token);
  if (found == vocab_.end()) return std::nullopt;
  return found->second;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= tokens_.size() || !has_token_[id]) return nullptr;
  return &tokens_[id];
}

const BpeModel::Merge* BpeModel::find_merge(int32_t left, int32_t right) const {
  const uint64_t key = (static_cast<uint64_t>(left) << 32) | static_cast<uint32_t>(right);
  const auto found = merges_.find(key);
  return found == merges_.end() ? nullptr : &found->second;
}

void BpeModel::tokenize(std::string_view word, std::vector<int32_t>& ids) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    if (const auto id = token_to_id(word)) {
      ids.push_back(*id);
      return;
    }
  }
  if (word.size() >= kMaxCachedWordBytes) {
    merge_word(word, ids);
    return;
  }
  if (cache_.lookup(word, ids)) return;
  const size_t first = ids.size();
  merge_word(word, ids);
  cache_.store(word, ids.data() + first, ids.size() - first);
}

void BpeModel::add_unknown_char(std::string_view character, std::vector<int32_t>& symbols,
                                std::optional<int32_t>& pending_unknown) const {
  if (byte_fallback_) {
    bool all_bytes_known = true;
    for (const char byte : character) {
      all_bytes_known = all_bytes_known && byte_fallback_ids_[static_cast<uint8_t>(byte)] >= 0;
    }
    if (all_bytes_known) {
      // Like Hugging Face, the byte tokens go in before an unknown token that
      // is still pending from earlier characters.
      for (const char byte : character) {
        symbols.push_back(byte_fallback_ids_[static_cast<uint8_t>(byte)]);
      }
      return;
    }
  }
  if (!unknown_id_) return;  // Without an unknown token the character is dropped.
  if (pending_unknown && !fuse_unknown_) symbols.push_back(*pending_unknown);
  pending_unknown = *unknown_id_;
}

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>& ids) const {
  // Step 1: one symbol per character. An unknown token is held back until the
  // next known character so that runs of unknown characters can be fused.
  std::vector<int32_t> initial;
  initial.reserve(word.size());
  std::optional<int32_t> pending_unknown;
  size_t pos = 0;
  while (pos < word.size()) {
    const size_t length =
        std::min(utf8_sequence_length(static_cast<uint8_t>(word[pos])), word.size() - pos);
    const std::string_view character = word.substr(pos, length);
    pos += length;
    if (const auto id = token_to_id(character)) {
      if (pending_unknown) initial.push_back(*pending_unknown);
      pending_unknown.reset();
      initial.push_back(*id);
    } else {
      add_unknown_char(character, initial, pending_unknown);
    }
  }
  if (pending_unknown) initial.push_back(*pending_unknown);

  // Step 2: a doubly linked list of symbols, and a queue of every adjacent
  // pair that has a merge. Each merge is O(log n), so long words stay linear
  // up to a log factor instead of quadratic.
  const auto count = static_cast<int32_t>(initial.size());
  std::vector<Symbol> symbols(initial.size());
  std::priority_queue<MergeCandidate, std::vector<MergeCandidate>, std::greater<>> queue;
  for (int32_t i = 0; i < count; ++i) {
    symbols[i] = Symbol{initial[i], i - 1, i + 1 < count ? i + 1 : -1, false};
    if (i + 1 < count) {
      if (const Merge* merge = find_merge(initial[i], initial[i + 1])) {
        queue.push({merge->rank, static_cast<uint32_t>(i), merge->new_id});
      }
    }
  }

  // Step 3: apply the lowest-ranked, leftmost merge until none is left. An
  // entry is stale when its left symbol was merged away or its pair no longer
  // produces the same token. Stale entries are skipped, because every merge
  // pushes entries for the new pairs it creates.
  while (!queue.empty()) {
    const MergeCandidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (left.removed || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    const Merge* current = find_merge(left.id, right.id);
    if (current == nullptr || current->new_id != top.new_id) continue;

    left.id = top.new_id;
    right.removed = true;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = static_cast<int32_t>(top.pos);

    if (left.prev >= 0) {
      if (const Merge* merge = find_merge(symbols[left.prev].id, left.id)) {
        queue.push({merge->rank, static_cast<uint32_t>(left.prev), merge->new_id});
      }
    }
    if (left.next >= 0) {
      if (const Merge* merge = find_merge(left.id, symbols[left.next].id)) {
        queue.push({merge->rank, top.pos, merge->new_id});
      }
    }
  }

  for (int32_t i = count > 0 ? 0 : -1; i >= 0; i = symbols[i].next) ids.push_back(symbols[i].id);
}

}  // namespace glyph::text
