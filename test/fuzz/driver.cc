// A main() for fuzz targets where libFuzzer is missing (gcc builds).
//
//   driver FILE|DIR...                       replays every input once
//   driver --mutate N --seed S FILE|DIR...   also runs N mutants of them
//
// Mutants are deterministic for a given seed and corpus, so a failure in CI
// reproduces with the same command line. The input that crashed is written
// to ./crash-<hash> (on abort, a signal, or a sanitizer report) for the
// seeds. Leaks are reported at exit, after the input is gone.
#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

// Sanitizer hooks, used only in sanitized builds. Stop on the first UBSan
// report (by default gcc's UBSan prints and carries on, and the test would
// pass), and die by abort() so OnSignal below saves the input.
extern "C" const char* __ubsan_default_options() {
  return "halt_on_error=1:abort_on_error=1:print_stacktrace=1";
}
extern "C" const char* __asan_default_options() { return "detect_leaks=1:abort_on_error=1"; }

namespace {

using Input = std::vector<uint8_t>;
constexpr size_t kMaxSize = 64 * 1024;  // bigger inputs only slow the search

const Input* g_current = nullptr;

// Async-signal-safe: saves the input being run, named by its FNV-1a hash.
void SaveCurrent() {
  if (!g_current) return;
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : *g_current) h = (h ^ b) * 1099511628211ull;
  char name[32] = "crash-";
  for (int i = 0; i < 16; ++i) name[6 + i] = "0123456789abcdef"[(h >> (60 - 4 * i)) & 15];
  int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  if (!g_current->empty() && write(fd, g_current->data(), g_current->size()) < 0) {}
  close(fd);
  const char msg[] = "\nfuzz driver: input saved to ";
  if (write(2, msg, sizeof msg - 1) < 0 || write(2, name, 22) < 0 || write(2, "\n", 1) < 0) {}
}

void OnSignal(int sig) {
  SaveCurrent();
  g_current = nullptr;
  signal(sig, SIG_DFL);  // die by the same signal: the test fails
  raise(sig);
}

void Run(const Input& input) {
  // An exact-size heap copy, so ASan sees any read past the end.
  Input copy(input);
  g_current = &copy;
  LLVMFuzzerTestOneInput(copy.empty() ? nullptr : copy.data(), copy.size());
  g_current = nullptr;
}

// splitmix64: tiny, fast and identical everywhere.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  size_t Below(size_t n) { return n ? Next() % n : 0; }
};

// Tokens that push text parsers into their edge cases (numbers that
// overflow, escapes, structure characters, YAML document markers).
const char* const kTokens[] = {
    "0", "-1", "255", "65536", "2147483647", "2147483648", "4294967295", "4294967296",
    "9223372036854775807", "18446744073709551615", "18446744073709551616", "1e999",
    "-0", "0.5", "null", "true", "\"", "\\", "\\u0000", "\\ud800", "[", "]", "{", "}",
    ",", ":", "<", ">", "/>", "&#", "&#x110000;", "&amp;", "<![CDATA[", "]]>", "(", ")",
    "!", "=", "==", "!=", " in ", " notin ", "\n", "---\n", "- ", "&a", "*a", "!!binary ",
    "%", "%zz", "%2F", "/", "?", "&", "+", "\xff", "\xc3\x28", "\x00"};

const uint64_t kInteresting[] = {0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
                                 0x7fffffff, 0x80000000, 0xffffffff, ~0ull};

void Mutate(Input& d, const std::vector<Input>& seeds, Rng& rng) {
  size_t pos = rng.Below(d.size() + 1);
  switch (rng.Below(10)) {
    case 0:  // flip one bit
      if (!d.empty()) d[rng.Below(d.size())] ^= uint8_t(1u << rng.Below(8));
      break;
    case 1:  // overwrite a byte
      if (!d.empty()) d[rng.Below(d.size())] = uint8_t(rng.Next());
      break;
    case 2:  // insert random bytes
      for (size_t n = 1 + rng.Below(4); n; --n) d.insert(d.begin() + pos, uint8_t(rng.Next()));
      break;
    case 3: {  // delete a range
      size_t n = std::min(d.size() - std::min(pos, d.size()), 1 + rng.Below(16));
      d.erase(d.begin() + pos, d.begin() + pos + n);
      break;
    }
    case 4: {  // duplicate a range somewhere else
      if (d.empty()) break;
      size_t from = rng.Below(d.size()), n = 1 + rng.Below(std::min<size_t>(d.size() - from, 64));
      Input chunk(d.begin() + from, d.begin() + from + n);
      d.insert(d.begin() + rng.Below(d.size() + 1), chunk.begin(), chunk.end());
      break;
    }
    case 5: {  // splice: our head, another seed's tail
      const Input& o = seeds[rng.Below(seeds.size())];
      size_t cut = rng.Below(o.size() + 1);
      d.resize(pos);
      d.insert(d.end(), o.begin() + cut, o.end());
      break;
    }
    case 6: {  // an interesting integer, 1/2/4/8 bytes, either endianness
      size_t w = size_t{1} << rng.Below(4);
      if (d.size() < w) break;
      size_t at = rng.Below(d.size() - w + 1);
      uint64_t v = kInteresting[rng.Below(std::size(kInteresting))];
      bool big = rng.Below(2);
      for (size_t i = 0; i < w; ++i) d[at + i] = uint8_t(v >> (8 * (big ? w - 1 - i : i)));
      break;
    }
    case 7:  // truncate
      d.resize(pos);
      break;
    case 8: case 9: {  // insert a token, or replace a run of digits with one
      std::string t = kTokens[rng.Below(std::size(kTokens))];
      if (t.empty()) t.push_back('\0');  // "\x00" is an empty C string
      size_t end = pos;
      if (rng.Below(2)) {
        while (end < d.size() && (isdigit(d[end]) || d[end] == '-')) ++end;
      }
      d.erase(d.begin() + pos, d.begin() + end);
      d.insert(d.begin() + pos, t.begin(), t.end());
      break;
    }
  }
  if (d.size() > kMaxSize) d.resize(kMaxSize);
}

bool Load(const std::filesystem::path& path, std::vector<Input>& out) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(path, ec)) {
      if (e.is_regular_file()) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());  // directory order is not stable
    for (const auto& f : files) Load(f, out);
    return !ec;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t mutations = 0, seed = 1;
  std::vector<Input> seeds;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "--mutate" || a == "--seed") && i + 1 < argc) {
      (a == "--mutate" ? mutations : seed) = std::strtoull(argv[++i], nullptr, 10);
    } else if (!Load(a, seeds)) {
      std::fprintf(stderr, "fuzz driver: cannot read %s\n", a.c_str());
      return 2;
    }
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "usage: %s [--mutate N --seed S] FILE|DIR...\n", argv[0]);
    return 2;
  }
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) signal(sig, OnSignal);

  for (const auto& s : seeds) Run(s);
  Rng rng{seed};
  Input last;
  for (uint64_t n = 0; n < mutations; ++n) {
    // Half the time keep mutating the previous mutant, to get further from
    // the seeds than one step.
    Input d = (!last.empty() && rng.Below(2)) ? last : seeds[rng.Below(seeds.size())];
    for (size_t k = 1 + rng.Below(4); k; --k) Mutate(d, seeds, rng);
    Run(d);
    last = std::move(d);
  }
  std::printf("fuzz driver: %zu seeds replayed, %llu mutations run (seed %llu)\n", seeds.size(),
              static_cast<unsigned long long>(mutations), static_cast<unsigned long long>(seed));
  return 0;
}
