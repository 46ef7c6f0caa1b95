// Reading safetensors checkpoints: one model.safetensors, or shards listed by
// model.safetensors.index.json. Files are memory-mapped; tensors are views into the mapping.
//
// Format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N,
// N bytes of JSON mapping each tensor name to {dtype, shape, data_offsets: [begin, end)} with
// offsets relative to the end of the header, then the data.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mapped_file.h"
#include "core/tensor.h"

namespace glyph::model {

struct TensorEntry {
  std::string dtype_name;       // As written, e.g. "BF16" or "F8_E4M3".
  std::optional<DType> dtype;   // Unset for a dtype glyph cannot read.
  std::vector<int64_t> shape;
  uint64_t begin = 0;           // Byte range in the data section.
  uint64_t end = 0;
};

class SafetensorsFile {
 public:
  // Maps the file and checks the header: every entry well-formed, its byte range inside the
  // file and as long as its shape and dtype need. Throws glyph::Error(kBadModel) naming the
  // file, the tensor and the problem.
  explicit SafetensorsFile(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return file_.path(); }
  const std::map<std::string, TensorEntry, std::less<>>& entries() const { return entries_; }
  const TensorEntry* find(std::string_view name) const;

  // A view of the entry's data. Throws glyph::Error(kBadModel) for a dtype glyph cannot read.
  Tensor view(std::string_view name, const TensorEntry& entry) const;

 private:
  MappedFile file_;
  uint64_t data_begin_ = 0;
  std::map<std::string, TensorEntry, std::less<>> entries_;
};

// The tensors of a model directory, whichever files hold them.
class Checkpoint {
 public:
  // Opens model.safetensors.index.json and its shards if the index exists, else
  // model.safetensors. Throws glyph::Error(kBadModel) when neither exists, the index is invalid
  // or names a missing shard, or a file fails SafetensorsFile's checks.
  explicit Checkpoint(const std::filesystem::path& dir);

  bool contains(std::string_view name) const;
  // Throws glyph::Error(kBadModel) naming the file when the tensor is missing.
  Tensor get(std::string_view name) const;
  // The file holding name, for messages: "model-00002-of-00004.safetensors".
  std::string file_name(std::string_view name) const;
  // Where a missing tensor should have been: the index when sharded, else model.safetensors.
  const std::string& source_name() const { return source_name_; }

 private:
  struct Location {
    const SafetensorsFile* file;
    const TensorEntry* entry;
  };
  std::optional<Location> locate(std::string_view name) const;

  std::string source_name_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, Location, std::less<>> tensors_;
};

}  // namespace glyph::model
