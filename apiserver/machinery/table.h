// Server-side printing: meta.k8s.io Table responses, which kubectl asks
// for with an Accept entry carrying `as=Table;g=meta.k8s.io;v=v1`.
//
// kubectl prints cells verbatim, so ages are formatted here the way
// kube-apiserver formats them ("5m", "2d3h").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/json_out.h"
#include "base/pieced_text.h"
#include "apiserver/machinery/object.h"
#include "apiserver/machinery/resource.h"

namespace stash::apiserver {

// List metadata shared by lists and tables.
struct ListMeta {
  uint64_t resource_version = 0;
  std::string continue_token;            // empty on the last page
  std::optional<int64_t> remaining_items;
};
void WriteListMeta(JsonOut& out, const ListMeta& meta);

// What each row carries in "object" (the includeObject parameter).
enum class IncludeObject { kNone, kMetadata, kObject };

struct TableOptions {
  std::string api_version = "meta.k8s.io/v1";  // or meta.k8s.io/v1beta1
  IncludeObject include = IncludeObject::kMetadata;
  bool headers = true;  // watch events after the first carry none
  int64_t now = 0;      // seconds since the epoch, for ages
};

// {"kind":"Table","apiVersion":..,"metadata":..,"columnDefinitions":..,"rows":..}:
// the rows' cells copied (their ages are of options.now), the objects in
// them pointed at where they are sealed; it keeps `objects` alive.
PiecedText RenderTablePieced(const ResourceInfo& info, const std::vector<TableColumn>& columns,
                             std::vector<ObjectPtr> objects, const TableOptions& options, const ListMeta& meta);
// The same table in one string.
std::string RenderTable(const ResourceInfo& info, const std::vector<TableColumn>& columns,
                        const std::vector<ObjectPtr>& objects, const TableOptions& options,
                        const ListMeta& meta);

}  // namespace stash::apiserver
