// Helpers shared by the engine's unit tests: files, a fresh repository,
// and trees built directly in a repository, so their shapes (hard links,
// folder times, many files, repeated and large blobs) are exact.
#pragma once

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "storage/backends/local_backend.h"
#include "storage/repository.h"

namespace stash::testing {

inline void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline std::unique_ptr<Repository> NewRepo(const std::string& path) {
  InitOptions o;
  o.chunker_polynomial = 0x3DA3358B4DC173;
  o.kdf = {1024, 8, 1};
  auto r = Repository::Init(std::make_unique<LocalBackend>(path), "pw", o);
  REQUIRE(r.ok());
  return std::move(*r);
}

inline Timestamp At(int64_t seconds, uint32_t nanos = 0) {
  Timestamp t;
  t.seconds = seconds;
  t.nanos = nanos;
  return t;
}

class TreeMaker {
 public:
  explicit TreeMaker(Repository& repo) : repo_(repo) {}

  Id Blob(const std::string& data) {
    Bytes b = ToBytes(data);
    Id id = Sha256(b);
    REQUIRE(repo_.SaveBlob(BlobType::kData, id, b).ok());
    return id;
  }

  // A file made of these chunks (one blob each).
  Node File(const std::string& name, const std::vector<std::string>& chunks, uint32_t perm = 0644) {
    Node n;
    n.name = name;
    n.type = NodeType::kFile;
    n.mode = perm;
    n.mtime = n.atime = At(1'500'000'000 + static_cast<int64_t>(++files_), 111);
    n.content = std::vector<Id>{};
    for (const auto& c : chunks) {
      n.content->push_back(Blob(c));
      n.size += c.size();
    }
    n.links = 1;
    return n;
  }

  Node Dir(const std::string& name, std::vector<Node> nodes, Timestamp mtime, uint32_t perm = 0755) {
    Node n;
    n.name = name;
    n.type = NodeType::kDir;
    n.mode = gomode::kDir | perm;
    n.mtime = n.atime = mtime;
    n.subtree = SaveTree(std::move(nodes));
    return n;
  }

  Snapshot Snap(std::vector<Node> nodes) {
    Snapshot s;
    s.time = Timestamp::Now();
    s.paths = {"/data"};
    s.tree = SaveTree(std::move(nodes));
    REQUIRE(repo_.Flush().ok());
    return s;
  }

 private:
  Id SaveTree(std::vector<Node> nodes) {
    Tree t;
    t.nodes = std::move(nodes);
    SortTree(t);
    auto id = repo_.SaveTree(t);
    REQUIRE(id.ok());
    return *id;
  }

  Repository& repo_;
  size_t files_ = 0;
};

inline struct stat Lstat(const std::string& path) {
  struct stat st;
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st;
}

inline void CheckTimes(const std::string& path, const Timestamp& t) {
  struct stat st = Lstat(path);
  INFO(path);
  CHECK(st.st_mtim.tv_sec == t.seconds);
  CHECK(st.st_mtim.tv_nsec == t.nanos);
}

inline std::string Content(size_t i) {
  return "file " + std::to_string(i) + " " + std::string(i % 997, static_cast<char>('a' + i % 26));
}

// `count` files "f10", "f11", ... of one blob each, file k holding Content(k).
inline std::vector<Node> NumberedFiles(TreeMaker& m, size_t count) {
  std::vector<Node> nodes;
  for (size_t i = 0; i < count; ++i) nodes.push_back(m.File("f" + std::to_string(10 + i), {Content(i)}));
  return nodes;
}

}  // namespace stash::testing
