#include "apiserver/machinery/table.h"

#include <algorithm>

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

// One row: the sealed cells with the ages of now (copied), then the object
// the request asked for: sealed when it is the one kubectl asks for
// (meta.k8s.io/v1 PartialObjectMetadata) or the object itself, and then
// pointed at where it is.
void AppendRow(PiecedText& out, std::string& scratch, const SealShape* shape, const ResourceInfo& info,
               const Object& object, const TableOptions& options) {
  scratch.clear();
  AppendRowCells(scratch, object, options.now);
  switch (options.include) {
    case IncludeObject::kNone: break;
    case IncludeObject::kMetadata:
      scratch += ",\"object\":";
      if (!object.rendered.partial.empty() && options.api_version == "meta.k8s.io/v1") {
        out.Copy(scratch);
        out.Point(object.rendered.partial);
        scratch.clear();
      } else {
        JsonOut partial;  // PartialObjectMetadata in the Table's version
        WritePartialMetadata(partial, object, options.api_version);
        scratch += partial.str();
      }
      break;
    case IncludeObject::kObject:
      scratch += ",\"object\":";
      if (SealedAs(object, shape)) {
        out.Copy(scratch);
        out.Point(object.rendered.object);
        scratch.clear();
      } else {
        JsonOut whole;
        WriteObject(whole, shape->api_version, info.kind, object);
        scratch += whole.str();
      }
      break;
  }
  scratch += '}';
  out.Copy(scratch);
}

}  // namespace

void WriteListMeta(JsonOut& out, const ListMeta& meta) {
  out.Key("metadata").Open().Field("resourceVersion", std::to_string(meta.resource_version));
  if (!meta.continue_token.empty()) out.Field("continue", meta.continue_token);
  if (meta.remaining_items) out.FieldInt("remainingItemCount", *meta.remaining_items);
  out.Close();
}

PiecedText RenderTablePieced(const ResourceInfo& info, const std::vector<TableColumn>& columns,
                             std::vector<ObjectPtr> objects, const TableOptions& options, const ListMeta& meta) {
  JsonOut head;
  head.Open().Field("kind", "Table").Field("apiVersion", options.api_version);
  WriteListMeta(head, meta);
  if (options.headers) {
    WriteColumns(head, columns);
  } else {
    head.Key("columnDefinitions").OpenArray().CloseArray();
  }
  head.Key("rows").Raw("[");
  auto kept = std::make_shared<const std::vector<ObjectPtr>>(std::move(objects));
  PiecedText out;
  out.Keep(kept);
  // Room for the copied cells, judged by the first rows: a pass over every
  // object only to size the buffer would wait on memory for each.
  size_t sample = 0, sampled = std::min<size_t>(kept->size(), 16);
  for (size_t i = 0; i < sampled; ++i) {
    const auto& r = (*kept)[i]->rendered;
    sample += r.row.size() + 16 * r.ages.size() + 16;
  }
  size_t per_row = sampled ? sample / sampled + 16 : 0;
  out.Reserve(2 * kept->size() + 2, head.str().size() + 2 + per_row * kept->size());
  out.Copy(head.str());
  const SealShape* shape = ShapeOf(info.group_version(), info.kind);
  std::string scratch;
  const std::vector<ObjectPtr>& rows = *kept;
  for (size_t i = 0; i < rows.size(); ++i) {
    PrefetchObject(rows, i);
    PrefetchRow(rows, i);
    if (i > 0) out.Copy(",");
    AppendRow(out, scratch, shape, info, *rows[i], options);
  }
  out.Copy("]}");
  return out;
}

std::string RenderTable(const ResourceInfo& info, const std::vector<TableColumn>& columns,
                        const std::vector<ObjectPtr>& objects, const TableOptions& options,
                        const ListMeta& meta) {
  return RenderTablePieced(info, columns, objects, options, meta).Join();
}

}  // namespace stash::apiserver
