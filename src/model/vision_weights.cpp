#include "model/vision_weights.h"

#include <cmath>

#include <fmt/format.h>

#include "core/error.h"
#include "model/weight_init.h"

namespace glyph::model {

namespace {

const std::string kPrefix = "model.visual.";

// Sizes the vision tower expects, derived from config.json.
struct Shapes {
  int64_t width, out, intermediate, merge, patch_values, positions;
  explicit Shapes(const VisionConfig& vision)
      : width(vision.hidden_size),
        out(vision.out_hidden_size),
        intermediate(vision.intermediate_size),
        merge(vision.spatial_merge_size),
        patch_values(int64_t{vision.in_channels} * vision.temporal_patch_size * vision.patch_size *
                     vision.patch_size),
        positions(int64_t{vision.image_size / vision.patch_size} *
                  (vision.image_size / vision.patch_size)) {}
};

class Builder {
 public:
  Builder(VisionWeights& weights, ThreadPool& pool) : weights_(weights), pool_(pool) {}

  Tensor allocate(DType dtype, std::initializer_list<int64_t> shape) {
    Tensor tensor(nullptr, dtype, shape);
    weights_.buffers.emplace_back(tensor.bytes());
    tensor.data = weights_.buffers.back().data();
    return tensor;
  }

  // A new tensor of dtype and shape whose element i is sources' element map(i), where the
  // sources are numbered as if stacked along dim 0.
  template <typename Map>
  Tensor gather(const std::vector<Tensor>& sources, DType dtype,
                std::initializer_list<int64_t> shape, Map map) {
    Tensor result = allocate(dtype, shape);
    pool_.parallel_for(result.numel(), kWeightChunk, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        int64_t from = map(i);
        size_t source = 0;
        while (from >= sources[source].numel()) from -= sources[source++].numel();
        write_element(result, i, read_element(sources[source], from));
      }
    });
    return result;
  }

  // source viewed with shape, itself when it already has dtype and alignment, else a copy.
  Tensor as_dtype(Tensor source, DType dtype, std::initializer_list<int64_t> shape) {
    Tensor view(source.data, source.dtype, shape);
    const auto address = reinterpret_cast<uintptr_t>(view.data);
    if (view.dtype == dtype && address % dtype_size(dtype) == 0) return view;
    return gather({view}, dtype, shape, [](int64_t i) { return i; });
  }

 private:
  VisionWeights& weights_;
  ThreadPool& pool_;
};

class CheckpointReader {
 public:
  CheckpointReader(const Checkpoint& checkpoint, const VisionConfig& vision)
      : checkpoint_(checkpoint), vision_(vision) {}

  // model.visual.<name>, checked against the shape config.json implies.
  Tensor get(const std::string& name, std::initializer_list<int64_t> shape) const {
    const std::string full_name = kPrefix + name;
    Tensor tensor = checkpoint_.get(full_name);
    if (!tensor.same_shape(shape)) {
      Tensor expected(nullptr, tensor.dtype, shape);
      throw_error(ErrorKind::kBadModel,
                  "{}: tensor {} has shape {}, but config.json's vision_config (hidden_size {}, "
                  "out_hidden_size {}, intermediate_size {}, patch_size {}, image_size {}) "
                  "implies {}",
                  checkpoint_.file_name(full_name), full_name, tensor.shape_string(),
                  vision_.hidden_size, vision_.out_hidden_size, vision_.intermediate_size,
                  vision_.patch_size, vision_.image_size, expected.shape_string());
    }
    return tensor;
  }

  bool contains(const std::string& name) const { return checkpoint_.contains(kPrefix + name); }

 private:
  const Checkpoint& checkpoint_;
  const VisionConfig& vision_;
};

