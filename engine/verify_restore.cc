#include "engine/verify_restore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/paths.h"

namespace stash {
namespace {

class Verifier {
 public:
  Verifier(Repository& repo, const RestoreOptions& options) : repo_(repo), options_(options) {}

  Status Walk(const Id& tree_id, const std::string& location, const std::string& out_path) {
    auto tree = repo_.LoadTree(tree_id);
    if (!tree.ok()) return Status::Ok();  // the restore already named this folder
    for (const Node& n : tree->nodes) {
      std::string loc = JoinPath(location, n.name);
      std::string out = out_path + "/" + n.name;
      auto [selected, descend] = Select(n, loc);
      if (n.type == NodeType::kDir && descend && n.subtree) {
        STASH_RETURN_IF_ERROR(Walk(*n.subtree, loc, out));
      } else if (n.type == NodeType::kFile && selected) {
        ++result_.files;
        if (auto problem = VerifyFile(n, out)) result_.problems.push_back({out, *problem});
      }
    }
    return Status::Ok();
  }

  VerifyResult Take() { return std::move(result_); }

 private:
  // The restorer's choice: excluded, else included (or no --include).
  std::pair<bool, bool> Select(const Node& n, const std::string& location) const {
    bool is_dir = n.type == NodeType::kDir;
    if (!options_.exclude.Empty() && options_.exclude.Match(location)) return {false, false};
    if (options_.include.Empty()) return {true, is_dir};
    bool selected = options_.include.Match(location);
    return {selected, is_dir && (selected || options_.include.ChildMayMatch(location))};
  }

  // restic's messages for a file that does not match its node.
  std::optional<std::string> VerifyFile(const Node& n, const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return "open " + path + ": " + std::strerror(errno);
    struct stat st {};
    std::optional<std::string> problem;
    if (::fstat(fd, &st) != 0) {
      problem = "stat " + path + ": " + std::strerror(errno);
    } else if (static_cast<uint64_t>(st.st_size) != n.size) {
      problem = "Invalid file size for " + path + ": expected " + std::to_string(n.size) + ", got " +
                std::to_string(st.st_size);
    } else {
      problem = CompareContent(fd, n, path);
    }
    ::close(fd);
    return problem;
  }

  std::optional<std::string> CompareContent(int fd, const Node& n, const std::string& path) {
    uint64_t offset = 0;
    for (const Id& blob : n.content.value_or(std::vector<Id>{})) {
      auto where = repo_.index().Lookup(BlobType::kData, blob);
      if (!where) return "Unable to fetch blob " + blob.Hex();
      Bytes buf(where->blob.PlainLength());
      ssize_t got = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(offset));
      if (got != static_cast<ssize_t>(buf.size()) || Sha256(buf) != blob) {
        return "Unexpected content in " + path + ", starting at offset " + std::to_string(offset);
      }
      offset += buf.size();
    }
    return std::nullopt;
  }

  Repository& repo_;
  const RestoreOptions& options_;
  VerifyResult result_;
};

}  // namespace

Result<VerifyResult> VerifyRestore(Repository& repo, const Snapshot& snapshot,
                                   const RestoreOptions& options) {
  STASH_ASSIGN_OR_RETURN(Id tree, FindSubtree(repo, snapshot.tree, options.subfolder));
  std::string target = AbsolutePath(options.target);
  Verifier verifier(repo, options);
  STASH_RETURN_IF_ERROR(verifier.Walk(tree, "/", target == "/" ? "" : target));
  return verifier.Take();
}

}  // namespace stash
