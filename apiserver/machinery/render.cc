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
      std::string version = MetaVersion(options);
      if (version == "meta.k8s.io/v1" && !object->rendered.partial.empty()) return object->rendered.partial;
      JsonOut out;
      WritePartialMetadata(out, *object, version);
      return out.Take();
    }
    default: {
      JsonOut out;
      WriteObject(out, info.group_version(), info.kind, *object);
      return out.Take();
    }
  }
}

PiecedText RenderListPieced(const ResourceInfo& info, const std::vector<TableColumn>& columns,
                            std::vector<ObjectPtr> objects, const ListMeta& meta, const RenderOptions& options) {
  if (options.media.representation == Representation::kTable) {
    return RenderTablePieced(info, columns, std::move(objects), TableOptionsFor(options), meta);
  }
  // The list's head, then each item's sealed bytes where they are (or, for
  // an object not sealed in this shape, its rendering), comma-separated,
  // then "]}".
  const bool partial = options.media.representation == Representation::kPartialMetadata;
  const std::string group_version = info.group_version();
  const SealShape* shape = ShapeOf(group_version, info.kind);
  const std::string meta_version = MetaVersion(options);
  const bool sealed_partial = meta_version == "meta.k8s.io/v1";
  JsonOut head;
  head.Open();
  if (partial) {
    head.Field("kind", "PartialObjectMetadataList").Field("apiVersion", meta_version);
  } else {
    head.Field("kind", info.list_kind).Field("apiVersion", group_version);
  }
  WriteListMeta(head, meta);
  head.Key("items").Raw("[");
  auto kept = std::make_shared<const std::vector<ObjectPtr>>(std::move(objects));
  PiecedText out;
  out.Keep(kept);
  out.Reserve(2 * kept->size() + 2, head.str().size() + kept->size() + 2);
  out.Copy(head.str());
  const std::vector<ObjectPtr>& items = *kept;
  for (size_t i = 0; i < items.size(); ++i) {
    PrefetchObject(items, i);
    const ObjectPtr& o = items[i];
    if (i > 0) out.Copy(",");
    if (partial) {
      if (sealed_partial && !o->rendered.partial.empty()) {
        out.Point(o->rendered.partial);
      } else {
        JsonOut item;
        WritePartialMetadata(item, *o, meta_version);
        out.Copy(item.str());
      }
    } else if (SealedAs(*o, shape)) {
      out.Point(o->rendered.object);
    } else {
      JsonOut item;
      WriteObject(item, group_version, info.kind, *o);
      out.Copy(item.str());
    }
  }
  out.Copy("]}");
  return out;
}

std::string RenderList(const ResourceInfo& info, const std::vector<TableColumn>& columns,
                       const std::vector<ObjectPtr>& objects, const ListMeta& meta,
                       const RenderOptions& options) {
  return RenderListPieced(info, columns, objects, meta, options).Join();
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
