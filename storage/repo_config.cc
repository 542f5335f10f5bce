#include "storage/repo_config.h"

#include <charconv>

#include "base/go_json.h"
#include "base/json_util.h"

namespace stash {

std::string EncodeRepoConfig(const RepoConfig& config) {
  char pol[32];
  auto end = std::to_chars(pol, pol + sizeof pol, config.chunker_polynomial, 16).ptr;
  // The id is escaped as json.Marshal would: a config read from storage may
  // hold any string there, and `cat config` must still print valid JSON.
  std::string out = "{\"version\":" + std::to_string(config.version) + ",\"id\":";
  AppendGoJsonString(out, config.id);
  return out + ",\"chunker_polynomial\":\"" + std::string(pol, end) + "\"}";
}

Result<RepoConfig> DecodeRepoConfig(ByteView bytes) {
  STASH_ASSIGN_OR_RETURN(auto doc, json::Parse(AsString(bytes), "config"));
  RepoConfig config;
  auto version = json::Uint(doc, "version");
  auto id = json::String(doc, "id");
  auto pol = json::String(doc, "chunker_polynomial");
  if (!version || !id || !pol) return Corrupt("config: missing version, id or chunker_polynomial");
  if (*version < kMinRepoVersion || *version > kMaxRepoVersion) {
    return Unsupported("config: unsupported repository version " + std::to_string(*version) +
                       " (supported: 1 and 2)");
  }
  config.version = static_cast<int>(*version);
  config.id = *id;
  auto res = std::from_chars(pol->data(), pol->data() + pol->size(), config.chunker_polynomial, 16);
  if (pol->empty() || res.ec != std::errc() || res.ptr != pol->data() + pol->size()) {
    return Corrupt("config: invalid chunker polynomial \"" + *pol + "\"");
  }
  return config;
}

}  // namespace stash
