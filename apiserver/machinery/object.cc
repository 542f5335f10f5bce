#include "apiserver/machinery/object.h"

#include <cstdio>
#include <ctime>

namespace stash::apiserver {

void Seal(Object& object, const std::string& api_version, const std::string& kind) {
  object.rendered = {};
  JsonOut meta;
  WriteMetadata(meta, object.meta);
  object.rendered.metadata = meta.Take();
  JsonOut whole;
  WriteObject(whole, api_version, kind, object);
  object.rendered.object = whole.Take();
  for (const auto& cell : object.cells) {
    JsonOut c;
    if (cell.kind != Cell::kAge) WriteCellValue(c, cell);
    object.rendered.cells.push_back(c.Take());
  }
  object.rendered.api_version = api_version;
  object.rendered.kind = kind;
}

ObjectPtr WithResourceVersion(const ObjectPtr& object, uint64_t resource_version) {
  auto copy = std::make_shared<Object>(*object);
  copy->meta.resource_version = resource_version;
  if (!object->rendered.kind.empty()) Seal(*copy, object->rendered.api_version, object->rendered.kind);
  return copy;
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
  if (!r.object.empty() && r.api_version == api_version && r.kind == kind) {
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
