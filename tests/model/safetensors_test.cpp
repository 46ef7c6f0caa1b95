#include "model/safetensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "model/text_model.h"
#include "model_test_support.h"

namespace glyph::model {
namespace {

using testing::TemporaryDirectory;
using testing::TensorRecord;
using testing::write_safetensors;

template <typename T>
std::vector<uint8_t> bytes_of(const std::vector<T>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

// The message of the glyph::Error(kBadModel) that body raises.
template <typename Body>
std::string bad_model_error(Body body) {
  try {
    body();
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kBadModel) << error.what();
    return error.what();
  }
  ADD_FAILURE() << "no error raised";
  return "";
}

void expect_contains(const std::string& message, const std::string& part) {
  EXPECT_NE(message.find(part), std::string::npos) << "\"" << part << "\" not in: " << message;
}

TEST(Safetensors, ReadsEachDtype) {
  TemporaryDirectory dir;
  const std::vector<float> f32 = {1.5f, -2.25f, 3.0e-8f, 65504.0f, -0.0f, 7.0f};
  std::vector<f16> f16_values;
  std::vector<bf16> bf16_values;
  for (float value : f32) {
    f16_values.push_back(to_f16(value));
    bf16_values.push_back(to_bf16(value));
  }
  write_safetensors(dir.path() / "model.safetensors",
                    {{"a.f32", "F32", {2, 3}, bytes_of(f32)},
                     {"b.f16", "F16", {6}, bytes_of(f16_values)},
                     {"c.bf16", "BF16", {3, 2}, bytes_of(bf16_values)}});

  Checkpoint checkpoint(dir.path());
  Tensor a = checkpoint.get("a.f32");
  ASSERT_EQ(a.dtype, DType::kF32);
  EXPECT_TRUE(a.same_shape({2, 3}));
  Tensor b = checkpoint.get("b.f16");
  ASSERT_EQ(b.dtype, DType::kF16);
  EXPECT_TRUE(b.same_shape({6}));
  Tensor c = checkpoint.get("c.bf16");
  ASSERT_EQ(c.dtype, DType::kBF16);
  EXPECT_TRUE(c.same_shape({3, 2}));
  for (size_t i = 0; i < f32.size(); ++i) {
    EXPECT_EQ(a.as<float>()[i], f32[i]);
    EXPECT_EQ(to_float(b.as<f16>()[i]), to_float(f16_values[i]));
    EXPECT_EQ(to_float(c.as<bf16>()[i]), to_float(bf16_values[i]));
  }
  // F16 keeps 11 significant bits, BF16 8: 1.5 and -2.25 are exact in both.
  EXPECT_EQ(to_float(b.as<f16>()[1]), -2.25f);
  EXPECT_EQ(to_float(c.as<bf16>()[0]), 1.5f);
  EXPECT_EQ(to_float(b.as<f16>()[3]), 65504.0f);
  EXPECT_TRUE(checkpoint.contains("a.f32"));
  EXPECT_FALSE(checkpoint.contains("__metadata__"));
}

TEST(Safetensors, TruncatedFile) {
  TemporaryDirectory dir;
  const auto path = dir.path() / "model.safetensors";
  write_safetensors(path, {{"w", "F32", {4, 4}, std::vector<uint8_t>(64, 0)}});
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 10);
  std::string message = bad_model_error([&] { SafetensorsFile file(path); });
  expect_contains(message, "model.safetensors");
  expect_contains(message, "tensor w");
  expect_contains(message, "past the end of the file");
}

TEST(Safetensors, ShorterThanHeaderLength) {
  TemporaryDirectory dir;
  const auto path = dir.path() / "model.safetensors";
  testing::write_text(path, "abc");
  expect_contains(bad_model_error([&] { SafetensorsFile file(path); }), "shorter than the 8-byte");
}

TEST(Safetensors, HeaderLengthPastEnd) {
  TemporaryDirectory dir;
  const auto path = dir.path() / "model.safetensors";
  write_safetensors(path, {{"w", "F32", {2}, std::vector<uint8_t>(8, 0)}});
  std::string bytes = testing::read_text(path);
  bytes.resize(40);  // Keeps the 8-byte length but cuts the header short.
  testing::write_text(path, bytes);
  expect_contains(bad_model_error([&] { SafetensorsFile file(path); }), "header length");
}

TEST(Safetensors, HeaderNotJson) {
  TemporaryDirectory dir;
  const auto path = dir.path() / "model.safetensors";
  const std::string header = R"({"w": {"dtype": "F32", "shape": [2], )";
  write_safetensors(path, {{"w", "F32", {2}, std::vector<uint8_t>(8, 0)}}, &header);
  std::string message = bad_model_error([&] { SafetensorsFile file(path); });
  expect_contains(message, "model.safetensors");
  expect_contains(message, "header is not valid JSON");
}

TEST(Safetensors, EntryWithoutOffsets) {
  TemporaryDirectory dir;
  const auto path = dir.path() / "model.safetensors";
  const std::string header = R"({"w": {"dtype": "F32", "shape": [2]}})";
  write_safetensors(path, {{"w", "F32", {2}, std::vector<uint8_t>(8, 0)}}, &header);
  std::string message = bad_model_error([&] { SafetensorsFile file(path); });
  expect_contains(message, "tensor w");
  expect_contains(message, "data_offsets");
}

TEST(Safetensors, UnknownDtype) {
  TemporaryDirectory dir;
  const auto path = dir.path() / "model.safetensors";
  write_safetensors(path, {{"w", "Q4_K", {2}, std::vector<uint8_t>(8, 0)}});
  std::string message = bad_model_error([&] { SafetensorsFile file(path); });
  expect_contains(message, "tensor w");
  expect_contains(message, "unknown dtype \"Q4_K\"");
}

TEST(Safetensors, UnsupportedDtypeFailsOnUse) {
  TemporaryDirectory dir;
  write_safetensors(dir.path() / "model.safetensors",
                    {{"scale", "F8_E4M3", {4}, std::vector<uint8_t>(4, 0)},
                     {"w", "F32", {1}, std::vector<uint8_t>(4, 0)}});
  Checkpoint checkpoint(dir.path());  // Tensors glyph never reads may have any dtype.
  EXPECT_EQ(checkpoint.get("w").numel(), 1);
  std::string message = bad_model_error([&] { checkpoint.get("scale"); });
  expect_contains(message, "tensor scale has dtype F8_E4M3");
}

TEST(Safetensors, SizeDisagreesWithShape) {
  TemporaryDirectory dir;
  const auto path = dir.path() / "model.safetensors";
  write_safetensors(path, {{"w", "BF16", {3, 3}, std::vector<uint8_t>(16, 0)}});
  std::string message = bad_model_error([&] { SafetensorsFile file(path); });
  expect_contains(message, "tensor w");
  expect_contains(message, "holds 16 bytes, but shape [3,3] of BF16 needs 18");
}

TEST(Checkpoint, MissingTensorNamesFile) {
  TemporaryDirectory dir;
  write_safetensors(dir.path() / "model.safetensors", {{"w", "F32", {1}, std::vector<uint8_t>(4, 0)}});
  Checkpoint checkpoint(dir.path());
  std::string message = bad_model_error([&] { checkpoint.get("lm_head.weight"); });
  expect_contains(message, "model.safetensors: tensor lm_head.weight is missing");
}

TEST(Checkpoint, NoWeightFiles) {
  TemporaryDirectory dir;
  std::string message = bad_model_error([&] { Checkpoint checkpoint(dir.path()); });
  expect_contains(message, "neither model.safetensors nor model.safetensors.index.json");
}

TEST(Checkpoint, ReadsShards) {
  TemporaryDirectory dir;
  write_safetensors(dir.path() / "model-00001-of-00002.safetensors",
                    {{"a", "F32", {1}, bytes_of(std::vector<float>{1.0f})}});
  write_safetensors(dir.path() / "model-00002-of-00002.safetensors",
                    {{"b", "F32", {1}, bytes_of(std::vector<float>{2.0f})}});
  testing::write_text(dir.path() / "model.safetensors.index.json",
                      R"({"metadata": {"total_size": 8}, "weight_map": {
                          "a": "model-00001-of-00002.safetensors",
                          "b": "model-00002-of-00002.safetensors"}})");
  Checkpoint checkpoint(dir.path());
  EXPECT_EQ(checkpoint.get("a").as<float>()[0], 1.0f);
  EXPECT_EQ(checkpoint.get("b").as<float>()[0], 2.0f);
  EXPECT_EQ(checkpoint.file_name("b"), "model-00002-of-00002.safetensors");
  std::string message = bad_model_error([&] { checkpoint.get("c"); });
  expect_contains(message, "model.safetensors.index.json: tensor c is missing");
}

