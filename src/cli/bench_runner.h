// Runs one `glyph bench`: samples the prompts, warms the server up, sends
// the requests with SGLang bench_serving's arrival process and concurrency
// limit, and prints and appends the result.
#pragma once

#include <ostream>

#include "cli/bench_options.h"

namespace glyph::cli {

// Returns the process exit code: 0 when at least one request succeeded, 1
// when the server could not be reached, the warmup failed or every request
// failed. The result block and progress messages go to `out`, the progress
// bar and failures to stderr. Throws BenchUsageError for invalid options.
int run_bench(const BenchOptions& options, std::ostream& out);

}  // namespace glyph::cli
