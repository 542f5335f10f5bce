#include "apiserver/machinery/table.h"

namespace stash::apiserver {
namespace {

std::string Join(int64_t a, const char* ua, int64_t b, const char* ub) {
  std::string s = std::to_string(a) + ua;
  if (b != 0) s += std::to_string(b) + ub;
  return s;
}

void WriteCell(JsonOut& out, const Cell& cell, const std::string& rendered, int64_t now) {
  if (cell.kind == Cell::kAge) {
    out.Str(cell.number == 0 ? "<unknown>" : HumanDuration(now - cell.number));
  } else if (!rendered.empty()) {
    out.Raw(rendered);
  } else {
    WriteCellValue(out, cell);
  }
}

void WriteColumns(JsonOut& out, const std::vector<TableColumn>& columns) {
  out.Key("columnDefinitions").OpenArray();
  for (const auto& c : columns) {
    out.Open().Field("name", c.name).Field("type", c.type).Field("format", c.format);
    out.Field("description", c.description).FieldInt("priority", c.priority).Close();
  }
  out.CloseArray();
}

void WriteRow(JsonOut& out, const ResourceInfo& info, const Object& object,
              const TableOptions& options) {
  out.Open().Key("cells").OpenArray();
  static const std::string kNone;
  const auto& rendered = object.rendered.cells;
  for (size_t i = 0; i < object.cells.size(); ++i) {
    WriteCell(out, object.cells[i], i < rendered.size() ? rendered[i] : kNone, options.now);
  }
  out.CloseArray();
  if (options.include == IncludeObject::kMetadata) {
    out.Key("object");
    std::string meta_version = options.api_version;  // PartialObjectMetadata in the same version
    WritePartialMetadata(out, object, meta_version);
  } else if (options.include == IncludeObject::kObject) {
    out.Key("object");
    WriteObject(out, info.group_version(), info.kind, object);
  }
  out.Close();
}

}  // namespace

std::string HumanDuration(int64_t s) {
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 120) return std::to_string(s) + "s";
  int64_t minutes = s / 60;
  if (minutes < 10) return Join(minutes, "m", s % 60, "s");
  if (minutes < 180) return std::to_string(minutes) + "m";
  int64_t hours = s / 3600;
  if (hours < 8) return Join(hours, "h", minutes % 60, "m");
  if (hours < 48) return std::to_string(hours) + "h";
  if (hours < 24 * 8) return Join(hours / 24, "d", hours % 24, "h");
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24) + "d";
  if (hours < 24 * 365 * 8) return Join(hours / 24 / 365, "y", (hours / 24) % 365, "d");
  return std::to_string(hours / 24 / 365) + "y";
}

void WriteListMeta(JsonOut& out, const ListMeta& meta) {
  out.Key("metadata").Open().Field("resourceVersion", std::to_string(meta.resource_version));
  if (!meta.continue_token.empty()) out.Field("continue", meta.continue_token);
  if (meta.remaining_items) out.FieldInt("remainingItemCount", *meta.remaining_items);
  out.Close();
}

std::string RenderTable(const ResourceInfo& info, const std::vector<TableColumn>& columns,
                        const std::vector<ObjectPtr>& objects, const TableOptions& options,
                        const ListMeta& meta) {
  JsonOut out;
  size_t estimate = 4096;
  for (const auto& o : objects) estimate += o->rendered.metadata.size() + 256 + 32 * o->cells.size();
  out.Reserve(estimate);
  out.Open().Field("kind", "Table").Field("apiVersion", options.api_version);
  WriteListMeta(out, meta);
  if (options.headers) {
    WriteColumns(out, columns);
  } else {
    out.Key("columnDefinitions").OpenArray().CloseArray();
  }
  out.Key("rows").OpenArray();
  for (const auto& o : objects) WriteRow(out, info, *o, options);
  out.CloseArray().Close();
  return out.Take();
}

}  // namespace stash::apiserver
