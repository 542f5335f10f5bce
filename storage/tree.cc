// Tree blobs: restic 0.14's node JSON, written by hand so the bytes (and so
// the tree ids) match restic's, and read with RapidJSON as leniently as Go's
// encoding/json reads them.
#include "storage/tree.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <sys/stat.h>

#include <algorithm>
#include <limits>
#include <string_view>

#include "base/go_json.h"
#include "crypto/encoding.h"

namespace stash {
namespace {

struct NodeTypeEntry {
  NodeType type;
  const char* name;
};

constexpr NodeTypeEntry kNodeTypes[] = {
    {NodeType::kFile, "file"},       {NodeType::kDir, "dir"},
    {NodeType::kSymlink, "symlink"}, {NodeType::kDev, "dev"},
    {NodeType::kCharDev, "chardev"}, {NodeType::kFifo, "fifo"},
    {NodeType::kSocket, "socket"},
};

// ---------------------------------------------------------------------------
// Encoding. Members are appended in Go struct order; `omitempty` members
// are skipped when zero/empty.

// `,"key":` (keys are plain ASCII, so they need no escaping).
void AppendKey(std::string& out, std::string_view key) {
  out += ",\"";
  out += key;
  out += "\":";
}

void AppendUint(std::string& out, std::string_view key, uint64_t value) {
  AppendKey(out, key);
  out += std::to_string(value);
}

void AppendUintIfSet(std::string& out, std::string_view key, uint64_t value) {
  if (value != 0) AppendUint(out, key, value);
}

void AppendStringIfSet(std::string& out, std::string_view key,
                       std::string_view value) {
  if (value.empty()) return;
  AppendKey(out, key);
  AppendGoJsonString(out, value);
}

void AppendTime(std::string& out, std::string_view key, const Timestamp& t) {
  AppendKey(out, key);
  out += '"';
  out += FormatRfc3339Nano(t);
  out += '"';
}

void AppendId(std::string& out, const Id& id) {
  out += '"';
  out += id.Hex();
  out += '"';
}

// restic 0.14 JSON-encodes the target as is, which turns bytes that are not
// UTF-8 into U+FFFD and loses them. Like restic >= 0.16 we then also store
// the raw bytes as base64 in `linktarget_raw` (older versions ignore it), so
// only such targets differ from 0.14's bytes.
void AppendLinkTarget(std::string& out, const std::string& target) {
  AppendStringIfSet(out, "linktarget", target);
  const bool valid_utf8 = GoJsonStringValue(target) == target;
  if (valid_utf8) return;
  AppendKey(out, "linktarget_raw");
  AppendGoJsonString(out, Base64Encode(AsBytes(target)));
}

void AppendXattrs(std::string& out,
                  const std::vector<ExtendedAttribute>& attrs) {
  if (attrs.empty()) return;
  AppendKey(out, "extended_attributes");
  out += '[';
  for (size_t i = 0; i < attrs.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"name\":";
    AppendGoJsonString(out, attrs[i].name);
    out += ",\"value\":";
    AppendGoJsonString(out, Base64Encode(attrs[i].value));
    out += '}';
  }
  out += ']';
}

// Never omitted: null for non-files, [] for an empty file.
void AppendContent(std::string& out,
                   const std::optional<std::vector<Id>>& content) {
  AppendKey(out, "content");
  if (!content) {
    out += "null";
    return;
  }
  out += '[';
  for (size_t i = 0; i < content->size(); ++i) {
    if (i > 0) out += ',';
    AppendId(out, (*content)[i]);
  }
  out += ']';
}

void AppendNode(std::string& out, const Node& node) {
  // restic strconv.Quotes the name (minus the quotes) before JSON encoding
  // it; no other field gets this treatment.
  out += "{\"name\":";
  AppendGoJsonString(out, GoQuoteInner(node.name));
  AppendKey(out, "type");
  AppendGoJsonString(out, NodeTypeName(node.type));
  AppendUintIfSet(out, "mode", node.mode);
  AppendTime(out, "mtime", node.mtime);
  AppendTime(out, "atime", node.atime);
  AppendTime(out, "ctime", node.ctime);
  AppendUint(out, "uid", node.uid);
  AppendUint(out, "gid", node.gid);
  AppendStringIfSet(out, "user", node.user);
  AppendStringIfSet(out, "group", node.group);
  AppendUintIfSet(out, "inode", node.inode);
  AppendUintIfSet(out, "device_id", node.device_id);
  AppendUintIfSet(out, "size", node.size);
  AppendUintIfSet(out, "links", node.links);
  AppendLinkTarget(out, node.linktarget);
  AppendXattrs(out, node.extended_attributes);
  AppendUintIfSet(out, "device", node.device);
  AppendContent(out, node.content);
  if (node.subtree) {
    AppendKey(out, "subtree");
    AppendId(out, *node.subtree);
  }
  AppendStringIfSet(out, "error", node.error);
  out += '}';
}

// ---------------------------------------------------------------------------
// Decoding. Like Go: unknown keys are ignored, a JSON null leaves a field
// as it was, keys match case-insensitively and a later duplicate wins; a
// value of the wrong type is an error.

using rapidjson::Value;

std::string_view StringOf(const Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

Error FieldError(std::string_view field, std::string_view problem) {
  return Corrupt(std::string(field) + ": " + std::string(problem));
}

Status ReadString(const Value& v, std::string_view field, std::string* out) {
  if (v.IsNull()) return Status::Ok();
  if (!v.IsString()) return FieldError(field, "expected a string");
  *out = GoJsonStringValue(StringOf(v));
  return Status::Ok();
}

// An unsigned integer that fits in T; Go rejects fractions, exponents,
// negative numbers and overflow alike.
template <class T>
Status ReadUint(const Value& v, std::string_view field, T* out) {
  if (v.IsNull()) return Status::Ok();
  if (!v.IsUint64() || v.GetUint64() > std::numeric_limits<T>::max()) {
    return FieldError(field, "expected an unsigned integer of its range");
  }
  *out = static_cast<T>(v.GetUint64());
  return Status::Ok();
}

Status ReadTime(const Value& v, std::string_view field, Timestamp* out) {
  if (v.IsNull()) return Status::Ok();
  std::optional<Timestamp> t;
  if (v.IsString()) t = ParseRfc3339(StringOf(v));
  if (!t) return FieldError(field, "expected an RFC 3339 time");
  *out = *t;
  return Status::Ok();
}

Result<Id> ParseId(const Value& v, std::string_view field) {
  std::optional<Id> id;
  if (v.IsString()) id = Id::FromHex(StringOf(v));
  if (!id) return FieldError(field, "expected a 64-digit hex id");
  return *id;
}

Status ReadOptionalId(const Value& v, std::string_view field,
                      std::optional<Id>* out) {
  if (v.IsNull()) {
    out->reset();
    return Status::Ok();
  }
  STASH_ASSIGN_OR_RETURN(*out, ParseId(v, field));
  return Status::Ok();
}

// Go's []byte: a base64 string, or null for nil.
Status ReadBase64(const Value& v, std::string_view field,
                  std::optional<Bytes>* out) {
  if (v.IsNull()) {
    out->reset();
    return Status::Ok();
  }
  std::optional<Bytes> bytes;
  if (v.IsString()) bytes = Base64Decode(StringOf(v));
  if (!bytes) return FieldError(field, "expected base64");
  *out = std::move(bytes);
  return Status::Ok();
}

// null and [] stay apart: null marks a non-file, [] an empty file.
Status ReadContent(const Value& v, std::optional<std::vector<Id>>* out) {
  if (v.IsNull()) {
    out->reset();
    return Status::Ok();
  }
  if (!v.IsArray()) return FieldError("content", "expected an array");
  std::vector<Id> ids;
  ids.reserve(v.Size());
  for (const Value& item : v.GetArray()) {
    STASH_ASSIGN_OR_RETURN(Id id, ParseId(item, "content"));
    ids.push_back(id);
  }
  *out = std::move(ids);
  return Status::Ok();
}

Result<ExtendedAttribute> ReadXattr(const Value& v) {
  if (!v.IsObject()) {
    return FieldError("extended_attributes", "expected objects");
  }
  ExtendedAttribute attr;
  for (const auto& m : v.GetObject()) {
    const std::string_view key = StringOf(m.name);
    if (GoJsonKeyMatches(key, "name")) {
      STASH_RETURN_IF_ERROR(ReadString(m.value, "xattr name", &attr.name));
    } else if (GoJsonKeyMatches(key, "value")) {
      std::optional<Bytes> value;
      STASH_RETURN_IF_ERROR(ReadBase64(m.value, "xattr value", &value));
      attr.value = value ? std::move(*value) : Bytes();
    }
  }
  return attr;
}

Status ReadXattrs(const Value& v, std::vector<ExtendedAttribute>* out) {
  out->clear();
  if (v.IsNull()) return Status::Ok();
  if (!v.IsArray()) {
    return FieldError("extended_attributes", "expected an array");
  }
  for (const Value& item : v.GetArray()) {
    STASH_ASSIGN_OR_RETURN(ExtendedAttribute attr, ReadXattr(item));
    out->push_back(std::move(attr));
  }
  return Status::Ok();
}

// The fields whose JSON form differs from Node's, resolved after all
// members were read.
struct RawNodeFields {
  std::optional<std::string> quoted_name;
  std::optional<std::string> type;
  std::optional<Bytes> linktarget_raw;
};

Status ReadOptionalString(const Value& v, std::string_view field,
                          std::optional<std::string>* out) {
  if (v.IsNull()) return Status::Ok();
  std::string s;
  STASH_RETURN_IF_ERROR(ReadString(v, field, &s));
  *out = std::move(s);
  return Status::Ok();
}

Status ReadNodeMember(std::string_view key, const Value& v, Node& node,
                      RawNodeFields& raw) {
  const auto is = [&](std::string_view field) {
    return GoJsonKeyMatches(key, field);
  };
  if (is("name")) return ReadOptionalString(v, "name", &raw.quoted_name);
  if (is("type")) return ReadOptionalString(v, "type", &raw.type);
  if (is("mode")) return ReadUint(v, "mode", &node.mode);
  if (is("mtime")) return ReadTime(v, "mtime", &node.mtime);
  if (is("atime")) return ReadTime(v, "atime", &node.atime);
  if (is("ctime")) return ReadTime(v, "ctime", &node.ctime);
  if (is("uid")) return ReadUint(v, "uid", &node.uid);
  if (is("gid")) return ReadUint(v, "gid", &node.gid);
  if (is("user")) return ReadString(v, "user", &node.user);
  if (is("group")) return ReadString(v, "group", &node.group);
  if (is("inode")) return ReadUint(v, "inode", &node.inode);
  if (is("device_id")) return ReadUint(v, "device_id", &node.device_id);
  if (is("size")) return ReadUint(v, "size", &node.size);
  if (is("links")) return ReadUint(v, "links", &node.links);
  if (is("linktarget")) return ReadString(v, "linktarget", &node.linktarget);
  if (is("linktarget_raw")) {
    return ReadBase64(v, "linktarget_raw", &raw.linktarget_raw);
  }
  if (is("extended_attributes")) {
    return ReadXattrs(v, &node.extended_attributes);
  }
  if (is("device")) return ReadUint(v, "device", &node.device);
  if (is("content")) return ReadContent(v, &node.content);
  if (is("subtree")) return ReadOptionalId(v, "subtree", &node.subtree);
  if (is("error")) return ReadString(v, "error", &node.error);
  return Status::Ok();  // generic_attributes and anything newer
}

Status ResolveRawFields(const RawNodeFields& raw, Node& node) {
  if (!raw.quoted_name) return Corrupt("node has no name");
  std::optional<std::string> name = GoUnquoteInner(*raw.quoted_name);
  if (!name) {
    return Corrupt("node name \"" + *raw.quoted_name +
                   "\" is not a valid Go-quoted string");
  }
  node.name = std::move(*name);
  if (!raw.type) return Corrupt("node \"" + node.name + "\" has no type");
  std::optional<NodeType> type = NodeTypeFromName(*raw.type);
  if (!type) {
    return Corrupt("node \"" + node.name + "\" has unknown type \"" +
                   *raw.type + "\"");
  }
  node.type = *type;
  // Newer restic keeps targets that are not UTF-8 here.
  if (raw.linktarget_raw) node.linktarget = AsString(*raw.linktarget_raw);
  return Status::Ok();
}

Result<Node> DecodeNode(const Value& v) {
  if (!v.IsObject()) return Corrupt("node is not a JSON object");
  Node node;
  RawNodeFields raw;
  for (const auto& m : v.GetObject()) {
    STASH_RETURN_IF_ERROR(ReadNodeMember(StringOf(m.name), m.value, node, raw));
  }
  STASH_RETURN_IF_ERROR(ResolveRawFields(raw, node));
  return node;
}

Status DecodeNodes(const Value& v, std::vector<Node>* nodes) {
  nodes->clear();
  if (v.IsNull()) return Status::Ok();
  if (!v.IsArray()) return Corrupt("\"nodes\" is not an array");
  nodes->reserve(v.Size());
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    Result<Node> node = DecodeNode(v[i]);
    if (!node.ok()) return node.error().Wrap("node " + std::to_string(i));
    nodes->push_back(std::move(node).value());
  }
  return Status::Ok();
}

}  // namespace

const char* NodeTypeName(NodeType type) {
  for (const auto& entry : kNodeTypes) {
    if (entry.type == type) return entry.name;
  }
  return "";
}

std::optional<NodeType> NodeTypeFromName(std::string_view name) {
  for (const auto& entry : kNodeTypes) {
    if (name == entry.name) return entry.type;
  }
  return std::nullopt;
}

uint32_t GoModeFromUnix(uint32_t st_mode) {
  uint32_t mode = st_mode & gomode::kPerm;
  switch (st_mode & S_IFMT) {
    case S_IFDIR: mode |= gomode::kDir; break;
    case S_IFLNK: mode |= gomode::kSymlink; break;
    case S_IFBLK: mode |= gomode::kDevice; break;
    case S_IFCHR: mode |= gomode::kDevice | gomode::kCharDevice; break;
    case S_IFIFO: mode |= gomode::kNamedPipe; break;
    case S_IFSOCK: mode |= gomode::kSocket; break;
    default: break;  // regular files carry no type bit
  }
  if (st_mode & S_ISUID) mode |= gomode::kSetuid;
  if (st_mode & S_ISGID) mode |= gomode::kSetgid;
  if (st_mode & S_ISVTX) mode |= gomode::kSticky;
  return mode;
}

uint32_t UnixPermissionsFromGoMode(uint32_t go_mode) {
  uint32_t perm = go_mode & gomode::kPerm;
  if (go_mode & gomode::kSetuid) perm |= S_ISUID;
  if (go_mode & gomode::kSetgid) perm |= S_ISGID;
  if (go_mode & gomode::kSticky) perm |= S_ISVTX;
  return perm;
}

Bytes EncodeTree(const Tree& tree) {
  std::string out = "{\"nodes\":[";
  for (size_t i = 0; i < tree.nodes.size(); ++i) {
    if (i > 0) out += ',';
    AppendNode(out, tree.nodes[i]);
  }
  out += "]}\n";
  return ToBytes(out);
}

Result<Tree> DecodeTree(ByteView json) {
  rapidjson::Document doc;
  // Iterative parsing: deeply nested input must not exhaust the stack.
  const char* text = json.empty() ? "" : AsString(json).data();
  doc.Parse<rapidjson::kParseIterativeFlag>(text, json.size());
  if (doc.HasParseError()) {
    return Corrupt("tree: invalid JSON at byte " +
                   std::to_string(doc.GetErrorOffset()) + ": " +
                   rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return Corrupt("tree: not a JSON object");
  Tree tree;
  for (const auto& m : doc.GetObject()) {
    if (!GoJsonKeyMatches(StringOf(m.name), "nodes")) continue;
    Status status = DecodeNodes(m.value, &tree.nodes);
    if (!status.ok()) return status.error().Wrap("tree");
  }
  return tree;
}

void SortTree(Tree& tree) {
  // std::string compares bytes as unsigned char, like Go's string <.
  const auto by_name = [](const Node& a, const Node& b) {
    return a.name < b.name;
  };
  std::stable_sort(tree.nodes.begin(), tree.nodes.end(), by_name);
}

namespace {

bool SameTime(const Timestamp& a, const Timestamp& b) { return a == b && a.utc_offset == b.utc_offset; }

bool SameAttributes(const std::vector<ExtendedAttribute>& a, const std::vector<ExtendedAttribute>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.name == y.name && x.value == y.value;
  });
}

}  // namespace

bool SameEncoding(const Node& a, const Node& b) {
  return a.name == b.name && a.type == b.type && a.mode == b.mode && SameTime(a.mtime, b.mtime) &&
         SameTime(a.atime, b.atime) && SameTime(a.ctime, b.ctime) && a.uid == b.uid && a.gid == b.gid &&
         a.user == b.user && a.group == b.group && a.inode == b.inode && a.device_id == b.device_id &&
         a.size == b.size && a.links == b.links && a.linktarget == b.linktarget &&
         SameAttributes(a.extended_attributes, b.extended_attributes) && a.device == b.device &&
         a.content == b.content && a.subtree == b.subtree && a.error == b.error;
}

bool SameEncoding(const Tree& a, const Tree& b) {
  return std::equal(a.nodes.begin(), a.nodes.end(), b.nodes.begin(), b.nodes.end(),
                    [](const Node& x, const Node& y) { return SameEncoding(x, y); });
}

}  // namespace stash
