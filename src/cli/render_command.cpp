#include "cli/render_command.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/bench_progress_bar.h"
#include "core/error.h"
#include "text/tokenizer.h"
#include "vision/image.h"

namespace glyph::cli {

namespace {

std::string read_input(const std::string& input) {
  if (input == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  if (std::filesystem::is_directory(input)) {
    throw_error(ErrorKind::kInvalidRequest, "--input {} is a directory; name a text file", input);
  }
  std::ifstream file(input, std::ios::binary);
  if (!file) throw_error(ErrorKind::kNotFound, "cannot read input file \"{}\"", input);
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  if (!file) throw_error(ErrorKind::kInternal, "failed to write \"{}\"", path.string());
}

std::filesystem::path tokenizer_json_path(const std::string& path) {
  std::filesystem::path resolved(path);
  if (std::filesystem::is_directory(resolved)) resolved /= "tokenizer.json";
  return resolved;
}

void print_stats(const vision::RenderStats& stats, const std::string& text,
                 const text::Tokenizer* tokenizer) {
  std::printf("pages: %d\n", stats.pages);
  std::printf("image tokens: %lld\n", static_cast<long long>(stats.image_tokens));
  std::printf("image tokens per page: %s\n",
              fmt::format("{}", fmt::join(stats.image_tokens_per_page, " ")).c_str());
  if (!tokenizer) {
    std::printf("text tokens: not counted; pass --tokenizer or --model-path\n");
    return;
  }
  const auto text_tokens = static_cast<int64_t>(tokenizer->encode(text).size());
  std::printf("text tokens: %lld\n", static_cast<long long>(text_tokens));
  std::printf("compression: %.2fx (text tokens / image tokens)\n",
              static_cast<double>(text_tokens) / static_cast<double>(stats.image_tokens));
}

}  // namespace

void add_render_flags(CLI::App& command, RenderCommandOptions& options) {
  vision::RenderOptions& render = options.render;
  command.add_option("--input", options.input, "Text file to render, or - for stdin")->required();
  command
      .add_option("--out", options.output_dir,
                  "Directory for page_001.png, page_002.png, ... (created if missing)")
      ->required();

  command
      .add_option("--dpi", render.dpi,
                  "Pixels per inch; Glyph reads 72 (3-4x compression) "
                  "and 96 (2-3x, more accurate)")
      ->check(CLI::Range(1.0, 1200.0))
      ->capture_default_str();

  command.add_option("--font", render.font_path, "Latin font file (.ttf/.otf); Glyph used Verdana")
      ->capture_default_str();
  command
      .add_option("--cjk-font", render.cjk_font_path,
                  "Font file for the characters the Latin font lacks")
      ->capture_default_str();
  command
      .add_option("--cjk-face-index", render.cjk_face_index,
                  "Face of --cjk-font when it is a .ttc collection")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();

  command.add_option("--font-size", render.font_size_pt, "Font size in points")
      ->check(CLI::Range(1.0, 400.0))
      ->capture_default_str();
  command
      .add_option("--line-height", render.line_height_pt, "Distance between baselines in points")
      ->check(CLI::Range(1.0, 800.0))
      ->capture_default_str();
  command
      .add_option_function<double>(
          "--margin", [&options](const double& margin) { options.margin_pt = margin; },
          "Page margin on every side in points (default: 10)")
      ->check(CLI::Range(0.0, 1000.0));

  // 14400 pt (200 inches) is the largest page PDF allows.
  command.add_option("--page-width", render.page_width_pt, "Page width in points (A4: 595)")
      ->check(CLI::Range(10.0, 14400.0))
      ->capture_default_str();
  command.add_option("--page-height", render.page_height_pt, "Page height in points (A4: 842)")
      ->check(CLI::Range(10.0, 14400.0))
      ->capture_default_str();
  command.add_flag("--no-crop", options.no_crop,
                   "Keep whole pages: no crop to the text width, none below the last line");

  command.add_flag("--stats", options.stats,
                   "Print pages, image tokens and, with a tokenizer, the compression ratio");
  command.add_option_function<std::string>(
      "--tokenizer", [&options](const std::string& path) { options.tokenizer = path; },
      "tokenizer.json, or a model directory with one, that counts the text tokens for --stats");
  command.add_option_function<std::string>(
      "--model-path", [&options](const std::string& path) { options.tokenizer = path; },
      "Model directory whose tokenizer.json counts the text tokens for --stats");
  command.add_flag("--disable-tqdm", options.disable_tqdm, "Do not draw the progress bar");
}

int run_render(const RenderCommandOptions& options) {
  try {
    vision::RenderOptions render = options.render;
    if (options.margin_pt) {
      render.margin_x_pt = *options.margin_pt;
      render.margin_y_pt = *options.margin_pt;
    }
    if (options.no_crop) {
      render.crop_width = false;
      render.crop_last_page = false;
    }
    const std::string text = read_input(options.input);
    // Bad paths fail before any page is drawn.
    std::shared_ptr<const text::Tokenizer> tokenizer;
    if (options.stats && options.tokenizer) {
      tokenizer = text::Tokenizer::load(tokenizer_json_path(*options.tokenizer));
    }
    const std::filesystem::path output_dir(options.output_dir);
    if (output_dir.empty()) throw_error(ErrorKind::kInvalidRequest, "--out is empty; name a directory");
    if (std::filesystem::exists(output_dir) && !std::filesystem::is_directory(output_dir)) {
      throw_error(ErrorKind::kInvalidRequest, "--out {} exists and is not a directory",
                  output_dir.string());
    }

    vision::PageRenderer renderer(render);
    const std::vector<vision::LaidOutPage> pages = renderer.layout(text);
    std::filesystem::create_directories(output_dir);

    // Pages are drawn and written one at a time, so memory stays at one page.
    vision::RenderStats stats;
    stats.pages = static_cast<int32_t>(pages.size());
    ProgressBar progress(static_cast<int64_t>(pages.size()),
                         !options.disable_tqdm && pages.size() > 1);
    for (size_t i = 0; i < pages.size(); ++i) {
      const vision::Image image = renderer.draw(pages[i], i + 1 == pages.size());
      write_file(output_dir / fmt::format("page_{:03d}.png", i + 1), vision::encode_png(image));
      if (options.stats) {
        const int64_t tokens = vision::count_image_tokens(image.width, image.height);
        stats.image_tokens_per_page.push_back(tokens);
        stats.image_tokens += tokens;
      }
      progress.advance();
    }
    progress.close();

    std::printf("Wrote %zu page%s to %s\n", pages.size(), pages.size() == 1 ? "" : "s",
                output_dir.string().c_str());
    if (options.stats) print_stats(stats, text, tokenizer.get());
    return 0;
  } catch (const std::exception& error) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
}

void add_render_command(CLI::App& app) {
  auto options = std::make_shared<RenderCommandOptions>();
  CLI::App* render = app.add_subcommand(
      "render", "Render text to page images as Glyph reads it (A4, 72 dpi, 9 pt on 10 pt)");
  add_render_flags(*render, *options);
  render->callback([options] {
    const int exit_code = run_render(*options);
    if (exit_code != 0) throw CLI::RuntimeError(exit_code);
  });
}

}  // namespace glyph::cli
