// `glyph render`: text to page images the way Glyph was trained to read them.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "vision/page_render.h"

namespace glyph::cli {

struct RenderCommandOptions {
  std::string input;       // A text file, or "-" for stdin.
  std::string output_dir;  // Receives page_001.png, page_002.png, ...
  vision::RenderOptions render;
  std::optional<double> margin_pt;  // Sets both margins.
  bool no_crop = false;
  bool stats = false;
  // tokenizer.json, or a model directory that has one, for --stats.
  std::optional<std::string> tokenizer;
  bool disable_tqdm = false;
};

void add_render_flags(CLI::App& command, RenderCommandOptions& options);

// Renders the input and writes the pages; with --stats prints page and token
// counts. Returns the process exit code and prints any error to stderr.
int run_render(const RenderCommandOptions& options);

// Adds "render". It runs from its CLI11 callback during app.parse(); a failed
// run prints what went wrong and raises CLI::RuntimeError with exit code 1.
void add_render_command(CLI::App& app);

}  // namespace glyph::cli
