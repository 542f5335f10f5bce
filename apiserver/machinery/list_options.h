// The options of list, watch and delete requests, read from the query
// string and the DeleteOptions body, and the object filter and paging
// they imply.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "apiserver/machinery/server_types.h"
#include "apiserver/machinery/object.h"
#include "apiserver/machinery/selector.h"
#include "apiserver/machinery/table.h"
#include "base/result.h"

namespace stash::apiserver {

// The field selectors every resource supports.
inline const std::vector<std::string> kFieldSelectorFields = {"metadata.name", "metadata.namespace"};

struct ListOptions {
  LabelSelector labels;
  FieldSelector fields;
  int64_t limit = 0;           // 0: no limit
  std::string continue_token;  // as sent
  std::string resource_version;
  bool watch = false;
  bool allow_bookmarks = false;
  bool send_initial_events = false;
  std::optional<int64_t> timeout_seconds;
  IncludeObject include = IncludeObject::kMetadata;
};

// kInvalid (400) for a malformed selector or parameter value. Unknown
// parameters are ignored, as Kubernetes ignores them.
Result<ListOptions> ParseListOptions(const Query& query);

// Whether `object` is in namespace `ns` ("" for any) and matches the
// label and field selectors.
bool MatchesListOptions(const Object& object, const std::string& ns, const ListOptions& options);

// Sorts by namespace, name and uid: the order lists are served and paged in.
void SortObjects(std::vector<ObjectPtr>& objects);

// One page of sorted objects: those after the continue token's position,
// at most `limit`. Sets meta.continue_token and remaining_items when more
// remain. kInvalid for a token this server did not make.
Result<std::vector<ObjectPtr>> Page(const std::vector<ObjectPtr>& sorted, const ListOptions& options,
                                    ListMeta& meta);
// The same page as the positions [first, second) in `sorted`.
Result<std::pair<size_t, size_t>> PageRange(const std::vector<ObjectPtr>& sorted, const ListOptions& options,
                                            ListMeta& meta);

struct DeleteOptions {
  bool dry_run = false;
  std::optional<std::string> precondition_uid;
  std::optional<std::string> precondition_resource_version;
  std::string propagation_policy;
  std::optional<int64_t> grace_period_seconds;
};

// From a DELETE request's body (JSON DeleteOptions, or empty) and query.
// kInvalid (400) for malformed JSON or values, kUnsupported (415) for a
// body that is not JSON.
Result<DeleteOptions> ParseDeleteOptions(const Request& request);

// kConflict with Kubernetes' wording when a precondition does not hold.
Status CheckPreconditions(const DeleteOptions& options, const Object& object);

}  // namespace stash::apiserver
