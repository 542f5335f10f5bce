// stash cat: print the decrypted form of a repository object.
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <iostream>

#include "cmd/commands.h"
#include "engine/restorer.h"
#include "storage/key_file.h"

namespace stash::cli {
namespace {

// JSON indented with two spaces, as restic's json.MarshalIndent prints it.
std::string Pretty(ByteView json) {
  rapidjson::Document doc;
  doc.Parse(reinterpret_cast<const char*>(json.data()), json.size());
  if (doc.HasParseError()) return std::string(AsString(json));
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  doc.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

void Write(ByteView bytes) { std::cout.write(reinterpret_cast<const char*>(bytes.data()), bytes.size()); }

Result<Bytes> CatPack(Repository& repo, const std::string& spec) {
  STASH_ASSIGN_OR_RETURN(Id id, repo.ResolvePrefix(FileType::kPack, spec));
  STASH_ASSIGN_OR_RETURN(Bytes raw, repo.backend().Read(FileType::kPack, id.Hex()));
  if (Sha256(raw) != id) return Corrupt("pack " + id.Hex() + ": content does not match its name");
  return raw;
}

Result<Bytes> CatBlob(Repository& repo, const std::string& spec) {
  auto id = Id::FromHex(spec);
  if (!id) return Invalid("blob id must be 64 hex characters: \"" + spec + "\"");
  STASH_RETURN_IF_ERROR(repo.LoadIndex());
  for (BlobType t : {BlobType::kData, BlobType::kTree}) {
    if (repo.index().Has(t, *id)) return repo.LoadBlob(t, *id);
  }
  return NotFound("blob " + spec + " not found in index");
}

// "tree SNAPSHOT[:PATH]" or "tree TREE-ID".
Result<Bytes> CatTree(Repository& repo, const std::string& spec) {
  STASH_RETURN_IF_ERROR(repo.LoadIndex());
  if (auto id = Id::FromHex(spec); id && repo.index().Has(BlobType::kTree, *id)) {
    return repo.LoadBlob(BlobType::kTree, *id);
  }
  auto colon = spec.find(':');
  STASH_ASSIGN_OR_RETURN(auto entry, FindSnapshot(repo, spec.substr(0, colon), {}));
  std::string sub = colon == std::string::npos ? "" : spec.substr(colon + 1);
  STASH_ASSIGN_OR_RETURN(Id tree, FindSubtree(repo, entry.second.tree, sub));
  return repo.LoadBlob(BlobType::kTree, tree);
}

Result<std::string> Cat(Repository& repo, const std::string& what, const std::string& spec) {
  if (what == "config") return Pretty(AsBytes(EncodeRepoConfig(repo.config())));
  if (what == "masterkey") return Pretty(AsBytes(EncodeMasterKey(repo.master_key())));
  if (spec.empty()) return Invalid("cat " + what + " needs an ID");
  if (what == "key") {
    STASH_ASSIGN_OR_RETURN(Id id, repo.ResolvePrefix(FileType::kKey, spec));
    STASH_ASSIGN_OR_RETURN(Bytes raw, repo.backend().Read(FileType::kKey, id.Hex()));
    return Pretty(raw);
  }
  if (what == "index" || what == "lock") {
    FileType t = what == "index" ? FileType::kIndex : FileType::kLock;
    STASH_ASSIGN_OR_RETURN(Id id, repo.ResolvePrefix(t, spec));
    STASH_ASSIGN_OR_RETURN(Bytes plain, repo.LoadFile(t, id));
    return Pretty(plain);
  }
  if (what == "snapshot") {
    STASH_ASSIGN_OR_RETURN(auto entry, FindSnapshot(repo, spec, {}));
    return Pretty(AsBytes(EncodeSnapshot(entry.second)));
  }
  Result<Bytes> raw = what == "pack"   ? CatPack(repo, spec)
                      : what == "blob" ? CatBlob(repo, spec)
                      : what == "tree" ? CatTree(repo, spec)
                                       : Result<Bytes>(Invalid("invalid type \"" + what + "\""));
  if (!raw.ok()) return raw.error();
  return std::string(AsString(*raw));
}

int RunCat(const Args& args, const Globals& g) {
  const auto& pos = args.positional();
  if (pos.empty()) return Fatal("type not specified (config|masterkey|key|index|snapshot|pack|blob|tree|lock)");
  auto repo = OpenRepository(args, g);
  if (!repo.ok()) return Fatal(repo.error());
  auto out = Cat(**repo, pos[0], pos.size() > 1 ? pos[1] : "");
  if (!out.ok()) return Fatal(out.error());
  Write(AsBytes(*out));
  if (pos[0] != "pack" && pos[0] != "blob" && pos[0] != "tree") std::cout << "\n";
  return kExitOk;
}

}  // namespace

Command CatCommand() {
  return {"cat", "Print internal objects to stdout",
          {},
          RunCat, "[flags] [masterkey|config|pack ID|blob ID|snapshot ID|index ID|key ID|lock ID|tree snapshot:subfolder]"};
}

}  // namespace stash::cli
