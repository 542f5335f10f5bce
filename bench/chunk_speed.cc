// chunk_speed: how fast one core cuts the files of a folder into chunks as
// a backup does (restic's content-defined chunker with a random
// polynomial), for bench/bound.py's CPU bound.
//
//   chunk_speed DIR   ->  {"chunk_mbs": <MB/s>, "bytes": <bytes>, "chunks": <n>}
//
// The files are read into memory first, so only the chunker is timed; the
// best of three passes is printed (others may load the machine).
#include <dirent.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "engine/chunker.h"
#include "engine/polynomial.h"

namespace {

// Regular files below `dir`, not following symlinks.
void ReadTree(const std::string& dir, std::vector<stash::Bytes>& files, uint64_t& total) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string path = dir + "/" + name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      ReadTree(path, files, total);
    } else if (S_ISREG(st.st_mode)) {
      std::ifstream in(path, std::ios::binary);
      stash::Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      total += data.size();
      files.push_back(std::move(data));
    }
  }
  ::closedir(d);
}

// Chunks every file once; returns the number of chunks.
uint64_t ChunkAll(const stash::ChunkerTables& tables, const std::vector<stash::Bytes>& files) {
  uint64_t chunks = 0;
  for (const auto& f : files) {
    stash::Chunker c(tables);
    stash::ByteView rest(f);
    while (!rest.empty()) {
      size_t n = c.Find(rest);
      rest = rest.subspan(n);
      if (c.AtBoundary()) ++chunks;
    }
    if (c.CurrentLength() > 0) ++chunks;
  }
  return chunks;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: chunk_speed DIR\n");
    return 2;
  }
  std::vector<stash::Bytes> files;
  uint64_t total = 0;
  ReadTree(argv[1], files, total);
  if (total == 0) {
    std::fprintf(stderr, "chunk_speed: no bytes in regular files below %s\n", argv[1]);
    return 1;
  }
  const stash::ChunkerTables tables(stash::RandomPolynomial());
  double best = 0;
  uint64_t chunks = 0;
  for (int pass = 0; pass < 3; ++pass) {
    auto start = std::chrono::steady_clock::now();
    chunks = ChunkAll(tables, files);
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    if (took.count() > 0) best = std::max(best, static_cast<double>(total) / took.count());
  }
  std::printf("{\"chunk_mbs\": %.1f, \"bytes\": %llu, \"chunks\": %llu}\n", best / 1e6,
              static_cast<unsigned long long>(total), static_cast<unsigned long long>(chunks));
  return 0;
}