TEST(Checkpoint, IndexNamesMissingShard) {
  TemporaryDirectory dir;
  write_safetensors(dir.path() / "model-00001-of-00002.safetensors",
                    {{"a", "F32", {1}, std::vector<uint8_t>(4, 0)}});
  testing::write_text(dir.path() / "model.safetensors.index.json",
                      R"({"weight_map": {"a": "model-00001-of-00002.safetensors",
                                         "b": "model-00002-of-00002.safetensors"}})");
  std::string message = bad_model_error([&] { Checkpoint checkpoint(dir.path()); });
  expect_contains(message, "model.safetensors.index.json");
  expect_contains(message, "model-00002-of-00002.safetensors");
  expect_contains(message, "missing");
}

TEST(Checkpoint, IndexMapsTensorToWrongShard) {
  TemporaryDirectory dir;
  write_safetensors(dir.path() / "model-00001-of-00001.safetensors",
                    {{"a", "F32", {1}, std::vector<uint8_t>(4, 0)}});
  testing::write_text(dir.path() / "model.safetensors.index.json",
                      R"({"weight_map": {"b": "model-00001-of-00001.safetensors"}})");
  std::string message = bad_model_error([&] { Checkpoint checkpoint(dir.path()); });
  expect_contains(message, "maps tensor b to model-00001-of-00001.safetensors");
}

