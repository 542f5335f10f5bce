#include "apiserver/machinery/render.h"

#include <chrono>

namespace stash::apiserver {
namespace {

std::string MetaVersion(const RenderOptions& o) {
  return "meta.k8s.io/" + (o.media.version.empty() ? std::string("v1") : o.media.version);
}

TableOptions TableOptionsFor(const RenderOptions& o) {
  TableOptions t;
  t.api_version = MetaVersion(o);
  t.include = o.include;
  t.headers = o.table_headers;
  t.now = o.now;
  return t;
}

}  // namespace

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string RenderObject(const ResourceInfo& info, const std::vector<TableColumn>& columns,
                         const ObjectPtr& object, const RenderOptions& options) {
  switch (options.media.representation) {
    case Representation::kTable: {
      ListMeta meta;
      meta.resource_version = object->meta.resource_version;
      return RenderTable(info, columns, {object}, TableOptionsFor(options), meta);
    }
    case Representation::kPartialMetadata: {
      JsonOut out;
      WritePartialMetadata(out, *object, MetaVersion(options));
      return out.Take();
    }
    default: {
      JsonOut out;
      WriteObject(out, info.group_version(), info.kind, *object);
      return out.Take();
    }
  }
}

std::string RenderList(const ResourceInfo& info, const std::vector<TableColumn>& columns,
                       const std::vector<ObjectPtr>& objects, const ListMeta& meta,
                       const RenderOptions& options) {
  if (options.media.representation == Representation::kTable) {
    return RenderTable(info, columns, objects, TableOptionsFor(options), meta);
  }
  bool partial = options.media.representation == Representation::kPartialMetadata;
  JsonOut out;
  size_t estimate = 4096;
  for (const auto& o : objects) estimate += o->rendered.object.size() + 64;
  out.Reserve(estimate);
  out.Open();
  if (partial) {
    out.Field("kind", "PartialObjectMetadataList").Field("apiVersion", MetaVersion(options));
  } else {
    out.Field("kind", info.list_kind).Field("apiVersion", info.group_version());
  }
  WriteListMeta(out, meta);
  out.Key("items").OpenArray();
  for (const auto& o : objects) {
    if (partial) WritePartialMetadata(out, *o, MetaVersion(options));
    else WriteObject(out, info.group_version(), info.kind, *o);
  }
  out.CloseArray().Close();
  return out.Take();
}

std::string RenderBookmark(const ResourceInfo& info, uint64_t resource_version,
                           bool initial_events_end, const RenderOptions& options) {
  JsonOut out;
  out.Open();
  switch (options.media.representation) {
    case Representation::kTable: out.Field("kind", "Table").Field("apiVersion", MetaVersion(options)); break;
    case Representation::kPartialMetadata:
      out.Field("kind", "PartialObjectMetadata").Field("apiVersion", MetaVersion(options));
      break;
    default: out.Field("kind", info.kind).Field("apiVersion", info.group_version());
  }
  out.Key("metadata").Open().Field("resourceVersion", std::to_string(resource_version));
  if (initial_events_end) {
    out.Key("annotations").Open().Field("k8s.io/initial-events-end", "true").Close();
  }
  out.Close();
  if (options.media.representation == Representation::kTable) {
    out.Key("columnDefinitions").OpenArray().CloseArray().Key("rows").OpenArray().CloseArray();
  }
  out.Close();
  return out.Take();
}

std::string WatchLine(const char* type, const std::string& object_json) {
  std::string line = "{\"type\":\"";
  line += type;
  line += "\",\"object\":";
  line += object_json;
  line += "}\n";
  return line;
}

}  // namespace stash::apiserver
