#include "server/media_source.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"

namespace glyph::server {
namespace {

namespace fs = std::filesystem;

std::string as_text(const std::vector<uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

// The message of the glyph::Error that reading reference throws.
std::string refusal(const std::string& reference, const MediaSourceOptions& options = {}) {
  try {
    read_media_bytes(reference, options);
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest);
    return error.what();
  }
  ADD_FAILURE() << "accepted " << reference;
  return "";
}

TEST(Base64, DecodesRfc4648Vectors) {
  // RFC 4648 section 10.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ""},         {"Zg==", "f"},     {"Zm8=", "fo"},         {"Zm9v", "foo"},
      {"Zm9vYg==", "foob"}, {"Zm9vYmE=", "fooba"}, {"Zm9vYmFy", "foobar"}};
  for (const auto& [encoded, decoded] : cases) {
    std::vector<uint8_t> bytes;
    ASSERT_TRUE(decode_base64(encoded, bytes)) << encoded;
    EXPECT_EQ(as_text(bytes), decoded);
  }
}

TEST(Base64, AcceptsMissingPaddingAndLineBreaks) {
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(decode_base64("Zm9v\nYmE", bytes));
  EXPECT_EQ(as_text(bytes), "fooba");
}

TEST(Base64, RejectsMalformedInput) {
  std::vector<uint8_t> bytes;
  for (const char* bad : {"Z", "Zm9vY", "Zg=a", "Zg===", "Zm9v!", "Zm-_"}) {
    EXPECT_FALSE(decode_base64(bad, bytes)) << bad;
  }
}

TEST(MediaSource, ReadsDataUrls) {
  EXPECT_EQ(as_text(read_media_bytes("data:image/png;base64,Zm9vYmFy", {})), "foobar");
  EXPECT_EQ(as_text(read_media_bytes("DATA:image/png;base64,Zm9v", {})), "foo");
  EXPECT_NE(refusal("data:image/png,rawbytes").find("not base64"), std::string::npos);
  EXPECT_NE(refusal("data:image/png;base64").find("no comma"), std::string::npos);
  EXPECT_NE(refusal("data:image/png;base64,Zm9v!").find("not valid base64"), std::string::npos);
}

TEST(MediaSource, BareBase64OnlyWhereAllowed) {
  MediaSourceOptions options;
  options.allow_bare_base64 = true;
  EXPECT_EQ(as_text(read_media_bytes("Zm9vYmFy", options)), "foobar");
  // Chat image_url parts take no bare base64, so a path that decodes as base64 stays a path.
  EXPECT_NE(refusal("/data/images/page1").find("local image files are disabled"),
            std::string::npos);
  EXPECT_NE(refusal("/data/images/page1", options).find("local image files are disabled"),
            std::string::npos);
  EXPECT_NE(refusal("Zm9vYmFy").find("local image files are disabled"), std::string::npos);
}

TEST(MediaSource, RefusesLargeImages) {
  MediaSourceOptions options;
  options.max_image_bytes = 4;
  EXPECT_NE(refusal("data:image/png;base64,Zm9vYmFy", options).find("above the limit of 4 bytes"),
            std::string::npos);
}

TEST(MediaSource, LocalFilesOnlyUnderTheAllowedDirectory) {
  const fs::path root = fs::temp_directory_path() / "glyph-media-source-test";
  fs::create_directories(root / "inside");
  std::ofstream(root / "inside" / "page.png") << "inside";
  std::ofstream(root / "outside.png") << "outside";

  EXPECT_NE(refusal((root / "inside" / "page.png").string()).find("local image files are disabled"),
            std::string::npos);

  MediaSourceOptions options;
  options.allowed_local_media_path = (root / "inside").string() + "/";
  EXPECT_EQ(as_text(read_media_bytes((root / "inside" / "page.png").string(), options)), "inside");
  EXPECT_EQ(as_text(read_media_bytes("page.png", options)), "inside");
  EXPECT_EQ(as_text(read_media_bytes("file://" + (root / "inside" / "page.png").string(), options)),
            "inside");
  EXPECT_EQ(as_text(read_media_bytes(
                "file://localhost" + (root / "inside" / "page.png").string(), options)),
            "inside");
  std::ofstream(root / "inside" / "two words.png") << "escaped";
  EXPECT_EQ(as_text(read_media_bytes(
                "file://" + (root / "inside").string() + "/two%20words.png", options)),
            "escaped");
  for (const std::string& escape :
       {(root / "outside.png").string(), std::string("../outside.png"),
        (root / "inside" / ".." / "outside.png").string()}) {
    EXPECT_NE(refusal(escape, options).find("outside --allowed-local-media-path"),
              std::string::npos)
        << escape;
  }
  EXPECT_NE(refusal("missing.png", options).find("does not exist"), std::string::npos);
  fs::remove_all(root);
}

TEST(MediaSource, RemoteUrlsNeedTheFlag) {
  EXPECT_NE(refusal("https://127.0.0.1:9/page.png").find("--allow-remote-media"),
            std::string::npos);
  EXPECT_NE(refusal("ftp://127.0.0.1/page.png").find("not supported"), std::string::npos);
}

TEST(MediaSource, UnreachableUrlIsABadRequest) {
  MediaSourceOptions options;
  options.allow_remote_media = true;
  options.fetch_timeout_seconds = 2;
  // Port 9 (discard) on loopback has no listener here.
  const std::string message = refusal("http://127.0.0.1:9/page.png", options);
  EXPECT_NE(message.find("could not fetch http://127.0.0.1:9/page.png: Couldn't connect to server"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find("took longer"), std::string::npos) << message;
}

TEST(MediaSource, UrlSchemeIgnoresCase) {
  MediaSourceOptions options;
  options.allow_remote_media = true;
  options.fetch_timeout_seconds = 2;
  // curl tried to connect, so it accepted the upper-case scheme.
  const std::string message = refusal("HTTP://127.0.0.1:9/page.png", options);
  EXPECT_NE(message.find("Couldn't connect to server"), std::string::npos) << message;
}

TEST(MediaSource, MessagesHideUrlCredentials) {
  MediaSourceOptions options;
  options.fetch_timeout_seconds = 2;
  const std::string url = "http://alice:s3cret@127.0.0.1:9/page.png?size=1";
  const std::string disabled = refusal(url, options);
  EXPECT_NE(disabled.find("image URLs are disabled (http://127.0.0.1:9/page.png?size=1)"),
            std::string::npos)
      << disabled;

  options.allow_remote_media = true;
  const std::string failed = refusal(url, options);
  EXPECT_NE(failed.find("could not fetch http://127.0.0.1:9/page.png?size=1:"), std::string::npos)
      << failed;
  EXPECT_EQ(failed.find("s3cret"), std::string::npos) << failed;
  EXPECT_EQ(failed.find("alice"), std::string::npos) << failed;
}

TEST(MediaSource, LongUrlsAreShortenedInMessages) {
  const std::string url = "http://127.0.0.1:9/" + std::string(200, 'a') + ".png";
  const std::string message = refusal(url);
  EXPECT_NE(message.find(url.substr(0, 48) + "..."), std::string::npos) << message;
  EXPECT_EQ(message.find(url.substr(0, 49)), std::string::npos) << message;
}

}  // namespace
}  // namespace glyph::server
