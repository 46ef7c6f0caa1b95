// Behaviour of the Jinja engine that the jinja2 fixtures cannot show: error
// kinds and locations, limits, repeatable and concurrent rendering, and the
// number and JSON formatting helpers.
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "chat/jinja_json.h"
#include "chat/jinja_value.h"
#include "core/error.h"

namespace glyph::chat {
namespace {

using json = nlohmann::ordered_json;

// Parses and renders; returns the error (or fails the test if none is thrown).
Error render_error(const std::string& source, const json& context = json::object()) {
  try {
    ChatTemplate::parse(source)->render(context);
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "no error for template: " << source;
  return Error(ErrorKind::kInternal, "no error");
}

std::string render(const std::string& source, const json& context = json::object()) {
  return ChatTemplate::parse(source)->render(context);
}

std::string read_glyph_template() {
  std::ifstream in(std::string(GLYPH_TEST_DATA_DIR) + "/tiny-glyph/chat_template.jinja");
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

TEST(JinjaErrors, SyntaxErrorHasLineAndColumn) {
  const Error error = render_error("line one\n{{ 1 + }}");
  EXPECT_EQ(error.kind(), ErrorKind::kBadModel);
  EXPECT_NE(std::string(error.what()).find("line 2, column 8"), std::string::npos) << error.what();
}

TEST(JinjaErrors, UnknownFilterHasLocation) {
  const Error error = render_error("{{ x }}\n  {{ x | nosuch }}");
  EXPECT_EQ(error.kind(), ErrorKind::kBadModel);
  EXPECT_NE(std::string(error.what()).find("line 2, column 10"), std::string::npos) << error.what();
  EXPECT_NE(std::string(error.what()).find("nosuch"), std::string::npos) << error.what();
}

TEST(JinjaErrors, ColumnCountsCodePoints) {
  const Error error = render_error("é中 {{ 1 + }}");
  EXPECT_NE(std::string(error.what()).find("line 1, column 11"), std::string::npos) << error.what();
}

TEST(JinjaErrors, UnclosedBlockNamesEndTag) {
  const Error error = render_error("{% for x in y %}\nbody");
  EXPECT_EQ(error.kind(), ErrorKind::kBadModel);
  EXPECT_NE(std::string(error.what()).find("'endfor'"), std::string::npos) << error.what();
}

TEST(JinjaErrors, RaiseExceptionMessageVerbatim) {
  const Error error = render_error("{{ raise_exception('Conversation roles must alternate') }}");
  EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest);
  EXPECT_STREQ(error.what(), "Conversation roles must alternate");
}

TEST(JinjaErrors, RuntimeErrorNamesLine) {
  const Error error = render_error("a\nb\n{{ missing.attr }}");
  EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest);
  EXPECT_NE(std::string(error.what()).find("line 3"), std::string::npos) << error.what();
  EXPECT_NE(std::string(error.what()).find("'missing' is undefined"), std::string::npos) << error.what();
}

TEST(JinjaErrors, ContextMustBeObject) {
  EXPECT_EQ(render_error("x", json::array()).kind(), ErrorKind::kInvalidRequest);
}

TEST(JinjaErrors, OversizedIntegerInContext) {
  const Error error = render_error("{{ n }}", json{{"n", std::numeric_limits<uint64_t>::max()}});
  EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest);
  EXPECT_NE(std::string(error.what()).find("18446744073709551615"), std::string::npos) << error.what();
}

TEST(JinjaErrors, IntegerOverflowRaises) {
  EXPECT_EQ(render_error("{{ 2 ** 64 }}").kind(), ErrorKind::kInvalidRequest);
  EXPECT_EQ(render_error("{{ 9223372036854775807 + 1 }}").kind(), ErrorKind::kInvalidRequest);
}

TEST(JinjaErrors, InvalidUtf8Template) {
  EXPECT_EQ(render_error("abc\xff").kind(), ErrorKind::kBadModel);
}

TEST(JinjaErrors, UnsupportedFilterRaisesWhenRendered) {
  const auto tmpl = ChatTemplate::parse("{% if x %}{{ x | wordwrap }}{% endif %}");
  EXPECT_EQ(tmpl->render(json{{"x", ""}}), "");
  try {
    tmpl->render(json{{"x", "text"}});
    FAIL() << "wordwrap rendered";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest);
    EXPECT_NE(std::string(error.what()).find("not supported"), std::string::npos) << error.what();
  }
}

TEST(JinjaErrors, GeneratorPrintRaises) {
  const Error error = render_error("{{ [1, 2] | map('string') }}");
  EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest);
  EXPECT_NE(std::string(error.what()).find("list filter"), std::string::npos) << error.what();
}

