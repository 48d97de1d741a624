#include "workloads/trace_file.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <fstream>
#include <sstream>

#include "sim/error.hpp"
#include "sim/memory_budget.hpp"

namespace workloads {

std::string gunzip(std::string_view data, const std::string& source) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
    throw std::runtime_error("zlib: inflateInit2 failed");
  // The gzip trailer holds the uncompressed size mod 2^32: right for any trace under 4 GiB, so
  // one allocation usually suffices (the loop below still grows when it does not).
  std::size_t guess = data.size() * 4;
  if (data.size() >= 18) {
    const auto* t = reinterpret_cast<const unsigned char*>(data.data() + data.size() - 4);
    const std::size_t isize = t[0] | (t[1] << 8) | (t[2] << 16) | (std::size_t{t[3]} << 24);
    // A truncated or corrupt file has garbage there: trust it only within a plausible ratio.
    if (isize >= data.size() / 2 && isize <= data.size() * 64) guess = isize + 1;
  }
  // Reading it takes the text and about twice that again for the parsed trace.
  auto affordable = [&source](std::size_t text) {
    sim::check_memory_estimate(3.0 * static_cast<double>(text),
                               fmt::format("the trace {} ({} MiB decompressed, or more)", source,
                                           text >> 20));
  };
  affordable(guess);
  std::string out;
  out.resize(std::max<std::size_t>(guess, 1 << 16));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::size_t produced = 0;
  int rc = Z_OK;
  while (true) {
    if (produced == out.size()) {
      affordable(out.size() * 2);
      out.resize(out.size() * 2);
    }
    z.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    z.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size() - produced, 1u << 30));
    const uInt before = z.avail_out;
    rc = inflate(&z, Z_NO_FLUSH);
    produced += before - z.avail_out;
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members (what `cat a.gz b.gz` makes) continue the same text.
      if (z.avail_in == 0) break;
      if (inflateReset(&z) != Z_OK) break;
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && (z.avail_in > 0 || z.avail_out == 0)) continue;  // grow, go on
    const std::string why =
        rc == Z_BUF_ERROR ? "truncated gzip data (the file ends early)"
                          : fmt::format("corrupt gzip data ({})", z.msg ? z.msg : "zlib error");
    const std::size_t at = data.size() - z.avail_in;
    inflateEnd(&z);
    throw sim::InputError(fmt::format("{}: {} at compressed byte {}", source, why, at));
  }
  inflateEnd(&z);
  out.resize(produced);
  return out;
}

std::string read_trace_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw sim::InputError(fmt::format("cannot open trace '{}'", path.string()));
  std::error_code ec;
  if (const auto size = std::filesystem::file_size(path, ec); !ec)
    sim::check_memory_estimate(3.0 * static_cast<double>(size),
                               fmt::format("the trace {} ({} MiB)", path.string(), size >> 20));
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string raw = std::move(ss).str();
  if (raw.size() >= 2 && static_cast<unsigned char>(raw[0]) == 0x1f &&
      static_cast<unsigned char>(raw[1]) == 0x8b)
    return gunzip(raw, path.string());
  return raw;
}

}  // namespace workloads
