// Snapshot JSON in restic 0.14's shape. Fields this version does not know
// (program_version, summary, ... from newer restic) are carried through as
// raw JSON so listing them loses nothing.
#include "storage/snapshot.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <limits>
#include <string_view>
#include <utility>

#include "base/go_json.h"

namespace stash {
namespace {

// Go's zero time.Time (0001-01-01T00:00:00Z): what a snapshot without a
// "time" member decodes to.
constexpr int64_t kGoZeroTimeSeconds = -62135596800;

// ---------------------------------------------------------------------------
// Encoding, in Go struct order with restic 0.14's omitempty rules.

void AppendKey(std::string& out, std::string_view key) {
  out += ",\"";
  out += key;
  out += "\":";
}

void AppendId(std::string& out, std::string_view key, const Id& id) {
  AppendKey(out, key);
  out += '"';
  out += id.Hex();
  out += '"';
}

void AppendUintIfSet(std::string& out, std::string_view key, uint32_t value) {
  if (value == 0) return;
  AppendKey(out, key);
  out += std::to_string(value);
}

void AppendStringIfSet(std::string& out, std::string_view key,
                       std::string_view value) {
  if (value.empty()) return;
  AppendKey(out, key);
  AppendGoJsonString(out, value);
}

// A Go []string: null when empty (restic never writes empty paths).
void AppendStrings(std::string& out, std::string_view key,
                   const std::vector<std::string>& list) {
  AppendKey(out, key);
  if (list.empty()) {
    out += "null";
    return;
  }
  out += '[';
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out += ',';
    AppendGoJsonString(out, list[i]);
  }
  out += ']';
}

void AppendStringsIfSet(std::string& out, std::string_view key,
                        const std::vector<std::string>& list) {
  if (!list.empty()) AppendStrings(out, key, list);
}

// Everything between the braces.
void AppendMembers(std::string& out, const Snapshot& s) {
  out += "\"time\":\"";
  out += FormatRfc3339Nano(s.time);
  out += '"';
  if (s.parent) AppendId(out, "parent", *s.parent);
  AppendId(out, "tree", s.tree);
  AppendStrings(out, "paths", s.paths);
  AppendStringIfSet(out, "hostname", s.hostname);
  AppendStringIfSet(out, "username", s.username);
  AppendUintIfSet(out, "uid", s.uid);
  AppendUintIfSet(out, "gid", s.gid);
  AppendStringsIfSet(out, "excludes", s.excludes);
  AppendStringsIfSet(out, "tags", s.tags);
  if (s.original) AppendId(out, "original", *s.original);
  if (!s.extra_json.empty()) {
    out += ',';
    out += s.extra_json;
  }
}

// ---------------------------------------------------------------------------
// Finding the source text of each top-level member, so unknown ones can be
// kept verbatim. Runs only on text RapidJSON has already accepted, and
// without recursion.

struct RawMember {
  std::string_view key;    // with its quotes and escapes, as written
  std::string_view value;  // as written, inner whitespace included
};

bool IsJsonSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t SkipSpace(std::string_view text, size_t i) {
  while (i < text.size() && IsJsonSpace(text[i])) ++i;
  return i;
}

// `i` is at an opening quote; returns the index after the closing one.
size_t SkipString(std::string_view text, size_t i) {
  for (++i; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      return i + 1;
    }
  }
  return text.size();
}

size_t SkipValue(std::string_view text, size_t i) {
  if (text[i] == '"') return SkipString(text, i);
  if (text[i] != '{' && text[i] != '[') {
    while (i < text.size() && !IsJsonSpace(text[i]) && text[i] != ',' &&
           text[i] != '}' && text[i] != ']') {
      ++i;
    }
    return i;
  }
  size_t depth = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '"') {
      i = SkipString(text, i);
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if ((c == '}' || c == ']') && --depth == 0) return i + 1;
    ++i;
  }
  return i;
}

std::vector<RawMember> ScanMembers(std::string_view text) {
  std::vector<RawMember> members;
  size_t i = SkipSpace(text, 0) + 1;  // past '{'
  while (true) {
    i = SkipSpace(text, i);
    if (i >= text.size() || text[i] != '"') break;  // '}' of an empty object
    const size_t key_end = SkipString(text, i);
    const std::string_view key = text.substr(i, key_end - i);
    const size_t value_start = SkipSpace(text, SkipSpace(text, key_end) + 1);
    const size_t value_end = SkipValue(text, value_start);
    members.push_back({key, text.substr(value_start, value_end - value_start)});
    i = SkipSpace(text, value_end);
    if (i >= text.size() || text[i] != ',') break;
    ++i;
  }
  return members;
}

// Drops whitespace between tokens, as Go's compact output has none.
std::string CompactJson(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size();) {
    if (value[i] == '"') {
      const size_t end = SkipString(value, i);
      out.append(value, i, end - i);
      i = end;
    } else {
      if (!IsJsonSpace(value[i])) out += value[i];
      ++i;
    }
  }
  return out;
}

void AppendExtra(std::string& extra, const RawMember& member) {
  if (!extra.empty()) extra += ',';
  extra += member.key;
  extra += ':';
  extra += CompactJson(member.value);
}

// ---------------------------------------------------------------------------
// Reading fields as Go's encoding/json does (see tree.cc for the rules).

using rapidjson::Value;

