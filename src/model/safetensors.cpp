#include "model/safetensors.h"

#include <fstream>
#include <sstream>

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace glyph::model {

namespace {

using nlohmann::json;

std::optional<DType> parse_dtype(std::string_view name) {
  if (name == "F32") return DType::kF32;
  if (name == "F16") return DType::kF16;
  if (name == "BF16") return DType::kBF16;
  return std::nullopt;
}

// Bytes per element of every safetensors dtype, so that entries glyph cannot read are still
// checked against the file size.
std::optional<uint64_t> element_size(std::string_view name) {
  if (name == "F64" || name == "I64" || name == "U64") return 8;
  if (name == "F32" || name == "I32" || name == "U32") return 4;
  if (name == "F16" || name == "BF16" || name == "I16" || name == "U16") return 2;
  if (name == "I8" || name == "U8" || name == "BOOL" || name == "F8_E4M3" || name == "F8_E5M2") {
    return 1;
  }
  return std::nullopt;
}

[[noreturn]] void bad_file(const std::filesystem::path& path, std::string_view problem) {
  throw_error(ErrorKind::kBadModel, "{}: {}", path.filename().string(), problem);
}

TensorEntry parse_entry(const std::filesystem::path& path, const std::string& name,
                        const json& value, uint64_t data_size) {
  auto bad = [&](std::string_view problem) {
    bad_file(path, fmt::format("tensor {}: {}", name, problem));
  };
  if (!value.is_object()) bad(fmt::format("header entry must be an object, not {}", value.dump()));

  TensorEntry entry;
  auto dtype = value.find("dtype");
  if (dtype == value.end() || !dtype->is_string()) bad("header entry has no dtype string");
  entry.dtype_name = dtype->get<std::string>();
  entry.dtype = parse_dtype(entry.dtype_name);
  std::optional<uint64_t> size = element_size(entry.dtype_name);
  if (!size) bad(fmt::format("unknown dtype \"{}\"", entry.dtype_name));

  auto shape = value.find("shape");
  if (shape == value.end() || !shape->is_array()) bad("header entry has no shape list");
  if (shape->size() > Tensor::kMaxRank) {
    bad(fmt::format("shape {} has more than {} dimensions", shape->dump(), Tensor::kMaxRank));
  }
  uint64_t elements = 1;
  for (const json& dim : *shape) {
    if (!dim.is_number_unsigned()) bad(fmt::format("invalid shape {}", shape->dump()));
    entry.shape.push_back(dim.get<int64_t>());
    elements *= dim.get<uint64_t>();
  }

  auto offsets = value.find("data_offsets");
  if (offsets == value.end() || !offsets->is_array() || offsets->size() != 2 ||
      !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned()) {
    bad("header entry has no data_offsets [begin, end]");
  }
  entry.begin = (*offsets)[0].get<uint64_t>();
  entry.end = (*offsets)[1].get<uint64_t>();
  if (entry.begin > entry.end) {
    bad(fmt::format("data_offsets [{}, {}] end before they begin", entry.begin, entry.end));
  }
  if (entry.end > data_size) {
    bad(fmt::format("data_offsets [{}, {}] run past the end of the file, whose data section has "
                    "{} bytes; the file is truncated or corrupt",
                    entry.begin, entry.end, data_size));
  }
  if (entry.end - entry.begin != elements * *size) {
    bad(fmt::format("holds {} bytes, but shape {} of {} needs {}", entry.end - entry.begin,
                    shape->dump(), entry.dtype_name, elements * *size));
  }
  return entry;
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path) : file_([&] {
  try {
    return MappedFile(path);
  } catch (const Error& error) {
    throw_error(ErrorKind::kBadModel, "{}", error.what());
  }
}()) {
  const uint64_t size = file_.size();
  if (size < 8) {
    bad_file(path, fmt::format("file is {} bytes, shorter than the 8-byte header length; it is "
                               "truncated or not a safetensors file",
                               size));
  }
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | file_.data()[i];
  if (header_size > size - 8) {
    bad_file(path, fmt::format("header length {} exceeds the {} bytes after it; the file is "
                               "truncated or not a safetensors file",
                               header_size, size - 8));
  }
  data_begin_ = 8 + header_size;

  json header;
  try {
    header = json::parse(file_.data() + 8, file_.data() + 8 + header_size);
  } catch (const json::parse_error& error) {
    bad_file(path, fmt::format("header is not valid JSON: {}", error.what()));
  }
  if (!header.is_object()) bad_file(path, "header must be a JSON object");

  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") continue;
    entries_.emplace(name, parse_entry(path, name, value, size - data_begin_));
  }
}

const TensorEntry* SafetensorsFile::find(std::string_view name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

Tensor SafetensorsFile::view(std::string_view name, const TensorEntry& entry) const {
  if (!entry.dtype) {
    bad_file(path(), fmt::format("tensor {} has dtype {}, which glyph cannot read (supported: "
                                 "F32, F16, BF16)",
                                 name, entry.dtype_name));
  }
  Tensor tensor;
  tensor.data = const_cast<uint8_t*>(file_.data() + data_begin_ + entry.begin);
  tensor.dtype = *entry.dtype;
  tensor.rank = static_cast<int>(entry.shape.size());
  for (size_t axis = 0; axis < entry.shape.size(); ++axis) tensor.shape[axis] = entry.shape[axis];
  return tensor;
}

Checkpoint::Checkpoint(const std::filesystem::path& dir) {
  const std::filesystem::path index_path = dir / "model.safetensors.index.json";
  const std::filesystem::path single_path = dir / "model.safetensors";

  if (!std::filesystem::exists(index_path)) {
    if (!std::filesystem::exists(single_path)) {
      throw_error(ErrorKind::kBadModel,
                  "{} has neither model.safetensors nor model.safetensors.index.json; pass "
                  "--load-format dummy for random weights",
                  dir.string());
    }
    source_name_ = "model.safetensors";
    files_.push_back(std::make_unique<SafetensorsFile>(single_path));
    for (const auto& [name, entry] : files_.back()->entries()) {
      tensors_.emplace(name, Location{files_.back().get(), &entry});
    }
    return;
  }

  source_name_ = "model.safetensors.index.json";
  std::ifstream stream(index_path, std::ios::binary);
  std::stringstream text;
  text << stream.rdbuf();
  json index;
  try {
    index = json::parse(text.str());
  } catch (const json::parse_error& error) {
    throw_error(ErrorKind::kBadModel, "{}: not valid JSON: {}", source_name_, error.what());
  }
  auto weight_map = index.find("weight_map");
  if (!index.is_object() || weight_map == index.end() || !weight_map->is_object()) {
    throw_error(ErrorKind::kBadModel, "{}: has no weight_map object", source_name_);
  }

  std::map<std::string, const SafetensorsFile*> shards;
  for (const auto& [name, shard] : weight_map->items()) {
    if (!shard.is_string()) {
      throw_error(ErrorKind::kBadModel, "{}: weight_map entry for {} must be a file name, not {}",
                  source_name_, name, shard.dump());
    }
    const std::string shard_name = shard.get<std::string>();
    auto it = shards.find(shard_name);
    if (it == shards.end()) {
      const std::filesystem::path shard_path = dir / shard_name;
      if (!std::filesystem::exists(shard_path)) {
        throw_error(ErrorKind::kBadModel, "{}: lists shard {} (for tensor {}), which is missing",
                    source_name_, shard_name, name);
      }
      files_.push_back(std::make_unique<SafetensorsFile>(shard_path));
      it = shards.emplace(shard_name, files_.back().get()).first;
    }
    const TensorEntry* entry = it->second->find(name);
    if (entry == nullptr) {
      throw_error(ErrorKind::kBadModel, "{}: maps tensor {} to {}, which does not contain it",
                  source_name_, name, shard_name);
    }
    tensors_.emplace(name, Location{it->second, entry});
  }
}

std::optional<Checkpoint::Location> Checkpoint::locate(std::string_view name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) return std::nullopt;
  return it->second;
}

bool Checkpoint::contains(std::string_view name) const { return locate(name).has_value(); }

Tensor Checkpoint::get(std::string_view name) const {
  std::optional<Location> location = locate(name);
  if (!location) {
    throw_error(ErrorKind::kBadModel, "{}: tensor {} is missing", source_name_, name);
  }
  return location->file->view(name, *location->entry);
}

std::string Checkpoint::file_name(std::string_view name) const {
  std::optional<Location> location = locate(name);
  return location ? location->file->path().filename().string() : source_name_;
}

}  // namespace glyph::model
