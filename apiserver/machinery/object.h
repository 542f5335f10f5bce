// Objects as the generic API machinery handles them: Kubernetes metadata,
// the resource's own members as ready-made JSON, and its table cells.
//
// A resource builds and seals each Object once (for snapshots: when the
// snapshot file is first read); lists, gets, tables and watch events then
// copy its sealed bytes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/json_out.h"

namespace stash::apiserver {

struct ObjectMeta {
  std::string name;
  std::string ns;  // "" for cluster-scoped objects
  std::string uid;
  uint64_t resource_version = 0;
  int64_t creation_timestamp = 0;  // seconds since the epoch, UTC
  std::map<std::string, std::string> labels;
};

// A table cell: text, a number, or a point in time shown as an age ("5m")
// computed when the table is rendered.
struct Cell {
  enum Kind { kText, kInteger, kAge };
  Kind kind = kText;
  std::string text;
  int64_t number = 0;  // the integer, or the time in seconds since the epoch

  static Cell Text(std::string s) { return {kText, std::move(s), 0}; }
  static Cell Integer(int64_t n) { return {kInteger, "", n}; }
  static Cell Age(int64_t seconds) { return {kAge, "", seconds}; }
};

// What an object was sealed as: an apiVersion and kind, interned by
// ShapeOf so that equal shapes are one pointer and a list checks ten
// thousand objects by comparing pointers.
struct SealShape {
  std::string api_version, kind;
};
const SealShape* ShapeOf(const std::string& api_version, const std::string& kind);

struct Object {
  ObjectMeta meta;
  // Members after "metadata", in order: {"status", "{...}"}.
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<Cell> cells;  // one per column of the resource's table

  // The object's bytes in every shape a list or a watch serves, made once by
  // Seal() (for snapshots: when the cache learns the snapshot, again when its
  // Repository's labels change), so that serving thousands of objects only
  // selects and concatenates them. Empty until sealed.
  struct Rendered {
    const SealShape* shape = nullptr;
    std::string metadata;  // the "metadata" value
    std::string object;    // the whole object
    std::string partial;   // as PartialObjectMetadata of meta.k8s.io/v1
    // The Table row up to its "object" member ({"cells":[...]), less the
    // age cells, which depend on the time of the request: ages[i].time's age
    // goes in at byte ages[i].offset.
    std::string row;
    struct Age {
      size_t offset;
      int64_t time;
    };
    std::vector<Age> ages;
  } rendered;
};
using ObjectPtr = std::shared_ptr<const Object>;

// Loops over thousands of objects stall on memory: each object and its
// sealed strings were allocated apart. These start fetching ahead: the
// object `far` ahead (its metadata and the sealed strings' pointers), and
// the sealed bytes `near` ahead, whose object the first already fetched.
inline void PrefetchObject(const std::vector<ObjectPtr>& objects, size_t i) {
  constexpr size_t kFar = 8;
  if (i + kFar < objects.size()) {
    const Object* o = objects[i + kFar].get();
    // make_shared puts the reference counts just before the object: a copy
    // of the pointer writes there, and a locked increment waits for the line.
    __builtin_prefetch(reinterpret_cast<const char*>(o) - 8, 1);
    __builtin_prefetch(&o->meta);
    __builtin_prefetch(&o->rendered);
  }
}
inline void PrefetchRow(const std::vector<ObjectPtr>& objects, size_t i) {
  constexpr size_t kNear = 4;
  if (i + kNear < objects.size()) {
    const auto& r = objects[i + kNear]->rendered;
    __builtin_prefetch(r.row.data());
    __builtin_prefetch(r.row.data() + 64);
    __builtin_prefetch(r.ages.data());
  }
}

// Renders `object` once as a `kind` of `api_version` (see Object::rendered).
void Seal(Object& object, const std::string& api_version, const std::string& kind);
// Whether `object` was sealed as `shape` (from ShapeOf).
inline bool SealedAs(const Object& object, const SealShape* shape) {
  return object.rendered.shape == shape && !object.rendered.object.empty();
}

// A copy with another resourceVersion (a DELETED event carries a newer one).
ObjectPtr WithResourceVersion(const ObjectPtr& object, uint64_t resource_version);

// RFC 3339 in UTC with seconds: "2024-01-01T00:00:00Z".
std::string FormatTimestamp(int64_t seconds);

// The "metadata" value of an object.
void WriteMetadata(JsonOut& out, const ObjectMeta& meta);
void WriteMetadata(JsonOut& out, const Object& object);  // sealed or not
// A text or integer cell.
void WriteCellValue(JsonOut& out, const Cell& cell);
// The cells of a Table row, ages as of `now`: {"cells":[...] (the row
// without its "object" member and closing brace), appended to `out`.
void AppendRowCells(std::string& out, const Object& object, int64_t now);

// {"apiVersion":..,"kind":..,"metadata":{..},<fields>}
void WriteObject(JsonOut& out, const std::string& api_version, const std::string& kind,
                 const Object& object);

// {"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{..}}
void WritePartialMetadata(JsonOut& out, const Object& object, const std::string& api_version);

// Kubernetes' duration.HumanDuration: "45s", "3m20s", "5h", "2d3h", "3y".
std::string HumanDuration(int64_t seconds);
// The quoted age cell of a time `time` as of `now` ("<unknown>" for 0),
// appended to `out`.
void AppendAge(std::string& out, int64_t time, int64_t now);

}  // namespace stash::apiserver
