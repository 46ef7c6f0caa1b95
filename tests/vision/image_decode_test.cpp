// decode_image against Pillow 13 (Image.open(...).convert("RGB")) on the
// images tools/make_image_fixtures.py wrote, and on malformed input.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "vision/image.h"

namespace glyph::vision {
namespace {

const std::string kDataDir = GLYPH_TEST_DATA_DIR;

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.good()) << "cannot open " << path;
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

std::vector<uint8_t> read_image(const std::string& name) {
  return read_file(kDataDir + "/images/" + name);
}

struct Fixtures {
  nlohmann::json index;
  std::vector<uint8_t> arrays;

  std::vector<uint8_t> bytes(const nlohmann::json& entry) const {
    const size_t offset = entry["offset"].get<size_t>();
    const size_t size = entry["bytes"].get<size_t>();
    return {arrays.begin() + static_cast<ptrdiff_t>(offset),
            arrays.begin() + static_cast<ptrdiff_t>(offset + size)};
  }
};

const Fixtures& fixtures() {
  static const Fixtures loaded = [] {
    Fixtures result;
    std::ifstream index(kDataDir + "/fixtures/image_processor.json");
    result.index = nlohmann::json::parse(index);
    result.arrays = read_file(kDataDir + "/fixtures/image_processor.bin");
    return result;
  }();
  return loaded;
}

bool is_lossy(const std::string& file) {
  return file.ends_with(".jpg") || file.find("lossy") != std::string::npos;
}

struct Difference {
  int max = 0;
  double mean = 0.0;
};

Difference compare(const std::vector<uint8_t>& actual, const std::vector<uint8_t>& expected) {
  Difference difference;
  int64_t total = 0;
  for (size_t i = 0; i < actual.size() && i < expected.size(); ++i) {
    const int delta = std::abs(actual[i] - expected[i]);
    difference.max = std::max(difference.max, delta);
    total += delta;
  }
  difference.mean = expected.empty() ? 0.0 : static_cast<double>(total) / expected.size();
  return difference;
}

TEST(DecodeImage, LosslessFormatsMatchPillowExactly) {
  int checked = 0;
  for (const auto& entry : fixtures().index["images"]) {
    const std::string file = entry["file"];
    if (is_lossy(file)) {
      continue;
    }
    SCOPED_TRACE(file + " (Pillow mode " + entry["pillow_mode"].get<std::string>() + ")");
    const Image image = decode_image(read_image(file));
    EXPECT_EQ(image.width, entry["width"].get<int>());
    EXPECT_EQ(image.height, entry["height"].get<int>());
    const std::vector<uint8_t> expected = fixtures().bytes(entry["decoded_rgb"]);
    ASSERT_EQ(image.rgb.size(), expected.size());
    const Difference difference = compare(image.rgb, expected);
    EXPECT_EQ(difference.max, 0) << "mean difference " << difference.mean;
    ++checked;
  }
  EXPECT_GE(checked, 12);
}

// Pillow 13's wheel bundles libjpeg-turbo 3.2.0 and libwebp 1.6.0. Debian 12's
// libjpeg-turbo 2.1.5 and libwebp 1.2.4 decode these files to the same bytes
// (measured), because both use the same integer IDCT, upsampling and YUV
// conversion. A newer system library that rounds differently would show up
// here first; raise the bound only after measuring it.
constexpr int kMaxLossyDifference = 0;
TEST(DecodeImage, LossyFormatsMatchPillowWithinLibraryDifferences) {
  int checked = 0;
  for (const auto& entry : fixtures().index["images"]) {
    const std::string file = entry["file"];
    if (!is_lossy(file)) {
      continue;
    }
    SCOPED_TRACE(file);
    const Image image = decode_image(read_image(file));
    EXPECT_EQ(image.width, entry["width"].get<int>());
    EXPECT_EQ(image.height, entry["height"].get<int>());
    const std::vector<uint8_t> expected = fixtures().bytes(entry["decoded_rgb"]);
    ASSERT_EQ(image.rgb.size(), expected.size());
    const Difference difference = compare(image.rgb, expected);
    std::cout << file << ": max difference " << difference.max << ", mean " << difference.mean
              << "\n";
    EXPECT_LE(difference.max, kMaxLossyDifference);
    ++checked;
  }
  EXPECT_GE(checked, 4);
}

TEST(DecodeImage, AnimatedImagesGiveTheFirstFrame) {
  for (const std::string file : {"anim_48x40.gif", "anim_50x40.webp"}) {
    SCOPED_TRACE(file);
    bool found = false;
    for (const auto& entry : fixtures().index["images"]) {
      if (entry["file"] == file) {
        found = true;
        EXPECT_EQ(decode_image(read_image(file)).rgb, fixtures().bytes(entry["decoded_rgb"]));
      }
    }
    EXPECT_TRUE(found);
  }
}

TEST(EncodePng, RoundTripsAndIsDeterministic) {
  const Image image = decode_image(read_image("rgb_100x37.png"));
  const std::vector<uint8_t> encoded = encode_png(image);
  EXPECT_EQ(encoded, encode_png(image));
  const Image decoded = decode_image(encoded);
  EXPECT_EQ(decoded.width, image.width);
  EXPECT_EQ(decoded.height, image.height);
  EXPECT_EQ(decoded.rgb, image.rgb);
}

TEST(EncodePng, RejectsMismatchedBuffer) {
  Image image{.width = 4, .height = 4, .rgb = std::vector<uint8_t>(10)};
  EXPECT_THROW(encode_png(image), Error);
}

// Malformed input: each case must throw kInvalidRequest with a message that
// contains the given text.
struct MalformedCase {
  std::string name;
  std::vector<uint8_t> bytes;
  std::string message;
  DecodeLimits limits = {};
};

std::vector<uint8_t> prefix(const std::vector<uint8_t>& bytes, size_t size) {
  return {bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(std::min(size, bytes.size()))};
}

std::vector<MalformedCase> malformed_cases() {
  std::vector<MalformedCase> cases;
  const std::string truncated = "image is truncated: the ";
  cases.push_back({"empty", {}, "image data is empty"});
  cases.push_back({"one byte", {0x5a}, "image format not recognised: send PNG, JPEG, WebP or GIF"});
  cases.push_back({"text",
                   {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'},
                   "image format not recognised"});

  const std::vector<uint8_t> png = read_image("rgb_100x37.png");
  // Inside the signature, the IHDR chunk, the first IDAT and the last IDAT bytes.
  for (size_t size : {size_t{4}, size_t{8}, size_t{20}, size_t{33}, size_t{60}, png.size() / 2,
                      png.size() - 20}) {
    const std::string expected = size < 8 ? "image format not recognised"
                                          : truncated + "PNG data ends before the image does";
    cases.push_back({"PNG cut at " + std::to_string(size), prefix(png, size), expected});
  }
  std::vector<uint8_t> png_bad_crc = png;
  png_bad_crc[29] ^= 0xff;  // The IHDR CRC.
  cases.push_back({"PNG IHDR CRC", png_bad_crc, "image is not a valid PNG file: IHDR: CRC error"});
  std::vector<uint8_t> png_bad_depth = png;
  png_bad_depth[24] = 7;  // Bit depth 7 (the CRC error comes first unless it is fixed).
  cases.push_back({"PNG bit depth", png_bad_depth, "image is not a valid PNG file"});

  const std::vector<uint8_t> jpeg = read_image("photo_420_96x72.jpg");
  for (size_t size : {size_t{3}, size_t{100}, jpeg.size() / 2, jpeg.size() - 10}) {
    cases.push_back({"JPEG cut at " + std::to_string(size), prefix(jpeg, size),
                     truncated + "JPEG data ends before the image does"});
  }
  std::vector<uint8_t> jpeg_bad_precision = jpeg;
  for (size_t i = 2; i + 4 < jpeg_bad_precision.size(); ++i) {
    if (jpeg_bad_precision[i] == 0xff && jpeg_bad_precision[i + 1] == 0xc0) {
      jpeg_bad_precision[i + 4] = 5;  // SOF0 sample precision.
      break;
    }
  }
  cases.push_back({"JPEG precision 5", jpeg_bad_precision,
                   "image is not a valid JPEG file: Unsupported JPEG data precision 5"});
  // A start-of-frame marker whose length field (2) cannot hold a frame header.
  const std::vector<uint8_t> jpeg_bad_length = {0xff, 0xd8, 0xff, 0xc0, 0x00, 0x02, 0x08,
                                                0x00, 0x10, 0x00, 0x10, 0x03, 0xff, 0xd9};
  cases.push_back({"JPEG bad SOF length", jpeg_bad_length, "image is not a valid JPEG file"});

  const std::vector<uint8_t> no_frames = {'G', 'I', 'F', '8', '9', 'a', 4, 0, 4, 0, 0, 0, 0, ';'};
  cases.push_back({"GIF without frames", no_frames,
                   "image is not a valid GIF file: the file contains no image frames"});
  const std::vector<uint8_t> gif = read_image("palette_70x29.gif");
  for (size_t size : {size_t{10}, size_t{100}, gif.size() / 2}) {
    cases.push_back({"GIF cut at " + std::to_string(size), prefix(gif, size),
                     truncated + "GIF data ends before the image does"});
  }

  const std::vector<uint8_t> webp = read_image("lossless_80x60.webp");
  for (size_t size : {size_t{16}, size_t{40}, webp.size() / 2}) {
    cases.push_back({"WebP cut at " + std::to_string(size), prefix(webp, size),
                     truncated + "WebP data ends before the image does"});
  }
  std::vector<uint8_t> webp_bad_chunk = webp;
  webp_bad_chunk[12] = 'X';  // "VP8L" -> "XP8L": no image chunk.
  cases.push_back({"WebP unknown chunk", webp_bad_chunk, "image is not a valid WebP file"});

  cases.push_back({"PNG 100000x100000", read_image("bomb_100000x100000.png"),
                   "image is 100000x100000 = 10000000000 pixels, above the limit of 89478485"});
  cases.push_back({"GIF 65535x65535", read_image("bomb_65535x65535.gif"),
                   "image is 65535x65535 = 4294836225 pixels, above the limit of 89478485"});
  cases.push_back({"JPEG 65000x65000", read_image("bomb_65000x65000.jpg"),
                   "image is 65000x65000 = 4225000000 pixels, above the limit of 89478485"});
  cases.push_back({"WebP 16384x16384", read_image("bomb_16384x16384.webp"),
                   "image is 16384x16384 = 268435456 pixels, above the limit of 89478485"});
  cases.push_back({"over a small pixel limit", png,
                   "image is 100x37 = 3700 pixels, above the limit of 3699",
                   DecodeLimits{.max_pixels = 3699}});
  cases.push_back({"over the byte limit", png, "bytes, above the limit of 100 bytes",
                   DecodeLimits{.max_bytes = 100}});
  return cases;
}

TEST(DecodeImage, MalformedInputThrowsInvalidRequest) {
  for (const MalformedCase& test_case : malformed_cases()) {
    SCOPED_TRACE(test_case.name);
    try {
      decode_image(test_case.bytes, test_case.limits);
      ADD_FAILURE() << "decoded without an error";
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest);
      EXPECT_NE(std::string(error.what()).find(test_case.message), std::string::npos)
          << "message: " << error.what();
    }
  }
}

// Every prefix of every fixture image either decodes or throws
// kInvalidRequest; run under ASan or valgrind this also checks for leaks.
TEST(DecodeImage, EveryTruncationThrowsCleanly) {
  for (const std::string file :
       {"rgb_100x37.png", "palette_trns_50x40.png", "photo_420_96x72.jpg", "cmyk_32x30.jpg",
        "palette_70x29.gif", "lossless_80x60.webp", "anim_50x40.webp"}) {
    SCOPED_TRACE(file);
    const std::vector<uint8_t> bytes = read_image(file);
    int decoded = 0;
    for (size_t size = 0; size < bytes.size(); size += 7) {
      try {
        decode_image(prefix(bytes, size));
        ++decoded;
      } catch (const Error& error) {
        ASSERT_EQ(error.kind(), ErrorKind::kInvalidRequest)
            << "cut at " << size << ": " << error.what();
      }
    }
    // Only cuts inside the trailing chunks (IEND, the GIF trailer) may decode.
    EXPECT_LE(decoded, 3);
  }
}

// Seeded byte corruption: every variant either decodes or throws
// kInvalidRequest. Run under ASan or valgrind to check memory safety too.
TEST(DecodeImage, CorruptedBytesThrowCleanly) {
  std::mt19937 random(20240607);
  // Small pixel limit, so a corrupted size field cannot allocate much.
  const DecodeLimits limits{.max_pixels = 1'000'000};
  for (const std::string file :
       {"rgb_100x37.png", "palette_trns_50x40.png", "gray16_40x33.png", "photo_420_96x72.jpg",
        "cmyk_32x30.jpg", "palette_70x29.gif", "anim_48x40.gif", "lossless_80x60.webp",
        "lossy_alpha_64x64.webp", "anim_50x40.webp"}) {
    SCOPED_TRACE(file);
    const std::vector<uint8_t> original = read_image(file);
    for (int variant = 0; variant < 150; ++variant) {
      std::vector<uint8_t> bytes = original;
      const int flips = 1 + static_cast<int>(random() % 4);
      for (int i = 0; i < flips; ++i) {
        // Skip the signature so each variant reaches its decoder.
        const size_t position = 12 + random() % (bytes.size() - 12);
        bytes[position] = static_cast<uint8_t>(random());
      }
      try {
        const Image image = decode_image(bytes, limits);
        EXPECT_EQ(image.rgb.size(), static_cast<size_t>(image.width) * image.height * 3);
      } catch (const Error& error) {
        ASSERT_EQ(error.kind(), ErrorKind::kInvalidRequest)
            << "variant " << variant << ": " << error.what();
      }
    }
  }
}

// As in Pillow, only the first GIF frame is read. A file cut inside a later
// frame still decodes, and a cut inside the first frame does not.
TEST(DecodeImage, GifCutAfterFirstFrameDecodes) {
  const std::vector<uint8_t> bytes = read_image("anim_48x40.gif");
  const Image whole = decode_image(bytes);
  size_t first_decodable = bytes.size();
  for (size_t size = 0; size < bytes.size(); ++size) {
    try {
      const Image image = decode_image(prefix(bytes, size));
      EXPECT_EQ(image.rgb, whole.rgb) << "cut at " << size;
      first_decodable = std::min(first_decodable, size);
    } catch (const Error& error) {
      ASSERT_EQ(error.kind(), ErrorKind::kInvalidRequest)
          << "cut at " << size << ": " << error.what();
      ASSERT_EQ(first_decodable, bytes.size())
          << "cut at " << size << " fails after a shorter cut decoded";
    }
  }
  EXPECT_LT(first_decodable, bytes.size() - 100);
}

}  // namespace
}  // namespace glyph::vision
