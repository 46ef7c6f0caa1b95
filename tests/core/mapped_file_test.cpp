#include "core/mapped_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "core/error.h"

namespace glyph {
namespace {

std::filesystem::path temporary_path(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         ("glyph_mapped_file_" + std::to_string(::getpid()) + "_" + name);
}

TEST(MappedFile, MapsContents) {
  const auto path = temporary_path("contents");
  std::ofstream(path, std::ios::binary) << "safetensors";
  {
    MappedFile file(path);
    ASSERT_EQ(file.size(), 11u);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(file.data()), file.size()), "safetensors");
    MappedFile moved = std::move(file);
    EXPECT_EQ(moved.size(), 11u);
    EXPECT_EQ(file.data(), nullptr);
  }
  std::filesystem::remove(path);
}

TEST(MappedFile, MapsEmptyFile) {
  const auto path = temporary_path("empty");
  std::ofstream(path, std::ios::binary).close();
  MappedFile file(path);
  EXPECT_EQ(file.size(), 0u);
  EXPECT_TRUE(file.bytes().empty());
  std::filesystem::remove(path);
}

TEST(MappedFile, MissingFileIsNotFound) {
  const auto path = temporary_path("missing");
  try {
    MappedFile file(path);
    FAIL() << "mapped a missing file";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kNotFound);
    EXPECT_NE(std::string(error.what()).find(path.string()), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace glyph