std::string_view StringOf(const Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

Error FieldError(std::string_view field, std::string_view problem) {
  return Corrupt("snapshot: " + std::string(field) + ": " +
                 std::string(problem));
}

Status ReadString(const Value& v, std::string_view field, std::string* out) {
  if (v.IsNull()) return Status::Ok();
  if (!v.IsString()) return FieldError(field, "expected a string");
  *out = GoJsonStringValue(StringOf(v));
  return Status::Ok();
}

Status ReadStrings(const Value& v, std::string_view field,
                   std::vector<std::string>* out) {
  out->clear();
  if (v.IsNull()) return Status::Ok();
  if (!v.IsArray()) return FieldError(field, "expected an array of strings");
  for (const Value& item : v.GetArray()) {
    if (!item.IsString()) {
      return FieldError(field, "expected an array of strings");
    }
    out->push_back(GoJsonStringValue(StringOf(item)));
  }
  return Status::Ok();
}

Status ReadUint32(const Value& v, std::string_view field, uint32_t* out) {
  if (v.IsNull()) return Status::Ok();
  if (!v.IsUint()) return FieldError(field, "expected a 32-bit unsigned int");
  *out = v.GetUint();
  return Status::Ok();
}

Status ReadTime(const Value& v, Timestamp* out) {
  if (v.IsNull()) return Status::Ok();
  std::optional<Timestamp> t;
  if (v.IsString()) t = ParseRfc3339(StringOf(v));
  if (!t) return FieldError("time", "expected an RFC 3339 time");
  *out = *t;
  return Status::Ok();
}

Status ReadId(const Value& v, std::string_view field, std::optional<Id>* out) {
  if (v.IsNull()) {
    out->reset();
    return Status::Ok();
  }
  std::optional<Id> id;
  if (v.IsString()) id = Id::FromHex(StringOf(v));
  if (!id) return FieldError(field, "expected a 64-digit hex id");
  *out = id;
  return Status::Ok();
}

// Reads one known member; false in `known` for the rest.
Status ReadMember(std::string_view key, const Value& v, Snapshot& s,
                  std::optional<Id>& tree, bool& known) {
  const auto is = [&](std::string_view field) {
    return GoJsonKeyMatches(key, field);
  };
  known = true;
  if (is("time")) return ReadTime(v, &s.time);
  if (is("parent")) return ReadId(v, "parent", &s.parent);
  if (is("tree")) return ReadId(v, "tree", &tree);
  if (is("paths")) return ReadStrings(v, "paths", &s.paths);
  if (is("hostname")) return ReadString(v, "hostname", &s.hostname);
  if (is("username")) return ReadString(v, "username", &s.username);
  if (is("uid")) return ReadUint32(v, "uid", &s.uid);
  if (is("gid")) return ReadUint32(v, "gid", &s.gid);
  if (is("excludes")) return ReadStrings(v, "excludes", &s.excludes);
  if (is("tags")) return ReadStrings(v, "tags", &s.tags);
  if (is("original")) return ReadId(v, "original", &s.original);
  known = false;
  return Status::Ok();
}

}  // namespace

std::string EncodeSnapshot(const Snapshot& snapshot) {
  std::string out = "{";
  AppendMembers(out, snapshot);
  out += '}';
  return out;
}

std::string EncodeVersionAndSummary(std::string_view program_version,
                                    const SnapshotSummary& s) {
  std::string out = "\"program_version\":";
  AppendGoJsonString(out, program_version);
  out += ",\"summary\":{\"backup_start\":\"" + FormatRfc3339Nano(s.backup_start) +
         "\",\"backup_end\":\"" + FormatRfc3339Nano(s.backup_end) + '"';
  const std::pair<std::string_view, uint64_t> counters[] = {
      {"files_new", s.files_new}, {"files_changed", s.files_changed},
      {"files_unmodified", s.files_unmodified}, {"dirs_new", s.dirs_new},
      {"dirs_changed", s.dirs_changed}, {"dirs_unmodified", s.dirs_unmodified},
      {"data_blobs", s.data_blobs}, {"tree_blobs", s.tree_blobs},
      {"data_added", s.data_added}, {"data_added_packed", s.data_added_packed},
      {"total_files_processed", s.total_files_processed},
      {"total_bytes_processed", s.total_bytes_processed}};
  for (const auto& [key, value] : counters) {
    AppendKey(out, key);
    out += std::to_string(value);
  }
  out += '}';
  return out;
}

std::string EncodeSnapshotListEntry(const Snapshot& snapshot, const Id& id) {
  std::string out = "{";
  AppendMembers(out, snapshot);
  out += ",\"id\":\"" + id.Hex() + "\",\"short_id\":\"" + id.Short() + "\"}";
  return out;
}

Result<Snapshot> DecodeSnapshot(ByteView json) {
  const std::string_view text(json.empty() ? "" : AsString(json).data(),
                              json.size());
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    return Corrupt("snapshot: invalid JSON at byte " +
                   std::to_string(doc.GetErrorOffset()) + ": " +
                   rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return Corrupt("snapshot: not a JSON object");
  const std::vector<RawMember> raw = ScanMembers(text);
  if (raw.size() != doc.MemberCount()) {
    return Corrupt("snapshot: could not delimit the JSON members");
  }
  Snapshot s;
  s.time.seconds = kGoZeroTimeSeconds;
  std::optional<Id> tree;
  size_t index = 0;
  for (const auto& m : doc.GetObject()) {
    bool known = false;
    STASH_RETURN_IF_ERROR(
        ReadMember(StringOf(m.name), m.value, s, tree, known));
    if (!known) AppendExtra(s.extra_json, raw[index]);
    ++index;
  }
  if (!tree) return Corrupt("snapshot: no tree id");
  s.tree = *tree;
  return s;
}

}  // namespace stash