void count(VisionWeights& weights) {
  auto add = [&](const Tensor& tensor) {
    weights.parameter_count += tensor.numel();
    weights.bytes += tensor.bytes();
  };
  for (const Tensor* tensor :
       {&weights.patch_embed, &weights.patch_embed_bias, &weights.post_conv_layernorm,
        &weights.position_embedding, &weights.post_layernorm, &weights.downsample,
        &weights.downsample_bias, &weights.merger_proj, &weights.merger_norm,
        &weights.merger_norm_bias, &weights.merger_gate_up_proj, &weights.merger_down_proj}) {
    add(*tensor);
  }
  for (const VisionBlockWeights& block : weights.blocks) {
    for (const Tensor* tensor : {&block.norm1, &block.qkv, &block.proj, &block.norm2,
                                 &block.gate_up_proj, &block.down_proj}) {
      add(*tensor);
    }
    if (!block.qkv_bias.empty()) add(block.qkv_bias);
  }
}

// Maps an element of the downsample linear weight [out, (i, j, c)] to its source in the Conv2d
// kernel [out, width, merge, merge]. Element (o, i, j, c) is kernel element (o, c, i, j), because
// the linear layer reads a merged token's patches concatenated in merge order.
int64_t downsample_source(int64_t index, int64_t width, int64_t merge) {
  const int64_t c = index % width;
  const int64_t j = index / width % merge;
  const int64_t i = index / (width * merge) % merge;
  const int64_t o = index / (width * merge * merge);
  return ((o * width + c) * merge + i) * merge + j;
}

}  // namespace

VisionWeights load_vision_weights(const ModelConfig& config,
                                  std::shared_ptr<const Checkpoint> checkpoint,
                                  ComputeType compute_type, ThreadPool& pool) {
  const VisionConfig& vision = config.vision;
  const Shapes shapes(vision);
  const DType matrix = linear_dtype(compute_type);
  VisionWeights weights;
  Builder builder(weights, pool);
  CheckpointReader reader(*checkpoint, vision);
  auto vector = [&](const std::string& name, int64_t size) {
    return builder.as_dtype(reader.get(name, {size}), DType::kF32, {size});
  };
  auto linear = [&](const std::string& name, int64_t rows, int64_t columns) {
    return builder.as_dtype(reader.get(name, {rows, columns}), matrix, {rows, columns});
  };
  auto stacked = [&](const std::string& first, const std::string& second, int64_t rows,
                     int64_t columns) {
    return builder.gather({reader.get(first, {rows, columns}), reader.get(second, {rows, columns})},
                          matrix, {2 * rows, columns}, [](int64_t i) { return i; });
  };

  const int64_t patch = vision.patch_size;
  weights.patch_embed = builder.as_dtype(
      reader.get("patch_embed.proj.weight",
                 {shapes.width, vision.in_channels, vision.temporal_patch_size, patch, patch}),
      matrix, {shapes.width, shapes.patch_values});
  weights.patch_embed_bias = vector("patch_embed.proj.bias", shapes.width);
  weights.post_conv_layernorm = vector("post_conv_layernorm.weight", shapes.width);
  weights.position_embedding = builder.as_dtype(
      reader.get("embeddings.position_embedding.weight", {shapes.positions, shapes.width}),
      DType::kF32, {shapes.positions, shapes.width});

  for (int32_t index = 0; index < vision.depth; ++index) {
    const std::string prefix = fmt::format("blocks.{}.", index);
    VisionBlockWeights block;
    block.norm1 = vector(prefix + "norm1.weight", shapes.width);
    block.qkv = linear(prefix + "attn.qkv.weight", 3 * shapes.width, shapes.width);
    // vision_config.attention_bias is false for every released glm4v model; a checkpoint that
    // has the bias anyway gets it applied.
    if (reader.contains(prefix + "attn.qkv.bias")) {
      block.qkv_bias = vector(prefix + "attn.qkv.bias", 3 * shapes.width);
    }
    block.proj = linear(prefix + "attn.proj.weight", shapes.width, shapes.width);
    block.norm2 = vector(prefix + "norm2.weight", shapes.width);
    block.gate_up_proj = stacked(prefix + "mlp.gate_proj.weight", prefix + "mlp.up_proj.weight",
                                 shapes.out, shapes.width);
    block.down_proj = linear(prefix + "mlp.down_proj.weight", shapes.width, shapes.out);
    weights.blocks.push_back(block);
  }

  weights.post_layernorm = vector("post_layernorm.weight", shapes.width);
  const int64_t merge = shapes.merge;
  const int64_t width = shapes.width;
  weights.downsample =
      builder.gather({reader.get("downsample.weight", {shapes.out, width, merge, merge})}, matrix,
                     {shapes.out, merge * merge * width},
                     [&](int64_t i) { return downsample_source(i, width, merge); });
  weights.downsample_bias = vector("downsample.bias", shapes.out);
  weights.merger_proj = linear("merger.proj.weight", shapes.out, shapes.out);
  weights.merger_norm = vector("merger.post_projection_norm.weight", shapes.out);
  weights.merger_norm_bias = vector("merger.post_projection_norm.bias", shapes.out);
  weights.merger_gate_up_proj =
      stacked("merger.gate_proj.weight", "merger.up_proj.weight", shapes.intermediate, shapes.out);
  weights.merger_down_proj = linear("merger.down_proj.weight", shapes.out, shapes.intermediate);

  weights.checkpoint = std::move(checkpoint);
  count(weights);
  return weights;
}

