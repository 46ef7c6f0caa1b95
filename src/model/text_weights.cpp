#include "model/text_weights.h"

#include <cmath>

#include <fmt/format.h>

#include "core/error.h"
#include "model/weight_init.h"

namespace glyph::model {

namespace {

class Builder {
 public:
  Builder(TextWeights& weights, ThreadPool& pool) : weights_(weights), pool_(pool) {}

  Tensor allocate(DType dtype, std::initializer_list<int64_t> shape) {
    Tensor tensor(nullptr, dtype, shape);
    weights_.buffers.emplace_back(tensor.bytes());
    tensor.data = weights_.buffers.back().data();
    return tensor;
  }

  // Copies sources, stacked along dim 0, into a new tensor of dtype.
  Tensor stack(const std::vector<Tensor>& sources, DType dtype) {
    int64_t rows = 0;
    for (const Tensor& source : sources) rows += source.dim(0);
    const int64_t columns = sources.front().rank == 2 ? sources.front().dim(1) : 1;
    Tensor result = sources.front().rank == 2 ? allocate(dtype, {rows, columns})
                                              : allocate(dtype, {rows});
    int64_t offset = 0;
    for (const Tensor& source : sources) {
      const int64_t count = source.numel();
      pool_.parallel_for(count, kWeightChunk, [&](int64_t begin, int64_t end) {
        convert_range(source, begin, result, offset + begin, end - begin);
      });
      offset += count;
    }
    return result;
  }

  // source itself when it already has dtype and suitable alignment, else a converted copy.
  Tensor as_dtype(const Tensor& source, DType dtype) {
    const auto address = reinterpret_cast<uintptr_t>(source.data);
    if (source.dtype == dtype && address % dtype_size(dtype) == 0) return source;
    return stack({source}, dtype);
  }

 private:
  TextWeights& weights_;
  ThreadPool& pool_;
};

// Shapes the decoder expects, derived from config.json.
struct Shapes {
  int64_t hidden, heads, kv_heads, head_dim, intermediate, vocab;
  explicit Shapes(const TextConfig& text)
      : hidden(text.hidden_size),
        heads(text.num_attention_heads),
        kv_heads(text.num_key_value_heads),
        head_dim(text.head_dim),
        intermediate(text.intermediate_size),
        vocab(text.vocab_size) {}
  int64_t qkv_rows() const { return (heads + 2 * kv_heads) * head_dim; }
};

class CheckpointReader {
 public:
  CheckpointReader(const Checkpoint& checkpoint, const TextConfig& text)
      : checkpoint_(checkpoint), text_(text) {}

  // Tensor name, checked against the shape config.json implies.
  Tensor get(const std::string& name, std::initializer_list<int64_t> shape) const {
    Tensor tensor = checkpoint_.get(name);
    if (!tensor.same_shape(shape)) {
      Tensor expected(nullptr, tensor.dtype, shape);
      throw_error(ErrorKind::kBadModel,
                  "{}: tensor {} has shape {}, but config.json (hidden_size {}, heads {}, KV "
                  "heads {}, head_dim {}, intermediate_size {}, vocab_size {}) implies {}",
                  checkpoint_.file_name(name), name, tensor.shape_string(), text_.hidden_size,
                  text_.num_attention_heads, text_.num_key_value_heads, text_.head_dim,
                  text_.intermediate_size, text_.vocab_size, expected.shape_string());
    }
    return tensor;
  }

  bool contains(const std::string& name) const { return checkpoint_.contains(name); }

