#include "engine/snapshot_filter.h"

#include <algorithm>

namespace stash {
namespace {

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// Go's strings.TrimSpace for the ASCII spaces a flag value can hold.
std::string Trim(std::string_view s) {
  const char* kSpace = " \t\n\r\v\f";
  size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(kSpace);
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

TagList ParseTagList(std::string_view text) {
  TagList out;
  size_t pos = 0;
  while (true) {
    size_t comma = text.find(',', pos);
    out.push_back(Trim(text.substr(pos, comma == std::string_view::npos ? comma : comma - pos)));
    if (comma == std::string_view::npos) return out;
    pos = comma + 1;
  }
}

std::string TagListString(const TagList& list) {
  std::string out = "[";
  for (size_t i = 0; i < list.size(); ++i) out += (i ? ", " : "") + list[i];
  return out + "]";
}

bool HasTags(const Snapshot& s, const TagList& list) {
  for (const auto& tag : list) {
    // restic returns early here, before looking at the rest of the list.
    if (tag.empty() && s.tags.empty()) return true;
    if (!Contains(s.tags, tag)) return false;
  }
  return true;
}

SnapshotFilter MakeSnapshotFilter(std::vector<std::string> hosts,
                                  const std::vector<std::string>& tag_values,
                                  std::vector<std::string> paths) {
  SnapshotFilter f;
  f.hosts = std::move(hosts);
  for (const auto& v : tag_values) f.tags.push_back(ParseTagList(v));
  f.paths = std::move(paths);
  return f;
}

bool MatchesFilter(const Snapshot& s, const SnapshotFilter& f) {
  if (!f.hosts.empty() && !Contains(f.hosts, s.hostname)) return false;
  for (const auto& path : f.paths) {
    if (!Contains(s.paths, path)) return false;
  }
  return f.tags.empty() ||
         std::any_of(f.tags.begin(), f.tags.end(), [&](const TagList& l) { return HasTags(s, l); });
}

}  // namespace stash