VisionWeights dummy_vision_weights(const ModelConfig& config, ComputeType compute_type,
                                   uint64_t seed, ThreadPool& pool, bool fill) {
  const VisionConfig& vision = config.vision;
  const Shapes shapes(vision);
  const DType matrix = linear_dtype(compute_type);
  VisionWeights weights;
  Builder builder(weights, pool);
  // A stream space of its own, so the tower's values differ from the text decoder's.
  uint64_t stream = seed * 1000003u + 0x5649534fu;

  auto random = [&](DType dtype, std::initializer_list<int64_t> shape, float bound) {
    Tensor tensor = builder.allocate(dtype, shape);
    ++stream;
    if (fill) fill_uniform_split_mix(tensor, bound, stream, pool);
    return tensor;
  };
  auto ones = [&](int64_t size) {
    Tensor tensor = builder.allocate(DType::kF32, {size});
    if (fill) fill_constant(tensor, 1.0f);
    return tensor;
  };
  auto zeros = [&](int64_t size) { return builder.allocate(DType::kF32, {size}); };
  auto fan_in_bound = [](int64_t fan_in) { return 1.0f / std::sqrt(static_cast<float>(fan_in)); };

  const int64_t width = shapes.width;
  const int64_t out = shapes.out;
  weights.patch_embed =
      random(matrix, {width, shapes.patch_values}, fan_in_bound(shapes.patch_values));
  weights.patch_embed_bias = random(DType::kF32, {width}, 0.02f);
  weights.post_conv_layernorm = ones(width);
  weights.position_embedding = random(DType::kF32, {shapes.positions, width}, 1.0f);
  for (int32_t index = 0; index < vision.depth; ++index) {
    VisionBlockWeights block;
    block.norm1 = ones(width);
    block.qkv = random(matrix, {3 * width, width}, fan_in_bound(width));
    block.proj = random(matrix, {width, width}, fan_in_bound(width));
    block.norm2 = ones(width);
    block.gate_up_proj = random(matrix, {2 * out, width}, fan_in_bound(width));
    block.down_proj = random(matrix, {width, out}, fan_in_bound(out));
    weights.blocks.push_back(block);
  }
  weights.post_layernorm = ones(width);
  const int64_t merged_width = shapes.merge * shapes.merge * width;
  weights.downsample = random(matrix, {out, merged_width}, fan_in_bound(merged_width));
  weights.downsample_bias = random(DType::kF32, {out}, 0.02f);
  weights.merger_proj = random(matrix, {out, out}, fan_in_bound(out));
  weights.merger_norm = ones(out);
  weights.merger_norm_bias = zeros(out);
  weights.merger_gate_up_proj = random(matrix, {2 * shapes.intermediate, out}, fan_in_bound(out));
  weights.merger_down_proj =
      random(matrix, {out, shapes.intermediate}, fan_in_bound(shapes.intermediate));

  count(weights);
  return weights;
}

}  // namespace glyph::model
