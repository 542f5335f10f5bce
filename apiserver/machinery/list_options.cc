#include "apiserver/machinery/list_options.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>
#include <tuple>

#include "crypto/encoding.h"

namespace stash::apiserver {
namespace {

Result<int64_t> ParseInt(const std::string& name, const std::string& value) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
    return Invalid(name + ": Invalid value: \"" + value + "\": must be an integer");
  }
  return n;
}

bool ParseBool(const std::optional<std::string>& v) {
  return v && (*v == "true" || *v == "1" || *v == "True");
}

Result<IncludeObject> ParseInclude(const std::optional<std::string>& v) {
  if (!v || v->empty() || *v == "Metadata") return IncludeObject::kMetadata;
  if (*v == "None") return IncludeObject::kNone;
  if (*v == "Object") return IncludeObject::kObject;
  return Invalid("includeObject: Unsupported value: \"" + *v +
                 "\": supported values: \"Metadata\", \"None\", \"Object\"");
}

auto Key(const ObjectMeta& m) { return std::tie(m.ns, m.name, m.uid); }

// Continue tokens carry the key of the last object served.
std::string EncodeContinue(const ObjectMeta& m) {
  return Base64Encode(AsBytes(m.ns + '\n' + m.name + '\n' + m.uid));
}

Result<ObjectMeta> DecodeContinue(const std::string& token) {
  auto bytes = Base64Decode(token);
  Error bad = Invalid("continue: Invalid value: \"" + token + "\": continue key is not valid");
  if (!bytes) return bad;
  std::string s(AsString(*bytes));
  size_t a = s.find('\n');
  size_t b = a == std::string::npos ? a : s.find('\n', a + 1);
  if (b == std::string::npos) return bad;
  ObjectMeta m;
  m.ns = s.substr(0, a);
  m.name = s.substr(a + 1, b - a - 1);
  m.uid = s.substr(b + 1);
  return m;
}

}  // namespace

Result<ListOptions> ParseListOptions(const Query& query) {
  ListOptions o;
  if (auto ls = query.Get("labelSelector")) {
    STASH_ASSIGN_OR_RETURN(o.labels, LabelSelector::Parse(*ls));
  }
  if (auto fs = query.Get("fieldSelector")) {
    STASH_ASSIGN_OR_RETURN(o.fields, FieldSelector::Parse(*fs, kFieldSelectorFields));
  }
  if (auto limit = query.Get("limit"); limit && !limit->empty()) {
    STASH_ASSIGN_OR_RETURN(o.limit, ParseInt("limit", *limit));
    o.limit = std::max<int64_t>(o.limit, 0);
  }
  o.continue_token = query.Get("continue").value_or("");
  o.resource_version = query.Get("resourceVersion").value_or("");
  o.watch = ParseBool(query.Get("watch"));
  o.allow_bookmarks = ParseBool(query.Get("allowWatchBookmarks"));
  o.send_initial_events = ParseBool(query.Get("sendInitialEvents"));
  if (auto t = query.Get("timeoutSeconds"); t && !t->empty()) {
    STASH_ASSIGN_OR_RETURN(int64_t seconds, ParseInt("timeoutSeconds", *t));
    if (seconds < 0) return Invalid("timeoutSeconds: Invalid value: must be non-negative");
    o.timeout_seconds = seconds;
  }
  STASH_ASSIGN_OR_RETURN(o.include, ParseInclude(query.Get("includeObject")));
  return o;
}

bool MatchesListOptions(const Object& object, const std::string& ns, const ListOptions& options) {
  const ObjectMeta& m = object.meta;
  if (!ns.empty() && m.ns != ns) return false;
  if (!options.labels.Matches(m.labels)) return false;
  return options.fields.Matches([&](const std::string& field) -> const std::string& {
    return field == "metadata.name" ? m.name : m.ns;
  });
}

void SortObjects(std::vector<ObjectPtr>& objects) {
  auto less = [](const ObjectPtr& a, const ObjectPtr& b) { return Key(a->meta) < Key(b->meta); };
  // Storage usually hands objects over in order already (repositories by
  // name, snapshots by id): one pass instead of n log n long-prefix compares.
  if (!std::is_sorted(objects.begin(), objects.end(), less)) {
    std::sort(objects.begin(), objects.end(), less);
  }
}

