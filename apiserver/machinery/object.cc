#include "apiserver/machinery/object.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>

namespace stash::apiserver {

namespace {

const char kPartialVersion[] = "meta.k8s.io/v1";

// Kubernetes' HumanDuration into `buf` (at least 32 bytes); returns the length.
size_t FormatDuration(char* buf, int64_t s) {
  char* p = buf;
  auto num = [&](int64_t n, char unit) {
    p = std::to_chars(p, buf + 32, n).ptr;
    *p++ = unit;
  };
  auto two = [&](int64_t a, char ua, int64_t b, char ub) {
    num(a, ua);
    if (b != 0) num(b, ub);
  };
  if (s < -1) {
    std::memcpy(p, "<invalid>", 9);
    return 9;
  }
  if (s < 0) s = 0;
  if (s < 120) {
    num(s, 's');
  } else if (int64_t minutes = s / 60; minutes < 10) {
    two(minutes, 'm', s % 60, 's');
  } else if (minutes < 180) {
    num(minutes, 'm');
  } else if (int64_t hours = s / 3600; hours < 8) {
    two(hours, 'h', minutes % 60, 'm');
  } else if (hours < 48) {
    num(hours, 'h');
  } else if (hours < 24 * 8) {
    two(hours / 24, 'd', hours % 24, 'h');
  } else if (hours < 24 * 365 * 2) {
    num(hours / 24, 'd');
  } else if (hours < 24 * 365 * 8) {
    two(hours / 24 / 365, 'y', (hours / 24) % 365, 'd');
  } else {
    num(hours / 24 / 365, 'y');
  }
  return static_cast<size_t>(p - buf);
}

// The row's cells as sealed: ages left out, their places recorded.
void SealRow(Object& object) {
  auto& r = object.rendered;
  JsonOut out;
  out.Open().Key("cells").OpenArray();
  for (const auto& cell : object.cells) {
    if (cell.kind == Cell::kAge) {
      // An empty value keeps JsonOut's commas in place; the age goes there.
      out.Raw("");
      r.ages.push_back({out.str().size(), cell.number});
    } else {
      WriteCellValue(out, cell);
    }
  }
  out.CloseArray();  // the row's object stays open: its "object" member and brace come per request
  r.row = out.Take();
}

}  // namespace

void Seal(Object& object, const std::string& api_version, const std::string& kind) {
  object.rendered = {};
  JsonOut meta;
  WriteMetadata(meta, object.meta);
  object.rendered.metadata = meta.Take();
  JsonOut whole;
  WriteObject(whole, api_version, kind, object);
  object.rendered.object = whole.Take();
  JsonOut partial;
  WritePartialMetadata(partial, object, kPartialVersion);
  object.rendered.partial = partial.Take();
  SealRow(object);
  object.rendered.shape = ShapeOf(api_version, kind);
}

const SealShape* ShapeOf(const std::string& api_version, const std::string& kind) {
  // Few shapes ever exist (one per resource and version served); a map's
  // nodes stay where they were first put.
  static std::mutex mu;
  static std::map<std::pair<std::string, std::string>, SealShape> shapes;
  std::lock_guard lock(mu);
  auto it = shapes.try_emplace({api_version, kind}, SealShape{api_version, kind}).first;
  return &it->second;
}

ObjectPtr WithResourceVersion(const ObjectPtr& object, uint64_t resource_version) {
  auto copy = std::make_shared<Object>(*object);
  copy->meta.resource_version = resource_version;
  if (const SealShape* shape = object->rendered.shape) Seal(*copy, shape->api_version, shape->kind);
  return copy;
}

std::string HumanDuration(int64_t seconds) {
  char buf[32];
  return std::string(buf, FormatDuration(buf, seconds));
}

void AppendAge(std::string& out, int64_t time, int64_t now) {
  char buf[32];
  size_t n = time == 0 ? 0 : FormatDuration(buf, now - time);
  if (time == 0 || buf[0] == '<') {
    // "<unknown>" and "<invalid>" go out escaped, as Go escapes < and >.
    AppendGoJsonString(out, time == 0 ? std::string_view("<unknown>") : std::string_view(buf, n));
    return;
  }
  out += '"';
  out.append(buf, n);
  out += '"';
}

void AppendRowCells(std::string& out, const Object& object, int64_t now) {
  const auto& r = object.rendered;
  if (r.row.empty()) {
    JsonOut cells;
    cells.Open().Key("cells").OpenArray();
    for (const auto& cell : object.cells) {
      if (cell.kind == Cell::kAge) {
        std::string age;
        AppendAge(age, cell.number, now);
        cells.Raw(age);
      } else {
        WriteCellValue(cells, cell);
      }
    }
    cells.CloseArray();
    out += cells.str();
    return;
  }
  size_t at = 0;
  for (const auto& age : r.ages) {
    out.append(r.row, at, age.offset - at);
    AppendAge(out, age.time, now);
    at = age.offset;
  }
  out.append(r.row, at, std::string::npos);
}

void WriteCellValue(JsonOut& out, const Cell& cell) {
  if (cell.kind == Cell::kInteger) out.Int(cell.number);
  else out.Str(cell.text);
}

void WriteMetadata(JsonOut& out, const Object& object) {
  if (!object.rendered.metadata.empty()) out.Raw(object.rendered.metadata);
  else WriteMetadata(out, object.meta);
}

std::string FormatTimestamp(int64_t seconds) {
  time_t t = static_cast<time_t>(seconds);
  struct tm tm;
  if (!gmtime_r(&t, &tm)) return "1970-01-01T00:00:00Z";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

void WriteMetadata(JsonOut& out, const ObjectMeta& meta) {
  out.Open();
  if (!meta.name.empty()) out.Field("name", meta.name);
  if (!meta.ns.empty()) out.Field("namespace", meta.ns);
  if (!meta.uid.empty()) out.Field("uid", meta.uid);
  out.Field("resourceVersion", std::to_string(meta.resource_version));
  if (!meta.name.empty()) out.Field("creationTimestamp", FormatTimestamp(meta.creation_timestamp));
  if (!meta.labels.empty()) {
    out.Key("labels").Open();
    for (const auto& [k, v] : meta.labels) out.Field(k, v);
    out.Close();
  }
  out.Close();
}

void WriteObject(JsonOut& out, const std::string& api_version, const std::string& kind,
                 const Object& object) {
  const auto& r = object.rendered;
  if (!r.object.empty() && r.shape && r.shape->api_version == api_version && r.shape->kind == kind) {
    out.Raw(r.object);
    return;
  }
  out.Open().Field("apiVersion", api_version).Field("kind", kind);
  out.Key("metadata");
  WriteMetadata(out, object);
  for (const auto& [k, v] : object.fields) out.Key(k).Raw(v);
  out.Close();
}

void WritePartialMetadata(JsonOut& out, const Object& object, const std::string& api_version) {
  out.Open().Field("kind", "PartialObjectMetadata").Field("apiVersion", api_version);
  out.Key("metadata");
  WriteMetadata(out, object);
  out.Close();
}

}  // namespace stash::apiserver
