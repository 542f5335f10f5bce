// Rendering objects in the representation a request negotiated: the
// object itself, a meta.k8s.io Table, or PartialObjectMetadata; and watch
// event lines.
#pragma once

#include <string>
#include <vector>

#include "apiserver/machinery/negotiate.h"
#include "apiserver/machinery/resource.h"
#include "apiserver/machinery/table.h"

namespace stash::apiserver {

struct RenderOptions {
  MediaChoice media;
  IncludeObject include = IncludeObject::kMetadata;  // Table rows
  bool table_headers = true;
  int64_t now = 0;  // seconds since the epoch, for ages
};

// A single object (get, delete, watch events).
std::string RenderObject(const ResourceInfo& info, const std::vector<TableColumn>& columns,
                         const ObjectPtr& object, const RenderOptions& options);

// A list: <Kind>List, Table or PartialObjectMetadataList. Its pieces point
// into the objects' sealed bytes, and it keeps `objects` alive.
PiecedText RenderListPieced(const ResourceInfo& info, const std::vector<TableColumn>& columns,
                            std::vector<ObjectPtr> objects, const ListMeta& meta, const RenderOptions& options);
// The same list in one string.
std::string RenderList(const ResourceInfo& info, const std::vector<TableColumn>& columns,
                       const std::vector<ObjectPtr>& objects, const ListMeta& meta,
                       const RenderOptions& options);

// A BOOKMARK's object: the kind (or a Table / PartialObjectMetadata) with
// only metadata.resourceVersion, plus the initial-events-end annotation
// after the initial events of a sendInitialEvents watch.
std::string RenderBookmark(const ResourceInfo& info, uint64_t resource_version,
                           bool initial_events_end, const RenderOptions& options);

// {"type":"ADDED","object":...}\n
std::string WatchLine(const char* type, const std::string& object_json);

// Seconds since the epoch, now.
int64_t NowSeconds();

}  // namespace stash::apiserver