 private:
  const Checkpoint& checkpoint_;
  const TextConfig& text_;
};

// transformers >= 4.52 saves the decoder under model.language_model.; older GLM-4 checkpoints
// under model.
std::string text_prefix(const Checkpoint& checkpoint) {
  if (checkpoint.contains("model.language_model.embed_tokens.weight")) {
    return "model.language_model.";
  }
  if (checkpoint.contains("model.embed_tokens.weight")) return "model.";
  throw_error(ErrorKind::kBadModel,
              "{}: tensor model.language_model.embed_tokens.weight is missing; this is not a "
              "glm4v checkpoint",
              checkpoint.source_name());
}

void count(TextWeights& weights) {
  auto add = [&](const Tensor& tensor) {
    weights.parameter_count += tensor.numel();
    weights.bytes += tensor.bytes();
  };
  add(weights.embed_tokens);
  for (const LayerWeights& layer : weights.layers) {
    for (const Tensor* tensor :
         {&layer.input_layernorm, &layer.qkv_proj, &layer.qkv_bias, &layer.o_proj,
          &layer.post_self_attn_layernorm, &layer.post_attention_layernorm, &layer.gate_up_proj,
          &layer.down_proj, &layer.post_mlp_layernorm}) {
      add(*tensor);
    }
  }
  add(weights.norm);
  if (weights.lm_head.data != weights.embed_tokens.data) add(weights.lm_head);
}

}  // namespace

TextWeights load_text_weights(const ModelConfig& config, std::shared_ptr<const Checkpoint> checkpoint,
                              ComputeType compute_type, ThreadPool& pool) {
  const TextConfig& text = config.text;
  const Shapes shapes(text);
  const DType matrix = linear_dtype(compute_type);
  TextWeights weights;
  Builder builder(weights, pool);
  CheckpointReader reader(*checkpoint, text);
  const std::string prefix = text_prefix(*checkpoint);

  weights.embed_tokens = reader.get(prefix + "embed_tokens.weight", {shapes.vocab, shapes.hidden});

  for (int32_t index = 0; index < text.num_hidden_layers; ++index) {
    const std::string layer_prefix = fmt::format("{}layers.{}.", prefix, index);
    auto norm = [&](const char* name) {
      return builder.as_dtype(reader.get(layer_prefix + name + ".weight", {shapes.hidden}),
                              DType::kF32);
    };
    auto attention = [&](const char* name) { return layer_prefix + "self_attn." + name; };

    LayerWeights layer;
    layer.input_layernorm = norm("input_layernorm");
    layer.post_self_attn_layernorm = norm("post_self_attn_layernorm");
    layer.post_attention_layernorm = norm("post_attention_layernorm");
    layer.post_mlp_layernorm = norm("post_mlp_layernorm");

    const int64_t q_rows = shapes.heads * shapes.head_dim;
    const int64_t kv_rows = shapes.kv_heads * shapes.head_dim;
    layer.qkv_proj = builder.stack({reader.get(attention("q_proj.weight"), {q_rows, shapes.hidden}),
                                    reader.get(attention("k_proj.weight"), {kv_rows, shapes.hidden}),
                                    reader.get(attention("v_proj.weight"), {kv_rows, shapes.hidden})},
                                   matrix);
    // transformers always gives q/k/v a bias; a checkpoint written with attention_bias false
    // may lack them, and then they are zero.
    if (text.attention_bias || reader.contains(attention("q_proj.bias"))) {
      layer.qkv_bias = builder.stack({reader.get(attention("q_proj.bias"), {q_rows}),
                                      reader.get(attention("k_proj.bias"), {kv_rows}),
                                      reader.get(attention("v_proj.bias"), {kv_rows})},
                                     DType::kF32);
    } else {
      layer.qkv_bias = builder.allocate(DType::kF32, {shapes.qkv_rows()});
    }
    layer.o_proj = builder.as_dtype(reader.get(attention("o_proj.weight"), {shapes.hidden, q_rows}),
                                    matrix);
    layer.gate_up_proj = builder.as_dtype(
        reader.get(layer_prefix + "mlp.gate_up_proj.weight", {2 * shapes.intermediate, shapes.hidden}),
        matrix);
    layer.down_proj = builder.as_dtype(
        reader.get(layer_prefix + "mlp.down_proj.weight", {shapes.hidden, shapes.intermediate}),
        matrix);
    weights.layers.push_back(layer);
  }

  weights.norm = builder.as_dtype(reader.get(prefix + "norm.weight", {shapes.hidden}), DType::kF32);
  if (text.tie_word_embeddings) {
    weights.lm_head = builder.as_dtype(weights.embed_tokens, matrix);
  } else {
    weights.lm_head = builder.as_dtype(reader.get("lm_head.weight", {shapes.vocab, shapes.hidden}),
                                       matrix);
  }

  weights.checkpoint = std::move(checkpoint);
  count(weights);
  return weights;
}

TextWeights dummy_text_weights(const ModelConfig& config, ComputeType compute_type, uint64_t seed,
                               ThreadPool& pool, bool fill) {
  const TextConfig& text = config.text;
  const Shapes shapes(text);
  const DType matrix = linear_dtype(compute_type);
  TextWeights weights;
  Builder builder(weights, pool);
  uint64_t stream = seed * 1000003u;

  auto random = [&](DType dtype, std::initializer_list<int64_t> shape, float bound) {
    Tensor tensor = builder.allocate(dtype, shape);
    ++stream;
    if (fill) fill_uniform(tensor, bound, stream, pool);
    return tensor;
  };
  auto ones = [&](int64_t size) {
    Tensor tensor = builder.allocate(DType::kF32, {size});
    if (fill) fill_constant(tensor, 1.0f);
    return tensor;
  };
  auto fan_in_bound = [](int64_t fan_in) { return 1.0f / std::sqrt(static_cast<float>(fan_in)); };

  // The embedding is held in BF16 like a real checkpoint's, whatever the compute type.
  weights.embed_tokens = random(DType::kBF16, {shapes.vocab, shapes.hidden}, 1.0f);
  for (int32_t index = 0; index < text.num_hidden_layers; ++index) {
    LayerWeights layer;
    const int64_t q_rows = shapes.heads * shapes.head_dim;
    layer.input_layernorm = ones(shapes.hidden);
    layer.qkv_proj = random(matrix, {shapes.qkv_rows(), shapes.hidden}, fan_in_bound(shapes.hidden));
    layer.qkv_bias = random(DType::kF32, {shapes.qkv_rows()}, 0.02f);
    layer.o_proj = random(matrix, {shapes.hidden, q_rows}, fan_in_bound(q_rows));
    layer.post_self_attn_layernorm = ones(shapes.hidden);
    layer.post_attention_layernorm = ones(shapes.hidden);
    layer.gate_up_proj =
        random(matrix, {2 * shapes.intermediate, shapes.hidden}, fan_in_bound(shapes.hidden));
    layer.down_proj =
        random(matrix, {shapes.hidden, shapes.intermediate}, fan_in_bound(shapes.intermediate));
    layer.post_mlp_layernorm = ones(shapes.hidden);
    weights.layers.push_back(layer);
  }
  weights.norm = ones(shapes.hidden);
  if (text.tie_word_embeddings) {
    weights.lm_head = builder.as_dtype(weights.embed_tokens, matrix);
  } else {
    weights.lm_head = random(matrix, {shapes.vocab, shapes.hidden}, fan_in_bound(shapes.hidden));
  }

  count(weights);
  return weights;
}

void check_vision_weights(const ModelConfig& config, const Checkpoint& checkpoint) {
  const VisionConfig& vision = config.vision;
  if (vision.depth == 0) return;
  const int64_t width = vision.hidden_size;
  const int64_t out = vision.out_hidden_size;
  const int64_t merge = vision.spatial_merge_size;
  const int64_t patch = vision.patch_size;
  const int64_t positions = (vision.image_size / patch) * (vision.image_size / patch);

  auto expect = [&](const std::string& name, std::initializer_list<int64_t> shape) {
    Tensor tensor = checkpoint.get(name);
    if (!tensor.same_shape(shape)) {
      Tensor expected(nullptr, tensor.dtype, shape);
      throw_error(ErrorKind::kBadModel,
                  "{}: tensor {} has shape {}, but config.json's vision_config implies {}",
                  checkpoint.file_name(name), name, tensor.shape_string(),
                  expected.shape_string());
    }
  };

  const std::string prefix = "model.visual.";
  expect(prefix + "patch_embed.proj.weight",
         {width, vision.in_channels, vision.temporal_patch_size, patch, patch});
  expect(prefix + "patch_embed.proj.bias", {width});
  expect(prefix + "embeddings.position_embedding.weight", {positions, width});
  expect(prefix + "post_conv_layernorm.weight", {width});
  for (int32_t block = 0; block < vision.depth; ++block) {
    const std::string block_prefix = fmt::format("{}blocks.{}.", prefix, block);
    expect(block_prefix + "norm1.weight", {width});
    expect(block_prefix + "norm2.weight", {width});
    expect(block_prefix + "attn.qkv.weight", {3 * width, width});
    expect(block_prefix + "attn.proj.weight", {width, width});
    expect(block_prefix + "mlp.gate_proj.weight", {out, width});
    expect(block_prefix + "mlp.up_proj.weight", {out, width});
    expect(block_prefix + "mlp.down_proj.weight", {width, out});
  }
  expect(prefix + "post_layernorm.weight", {width});
  expect(prefix + "downsample.weight", {out, width, merge, merge});
  expect(prefix + "downsample.bias", {out});
  expect(prefix + "merger.proj.weight", {out, out});
  expect(prefix + "merger.post_projection_norm.weight", {out});
  expect(prefix + "merger.post_projection_norm.bias", {out});
  expect(prefix + "merger.gate_proj.weight", {vision.intermediate_size, out});
  expect(prefix + "merger.up_proj.weight", {vision.intermediate_size, out});
  expect(prefix + "merger.down_proj.weight", {out, vision.intermediate_size});
}

}  // namespace glyph::model