TEST(Checkpoint, InvalidIndex) {
  TemporaryDirectory dir;
  testing::write_text(dir.path() / "model.safetensors.index.json", R"({"weight_map": [)");
  expect_contains(bad_model_error([&] { Checkpoint checkpoint(dir.path()); }),
                  "model.safetensors.index.json: not valid JSON");
}

// A copy of the tiny model with its tensors passed through edit before writing.
template <typename Edit>
void write_edited_tiny_model(const std::filesystem::path& dir, Edit edit) {
  testing::copy_model_json(dir);
  auto records = testing::read_records(testing::tiny_model_dir() / "model.safetensors");
  edit(records);
  write_safetensors(dir / "model.safetensors", records);
}

std::string load_model_error(const std::filesystem::path& dir) {
  LoadOptions options;
  options.model_dir = dir;
  options.threads = 1;
  return bad_model_error([&] { TextModel::load(options); });
}

TEST(TextModelLoad, MissingTensorNamesIt) {
  TemporaryDirectory dir;
  write_edited_tiny_model(dir.path(), [](std::vector<TensorRecord>& records) {
    std::erase_if(records, [](const TensorRecord& record) {
      return record.name == "model.language_model.layers.1.post_mlp_layernorm.weight";
    });
  });
  std::string message = load_model_error(dir.path());
  expect_contains(message,
                  "model.safetensors: tensor model.language_model.layers.1.post_mlp_layernorm."
                  "weight is missing");
}

TEST(TextModelLoad, WrongShapeNamesTensorAndShapes) {
  TemporaryDirectory dir;
  write_edited_tiny_model(dir.path(), [](std::vector<TensorRecord>& records) {
    for (TensorRecord& record : records) {
      if (record.name == "model.language_model.layers.1.mlp.down_proj.weight") {
        record.shape = {96, 32};  // Transposed: same bytes, wrong layout.
      }
    }
  });
  std::string message = load_model_error(dir.path());
  expect_contains(message, "tensor model.language_model.layers.1.mlp.down_proj.weight");
  expect_contains(message, "has shape [96, 32]");
  expect_contains(message, "implies [32, 96]");
}

TEST(TextModelLoad, WrongVisionShapeNamesTensor) {
  TemporaryDirectory dir;
  write_edited_tiny_model(dir.path(), [](std::vector<TensorRecord>& records) {
    for (TensorRecord& record : records) {
      if (record.name == "model.visual.merger.gate_proj.weight") record.shape = {32, 64};
    }
  });
  std::string message = load_model_error(dir.path());
  expect_contains(message, "tensor model.visual.merger.gate_proj.weight has shape [32, 64]");
}

TEST(TextModelLoad, TruncatedWeightsNameFile) {
  TemporaryDirectory dir;
  testing::copy_model_json(dir.path());
  const auto path = dir.path() / "model.safetensors";
  std::filesystem::copy_file(testing::tiny_model_dir() / "model.safetensors", path);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  std::string message = load_model_error(dir.path());
  expect_contains(message, "model.safetensors");
  expect_contains(message, "truncated");
}

TEST(TextModelLoad, MissingConfigNamesIt) {
  TemporaryDirectory dir;
  expect_contains(load_model_error(dir.path()), "config.json is missing");
}

// Split across two shards with an index, the tiny model gives the same logits.
TEST(TextModelLoad, ShardedCheckpointMatchesSingleFile) {
  TemporaryDirectory dir;
  testing::copy_model_json(dir.path());
  auto records = testing::read_records(testing::tiny_model_dir() / "model.safetensors");
  std::vector<TensorRecord> first;
  std::vector<TensorRecord> second;
  nlohmann::json weight_map = nlohmann::json::object();
  for (TensorRecord& record : records) {
    const bool in_first = record.name.find("layers.1.") == std::string::npos &&
                          record.name != "lm_head.weight";
    const char* shard = in_first ? "model-00001-of-00002.safetensors"
                                 : "model-00002-of-00002.safetensors";
    weight_map[record.name] = shard;
    (in_first ? first : second).push_back(std::move(record));
  }
  write_safetensors(dir.path() / "model-00001-of-00002.safetensors", first);
  write_safetensors(dir.path() / "model-00002-of-00002.safetensors", second);
  testing::write_text(dir.path() / "model.safetensors.index.json",
                      nlohmann::json{{"metadata", {{"total_size", 0}}}, {"weight_map", weight_map}}.dump());

  auto run = [](const std::filesystem::path& model_dir) {
    LoadOptions options;
    options.model_dir = model_dir;
    options.compute_type = ComputeType::kF32;
    options.threads = 1;
    auto model = TextModel::load(options);
    testing::GreedyRequest request;
    request.prompt = {151331, 151333, 151336, 198, 9703, 151337, 198};
    for (int32_t i = 0; i < 7; ++i) request.positions.insert(request.positions.end(), {i, i, i});
    request.steps = 1;
    return testing::run_greedy(*model, {request}, {})[0].prompt_logits;
  };
  EXPECT_EQ(run(dir.path()), run(testing::tiny_model_dir()));
}

}  // namespace
}  // namespace glyph::model