Result<std::pair<size_t, size_t>> PageRange(const std::vector<ObjectPtr>& sorted, const ListOptions& options,
                                            ListMeta& meta) {
  auto begin = sorted.begin();
  if (!options.continue_token.empty()) {
    STASH_ASSIGN_OR_RETURN(ObjectMeta after, DecodeContinue(options.continue_token));
    begin = std::upper_bound(sorted.begin(), sorted.end(), after,
                             [](const ObjectMeta& k, const ObjectPtr& o) { return Key(k) < Key(o->meta); });
  }
  auto end = sorted.end();
  if (options.limit > 0 && end - begin > options.limit) {
    end = begin + options.limit;
    meta.continue_token = EncodeContinue((*(end - 1))->meta);
    meta.remaining_items = sorted.end() - end;
  }
  return std::make_pair(static_cast<size_t>(begin - sorted.begin()), static_cast<size_t>(end - sorted.begin()));
}

Result<std::vector<ObjectPtr>> Page(const std::vector<ObjectPtr>& sorted, const ListOptions& options,
                                    ListMeta& meta) {
  STASH_ASSIGN_OR_RETURN(auto range, PageRange(sorted, options, meta));
  return std::vector<ObjectPtr>(sorted.begin() + static_cast<ptrdiff_t>(range.first),
                                sorted.begin() + static_cast<ptrdiff_t>(range.second));
}

// ---- DeleteOptions ----

namespace {

std::optional<std::string> StringMember(const rapidjson::Value& obj, const char* key) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

Status CheckDryRun(const std::vector<std::string>& values, bool& dry_run) {
  for (const auto& v : values) {
    if (v != "All") {
      return Invalid("dryRun: Unsupported value: \"" + v + "\": supported values: \"All\"");
    }
    dry_run = true;
  }
  return Status::Ok();
}

Status ReadBody(const rapidjson::Value& doc, DeleteOptions& o) {
  if (!doc.IsObject()) return Invalid("DeleteOptions must be a JSON object");
  if (auto it = doc.FindMember("dryRun"); it != doc.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsArray()) return Invalid("dryRun: must be a list of strings");
    std::vector<std::string> values;
    for (const auto& v : it->value.GetArray()) {
      if (!v.IsString()) return Invalid("dryRun: must be a list of strings");
      values.emplace_back(v.GetString(), v.GetStringLength());
    }
    STASH_RETURN_IF_ERROR(CheckDryRun(values, o.dry_run));
  }
  if (auto it = doc.FindMember("preconditions"); it != doc.MemberEnd() && it->value.IsObject()) {
    o.precondition_uid = StringMember(it->value, "uid");
    o.precondition_resource_version = StringMember(it->value, "resourceVersion");
  }
  if (auto p = StringMember(doc, "propagationPolicy")) o.propagation_policy = *p;
  if (auto it = doc.FindMember("gracePeriodSeconds"); it != doc.MemberEnd() && it->value.IsInt64()) {
    o.grace_period_seconds = it->value.GetInt64();
  }
  return Status::Ok();
}

}  // namespace

Result<DeleteOptions> ParseDeleteOptions(const Request& request) {
  DeleteOptions o;
  STASH_RETURN_IF_ERROR(CheckDryRun(request.query.GetAll("dryRun"), o.dry_run));
  if (auto p = request.query.Get("propagationPolicy")) o.propagation_policy = *p;
  if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) return o;
  std::string type = request.headers.Get("Content-Type");
  std::string bare = type.substr(0, type.find(';'));
  if (!bare.empty() && bare != "application/json" && bare != "*/*") {
    return Unsupported(type);
  }
  rapidjson::Document doc;
  doc.Parse(request.body.data(), request.body.size());
  if (doc.HasParseError()) return Invalid("the body of the request is not valid JSON DeleteOptions");
  STASH_RETURN_IF_ERROR(ReadBody(doc, o));
  return o;
}

Status CheckPreconditions(const DeleteOptions& options, const Object& object) {
  const auto& m = object.meta;
  if (options.precondition_uid && *options.precondition_uid != m.uid) {
    return Conflict("Precondition failed: UID in precondition: " + *options.precondition_uid +
                    ", UID in object meta: " + m.uid);
  }
  std::string rv = std::to_string(m.resource_version);
  if (options.precondition_resource_version && *options.precondition_resource_version != rv) {
    return Conflict("Precondition failed: ResourceVersion in precondition: " +
                    *options.precondition_resource_version + ", ResourceVersion in object meta: " + rv);
  }
  return Status::Ok();
}

}  // namespace stash::apiserver