TEST(JinjaLimits, RunawayMacroRecursionRaises) {
  const Error error = render_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest);
  EXPECT_NE(std::string(error.what()).find("recursion"), std::string::npos) << error.what();
}

TEST(JinjaLimits, ModerateMacroRecursionRenders) {
  EXPECT_EQ(render("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% else %}done{% endif %}{% endmacro %}{{ f(100) }}"),
            "done");
}

TEST(JinjaLimits, DeeplyNestedTemplateRejected) {
  const std::string source = "{{ " + std::string(500, '(') + "1" + std::string(500, ')') + " }}";
  EXPECT_EQ(render_error(source).kind(), ErrorKind::kBadModel);
}

TEST(JinjaLimits, NestedParenthesesRender) {
  EXPECT_EQ(render("{{ " + std::string(50, '(') + "1" + std::string(50, ')') + " }}"), "1");
}

TEST(JinjaLimits, DeeplyNestedContextRejected) {
  json value = "leaf";
  for (int i = 0; i < 1000; ++i) value = json::array({value});
  EXPECT_EQ(render_error("{{ v | length }}", json{{"v", value}}).kind(), ErrorKind::kInvalidRequest);
}

TEST(JinjaRender, KeepsContextKeyOrder) {
  json context;
  context["d"] = json::object();
  context["d"]["zeta"] = 1;
  context["d"]["alpha"] = json::array({2, "b"});
  EXPECT_EQ(render("{{ d | tojson }} {{ d }}", context), R"({"zeta": 1, "alpha": [2, "b"]} {'zeta': 1, 'alpha': [2, 'b']})");
}

TEST(JinjaRender, RepeatedRendersAreIndependent) {
  const auto tmpl = ChatTemplate::parse(
      "{% set c = cycler('a', 'b') %}{% set ns = namespace(n=0) %}{% for x in items %}{{ c.next() }}"
      "{% set ns.n = ns.n + x %}{% endfor %}{{ ns.n }}");
  const json context = {{"items", {1, 2, 3}}};
  EXPECT_EQ(tmpl->render(context), "aba6");
  EXPECT_EQ(tmpl->render(context), "aba6");
}

TEST(JinjaRender, ConcurrentRendersMatch) {
  const auto tmpl = ChatTemplate::parse(read_glyph_template());
  json context;
  context["messages"] = json::array();
  for (int i = 0; i < 20; ++i) {
    context["messages"].push_back({{"role", "user"}, {"content", "question " + std::to_string(i)}});
    context["messages"].push_back({{"role", "assistant"}, {"content", "<think>r</think>answer"}});
  }
  context["add_generation_prompt"] = true;
  const std::string expected = tmpl->render(context);
  ASSERT_NE(expected.find("question 19"), std::string::npos);

  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        if (tmpl->render(context) != expected) ++mismatches[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

TEST(JinjaValues, FloatReprMatchesPython) {
  const std::vector<std::pair<double, std::string>> cases = {
      {0.1, "0.1"},
      {1e-5, "1e-05"},
      {1e16, "1e+16"},
      {1e15, "1000000000000000.0"},
      {-0.0, "-0.0"},
      {123456789.0, "123456789.0"},
      {1.5e-7, "1.5e-07"},
      {2.5, "2.5"},
      {1e-4, "0.0001"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {0.0001234, "0.0001234"},
      {12345678901234567.0, "1.2345678901234568e+16"},
      {1.0 / 3.0, "0.3333333333333333"},
      {100.0, "100.0"},
      {std::numeric_limits<double>::infinity(), "inf"},
      {std::nan(""), "nan"},
  };
  for (const auto& [value, expected] : cases) EXPECT_EQ(jinja::python_float_repr(value), expected);
}

TEST(JinjaValues, JsonEnsureAsciiUsesSurrogatePairs) {
  jinja::JsonDumpOptions options;
  options.ensure_ascii = true;
  EXPECT_EQ(jinja::python_json_dumps(jinja::Value("😀é\x7f"), options), R"("\ud83d\ude00\u00e9\u007f")");
  options.ensure_ascii = false;
  EXPECT_EQ(jinja::python_json_dumps(jinja::Value("😀é\x7f"), options), "\"😀é\x7f\"");
}

TEST(JinjaValues, JsonSpecialFloats) {
  const jinja::JsonDumpOptions options;
  EXPECT_EQ(jinja::python_json_dumps(jinja::Value(std::numeric_limits<double>::infinity()), options), "Infinity");
  EXPECT_EQ(jinja::python_json_dumps(jinja::Value(-std::numeric_limits<double>::infinity()), options), "-Infinity");
  EXPECT_EQ(jinja::python_json_dumps(jinja::Value(std::nan("")), options), "NaN");
}

}  // namespace
}  // namespace glyph::chat
