#include "server/model_files.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"

namespace glyph::server {
namespace {

namespace fs = std::filesystem;

const fs::path kTinyModel = fs::path(GLYPH_TEST_DATA_DIR) / "tiny-glyph";

// A fresh empty directory under the system temp directory, removed afterwards.
class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("glyph_model_files_" + std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
  }

 private:
  fs::path path_;
};

TEST(ModelFiles, TemplateFromJinjaFile) {
  const ChatTemplateSource source = find_chat_template(kTinyModel, "");
  EXPECT_EQ(source.origin, (kTinyModel / "chat_template.jinja").string());
  EXPECT_EQ(source.text.rfind("[gMASK]<sop>", 0), 0u);
}

TEST(ModelFiles, TemplateOverrideWins) {
  TempDir dir;
  dir.write("mine.jinja", "{{ messages[0].content }}");
  const ChatTemplateSource source = find_chat_template(kTinyModel, (dir.path() / "mine.jinja").string());
  EXPECT_EQ(source.text, "{{ messages[0].content }}");
}

TEST(ModelFiles, TemplateFromTokenizerConfig) {
  TempDir dir;
  dir.write("tokenizer_config.json", R"({"chat_template": "{{ bos_token }}"})");
  EXPECT_EQ(find_chat_template(dir.path(), "").text, "{{ bos_token }}");

  dir.write("tokenizer_config.json",
            R"({"chat_template": [{"name": "tool_use", "template": "T"},
                                  {"name": "default", "template": "D"}]})");
  EXPECT_EQ(find_chat_template(dir.path(), "").text, "D");
}

TEST(ModelFiles, MissingTemplateNamesFiles) {
  TempDir dir;
  try {
    find_chat_template(dir.path(), "");
    FAIL() << "found a template in an empty directory";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("--chat-template"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("chat_template.jinja"), std::string::npos);
  }
  EXPECT_THROW(find_chat_template(kTinyModel, (dir.path() / "absent.jinja").string()), Error);
}

TEST(ModelFiles, TokenizerSettings) {
  const TokenizerSettings settings = read_tokenizer_settings(kTinyModel);
  EXPECT_EQ(settings.special_tokens["eos_token"], "<|endoftext|>");
  EXPECT_EQ(settings.special_tokens["pad_token"], "<|endoftext|>");
  EXPECT_FALSE(settings.special_tokens.contains("bos_token"));
  EXPECT_EQ(settings.model_max_length, 131072);

  TempDir dir;
  dir.write("tokenizer_config.json",
            R"({"bos_token": {"content": "<s>"}, "model_max_length": 1e30})");
  const TokenizerSettings other = read_tokenizer_settings(dir.path());
  EXPECT_EQ(other.special_tokens["bos_token"], "<s>");
  EXPECT_EQ(other.model_max_length, 0);
}

}  // namespace
}  // namespace glyph::server
