#include "apiserver/machinery/table.h"

namespace stash::apiserver {
namespace {

void WriteColumns(JsonOut& out, const std::vector<TableColumn>& columns) {
  out.Key("columnDefinitions").OpenArray();
  for (const auto& c : columns) {
    out.Open().Field("name", c.name).Field("type", c.type).Field("format", c.format);
    out.Field("description", c.description).FieldInt("priority", c.priority).Close();
  }
  out.CloseArray();
}

// One row: the sealed cells with the ages of now, then the object the
// request asked for: sealed when it is the one kubectl asks for (meta.k8s.io/v1
// PartialObjectMetadata) or the object itself.
void AppendRow(std::string& out, const std::string& group_version, const ResourceInfo& info,
               const Object& object, const TableOptions& options) {
  AppendRowCells(out, object, options.now);
  switch (options.include) {
    case IncludeObject::kNone: break;
    case IncludeObject::kMetadata:
      out += ",\"object\":";
      if (!object.rendered.partial.empty() && options.api_version == "meta.k8s.io/v1") {
        out += object.rendered.partial;
      } else {
        JsonOut partial;  // PartialObjectMetadata in the Table's version
        WritePartialMetadata(partial, object, options.api_version);
        out += partial.str();
      }
      break;
    case IncludeObject::kObject:
      out += ",\"object\":";
      if (SealedAs(object, group_version, info.kind)) {
        out += object.rendered.object;
      } else {
        JsonOut whole;
        WriteObject(whole, group_version, info.kind, object);
        out += whole.str();
      }
      break;
  }
  out += '}';
}

}  // namespace

void WriteListMeta(JsonOut& out, const ListMeta& meta) {
  out.Key("metadata").Open().Field("resourceVersion", std::to_string(meta.resource_version));
  if (!meta.continue_token.empty()) out.Field("continue", meta.continue_token);
  if (meta.remaining_items) out.FieldInt("remainingItemCount", *meta.remaining_items);
  out.Close();
}

std::string RenderTable(const ResourceInfo& info, const std::vector<TableColumn>& columns,
                        const std::vector<ObjectPtr>& objects, const TableOptions& options,
                        const ListMeta& meta) {
  JsonOut head;
  head.Open().Field("kind", "Table").Field("apiVersion", options.api_version);
  WriteListMeta(head, meta);
  if (options.headers) {
    WriteColumns(head, columns);
  } else {
    head.Key("columnDefinitions").OpenArray().CloseArray();
  }
  head.Key("rows").Raw("[");
  std::string out = head.Take();
  size_t size = out.size() + 2;
  for (const auto& o : objects) {
    const auto& r = o->rendered;
    size_t object = options.include == IncludeObject::kObject ? r.object.size() : r.partial.size();
    size += r.row.size() + 16 * r.ages.size() + object + 16;
  }
  out.reserve(size);
  const std::string group_version = info.group_version();
  bool first = true;
  for (const auto& o : objects) {
    if (!first) out += ',';
    first = false;
    AppendRow(out, group_version, info, *o, options);
  }
  out += "]}";
  return out;
}

}  // namespace stash::apiserver
