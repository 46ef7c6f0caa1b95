// Renders every case that tools/make_template_fixtures.py recorded with
// transformers' renderer (Python jinja2) and compares byte for byte: the
// feature snippets and the chat conversations through real templates.
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "core/error.h"

namespace glyph::chat {
namespace {

struct FixtureCase {
  std::string name;
  std::string template_source;
  nlohmann::ordered_json context;
  std::optional<std::string> output;  // expected output, or
  std::string error;                  // "parse" or "render"
  std::string python_error;           // jinja2's exception, for failure messages
  std::string load_error;             // set when the fixture itself could not be read
};

// Printed by GoogleTest for a failing parameter instead of a byte dump.
void PrintTo(const FixtureCase& fixture, std::ostream* out) { *out << fixture.name; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

std::string data_path(const std::string& relative) { return std::string(GLYPH_TEST_DATA_DIR) + "/" + relative; }

// A missing or unreadable fixture becomes one failing case, so that the suite
// cannot pass by running nothing.
std::vector<FixtureCase> load_cases(const std::string& relative_path) {
  std::vector<FixtureCase> cases;
  std::ifstream in(data_path(relative_path));
  if (!in) {
    FixtureCase missing;
    missing.name = "missing_fixture";
    missing.load_error = "cannot open " + data_path(relative_path) + "; run tools/make_template_fixtures.py";
    return {missing};
  }
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto json = nlohmann::ordered_json::parse(line);
    FixtureCase fixture;
    fixture.name = json.at("name").get<std::string>();
    fixture.context = json.at("context");
    // Chat cases name a template file under tests/data; snippets inline it.
    if (json.contains("template_file")) {
      const std::string path = data_path(json.at("template_file").get<std::string>());
      fixture.template_source = read_file(path);
      if (fixture.template_source.empty()) fixture.load_error = "cannot read template " + path;
    } else {
      fixture.template_source = json.at("template").get<std::string>();
    }
    if (json.contains("output")) {
      fixture.output = json.at("output").get<std::string>();
    } else {
      fixture.error = json.at("error").get<std::string>();
      fixture.python_error = json.at("error_class").get<std::string>() + ": " + json.at("error_message").get<std::string>();
    }
    cases.push_back(std::move(fixture));
  }
  return cases;
}

void check_case(const FixtureCase& fixture) {
  ASSERT_TRUE(fixture.load_error.empty()) << fixture.load_error;
  SCOPED_TRACE("template:\n" + fixture.template_source + "\ncontext: " + fixture.context.dump());

  std::unique_ptr<ChatTemplate> tmpl;
  if (fixture.error == "parse") {
    try {
      tmpl = ChatTemplate::parse(fixture.template_source);
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::kBadModel) << error.what();
      return;
    }
    FAIL() << "parse succeeded, but jinja2 raised " << fixture.python_error;
  }

  try {
    tmpl = ChatTemplate::parse(fixture.template_source);
  } catch (const Error& error) {
    FAIL() << "parse failed: " << error.what();
  }

  if (fixture.error == "render") {
    try {
      const std::string output = tmpl->render(fixture.context);
      FAIL() << "render returned \"" << output << "\", but jinja2 raised " << fixture.python_error;
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest) << error.what();
    }
    return;
  }

  try {
    EXPECT_EQ(tmpl->render(fixture.context), *fixture.output);
  } catch (const Error& error) {
    FAIL() << "render failed: " << error.what();
  }
}

std::string case_name(const testing::TestParamInfo<FixtureCase>& info) { return info.param.name; }

class JinjaSnippetTest : public testing::TestWithParam<FixtureCase> {};

TEST_P(JinjaSnippetTest, MatchesJinja2) { check_case(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Fixtures, JinjaSnippetTest, testing::ValuesIn(load_cases("fixtures/jinja_snippets.jsonl")),
                         case_name);

class ChatTemplateCaseTest : public testing::TestWithParam<FixtureCase> {};

TEST_P(ChatTemplateCaseTest, MatchesTransformers) { check_case(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Fixtures, ChatTemplateCaseTest,
                         testing::ValuesIn(load_cases("fixtures/chat_template_cases.jsonl")), case_name);

// The fixture files must keep covering what the engine is tested against.
TEST(JinjaFixtureCoverage, EnoughCases) {
  EXPECT_GE(load_cases("fixtures/jinja_snippets.jsonl").size(), 200u);
  EXPECT_GE(load_cases("fixtures/chat_template_cases.jsonl").size(), 60u);
}

}  // namespace
}  // namespace glyph::chat
