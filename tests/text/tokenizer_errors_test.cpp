// Loading rejects missing files, bad JSON and unsupported components with a
// glyph::Error(kBadModel) that names the file and the problem.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "text/tokenizer.h"
#include "tiny_tokenizer.h"

namespace glyph::text {
namespace {

using testing::merge_list;
using testing::tiny_config;

// Returns the message of the kBadModel error that building `config` throws,
// or a note saying what happened instead.
std::string load_error(const nlohmann::json& config) {
  try {
    Tokenizer::from_json(config, "tiny.json");
  } catch (const Error& error) {
    if (error.kind() != ErrorKind::kBadModel) return "wrong kind: " + std::string(error.what());
    return error.what();
  }
  return "no error";
}

// Writes `content` to a file of its own under the temporary directory.
class TempFile {
 public:
  explicit TempFile(const std::string& content)
      : path_(std::filesystem::temp_directory_path() /
              ("glyph_tokenizer_test_" + std::to_string(getpid()) + "_" +
               std::to_string(counter_++) + ".json")) {
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

TEST(TokenizerLoad, MissingFile) {
  const std::string path = "/nonexistent/model/tokenizer.json";
  try {
    Tokenizer::load(path);
    FAIL() << "expected glyph::Error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kBadModel);
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("cannot open"), std::string::npos) << error.what();
  }
}

TEST(TokenizerLoad, InvalidJson) {
  const TempFile file("{\"model\": {\"vocab\": ");
  try {
    Tokenizer::load(file.path());
    FAIL() << "expected glyph::Error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kBadModel);
    const std::string message = error.what();
    EXPECT_NE(message.find(file.path().string()), std::string::npos) << message;
    EXPECT_NE(message.find("invalid JSON"), std::string::npos) << message;
  }
}

TEST(TokenizerLoad, ValidFileLoads) {
  const TempFile file(tiny_config().dump());
  EXPECT_EQ(Tokenizer::load(file.path())->encode("abc"), std::vector<int32_t>{5});
}

// Each case: a change to the tiny tokenizer.json and a phrase the error must contain.
struct BrokenCase {
  const char* name;
  void (*change)(nlohmann::json& config);
  const char* phrase;
};

const BrokenCase kBrokenCases[] = {
    {"top level array", [](nlohmann::json& c) { c = nlohmann::json::array(); }, "top level"},
    {"unknown version", [](nlohmann::json& c) { c["version"] = "2.0"; }, "version"},
    {"no model", [](nlohmann::json& c) { c.erase("model"); }, "\"model\" is missing"},
    {"model type", [](nlohmann::json& c) { c["model"]["type"] = "WordPiece"; }, "WordPiece"},
    {"no vocab", [](nlohmann::json& c) { c["model"].erase("vocab"); }, "model.vocab"},
    {"no merges", [](nlohmann::json& c) { c["model"].erase("merges"); }, "model.merges"},
    {"negative id", [](nlohmann::json& c) { c["model"]["vocab"]["a"] = -1; }, "model.vocab"},
    {"merge of unknown token",
     [](nlohmann::json& c) {
       c["model"]["merges"] = merge_list({{"b", "q"}});
     },
     "'q'"},
    {"merge result not in vocab",
     [](nlohmann::json& c) {
       c["model"]["merges"] = merge_list({{"c", "a"}});
     },
     "'ca'"},
    {"merge string of three parts",
     [](nlohmann::json& c) { c["model"]["merges"] = nlohmann::json::array({"a b c"}); },
     "model.merges[0]"},
    {"merge of wrong type",
     [](nlohmann::json& c) { c["model"]["merges"] = nlohmann::json::array({1}); },
     "model.merges[0]"},
    {"dropout", [](nlohmann::json& c) { c["model"]["dropout"] = 0.1; }, "dropout"},
    {"subword prefix", [](nlohmann::json& c) { c["model"]["continuing_subword_prefix"] = "##"; },
     "continuing_subword_prefix"},
    {"unk token not in vocab", [](nlohmann::json& c) { c["model"]["unk_token"] = "<unk>"; },
     "unk_token"},
    {"normalizer",
     [](nlohmann::json& c) {
       c["normalizer"] = {{"type", "NFC"}};
     },
     "NFC"},
    {"pre-tokenizer type",
     [](nlohmann::json& c) {
       c["pre_tokenizer"] = {{"type", "Whitespace"}};
     },
     "Whitespace"},
    {"pre-tokenizer inside sequence",
     [](nlohmann::json& c) {
       c["pre_tokenizer"] = {{"type", "Sequence"},
                             {"pretokenizers", nlohmann::json::array({{{"type", "Digits"}}})}};
     },
     "pre_tokenizer.pretokenizers[0]"},
    {"regex that does not compile",
     [](nlohmann::json& c) {
       c["pre_tokenizer"] = {{"type", "Split"},
                             {"pattern", {{"Regex", "(ab"}}},
                             {"behavior", "Isolated"},
                             {"invert", false}};
     },
     "does not compile"},
    {"split behaviour",
     [](nlohmann::json& c) {
       c["pre_tokenizer"] = {{"type", "Split"},
                             {"pattern", {{"String", " "}}},
                             {"behavior", "Sideways"},
                             {"invert", false}};
     },
     "behavior"},
    {"split pattern",
     [](nlohmann::json& c) {
       c["pre_tokenizer"] = {{"type", "Split"}, {"pattern", 3}, {"behavior", "Isolated"}};
     },
     "pattern"},
    {"no decoder", [](nlohmann::json& c) { c["decoder"] = nullptr; }, "decoder"},
    {"decoder type",
     [](nlohmann::json& c) {
       c["decoder"] = {{"type", "WordPiece"}};
     },
     "WordPiece"},
    {"added tokens not an array", [](nlohmann::json& c) { c["added_tokens"] = 5; }, "added_tokens"},
    {"added token without content",
     [](nlohmann::json& c) {
       c["added_tokens"] = nlohmann::json::array({{{"id", 9}}});
     },
     "added_tokens[0]"},
    {"added token flag of wrong type",
     [](nlohmann::json& c) {
       c["added_tokens"] =
           nlohmann::json::array({{{"id", 9}, {"content", "<x>"}, {"special", "yes"}}});
     },
     "added_tokens[0].special"},
};

TEST(TokenizerLoad, RejectsBrokenConfigs) {
  for (const BrokenCase& broken : kBrokenCases) {
    nlohmann::json config = tiny_config();
    broken.change(config);
    const std::string message = load_error(config);
    EXPECT_NE(message.find("tiny.json"), std::string::npos) << broken.name << ": " << message;
    EXPECT_NE(message.find(broken.phrase), std::string::npos) << broken.name << ": " << message;
  }
}

}  // namespace
}  // namespace glyph::text
