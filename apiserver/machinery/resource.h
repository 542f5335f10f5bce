// What a resource plugs into the generic API machinery: its description
// (for discovery, OpenAPI and tables) and a Storage that finds and removes
// its objects, like a Kubernetes rest.Storage in sample-apiserver.
//
// The generic REST layer (rest_handler.h) does everything else: selectors,
// paging, Tables, watch streams, preconditions, dry runs, Status errors.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "apiserver/machinery/object.h"
#include "apiserver/machinery/selector.h"
#include "apiserver/machinery/watch.h"
#include "base/result.h"

namespace stash::apiserver {

struct ResourceInfo {
  std::string group, version;
  std::string plural, singular, kind, list_kind;
  bool namespaced = true;
  std::vector<std::string> verbs;  // lower case, as discovery lists them
  std::vector<std::string> short_names, categories;
  std::string description;  // of the kind, for OpenAPI and `kubectl explain`
  // What makes the objects when clients cannot ("backups"): create, update
  // and patch are refused naming it.
  std::string created_by;

  std::string group_version() const { return group + "/" + version; }
  bool HasVerb(const std::string& verb) const;
};

// One column of the resource's server-side table (meta.k8s.io Table).
struct TableColumn {
  std::string name;
  std::string type;    // string, integer, number, boolean, date
  std::string format;  // "name" marks the name column
  std::string description;
  int priority = 0;    // 0 in the default view, 1 only with -o wide
};

// One field of the resource's OpenAPI schema.
struct SchemaField {
  std::string name;
  std::string type;        // string, integer, boolean, array, object
  std::string format;      // int64, date-time, ...
  std::string items_type;  // element type of an array
  std::string description;
  std::vector<SchemaField> properties;  // of an object
};

// Who is asking, as the authenticator found.
struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
};

struct ListResult {
  std::vector<ObjectPtr> objects;  // in any order, or sorted:
  bool sorted = false;             // already in SortObjects' order (namespace, name, uid)
  uint64_t resource_version = 0;   // the version the list is consistent with
  std::vector<std::string> warnings;
};

class Storage {
 public:
  virtual ~Storage() = default;

  virtual const ResourceInfo& info() const = 0;
  virtual const std::vector<TableColumn>& columns() const = 0;
  // The members of the object besides apiVersion, kind and metadata.
  virtual const std::vector<SchemaField>& schema() const = 0;

  // The calls below may block on backends; the REST layer runs them on its
  // request threads, never on network threads.

  // Every object in `ns` ("" for all namespaces) that can be read within
  // the storage's time limits; warnings name what was left out. The
  // request's label selector is a hint: a storage may skip objects it
  // cannot match (whole repositories), the REST layer filters anyway.
  virtual ListResult List(const std::string& ns, const LabelSelector& selector) = 0;
  // kNotFound when there is no such object.
  virtual Result<ObjectPtr> Get(const std::string& ns, const std::string& name,
                                std::vector<std::string>& warnings) = 0;
  // Removes `object` (just read by Get). Returns the object as watchers see
  // it go: with the resourceVersion of its DELETED event.
  virtual Result<ObjectPtr> Delete(const ObjectPtr& object, const UserInfo& user) = 0;
  // Removes all of `objects` (just listed) for a deletecollection. A
  // storage that can checks all of them before removing any and does the
  // work once per backing store; the default deletes one by one, skipping
  // objects already gone. On an error, `failed_name` names the object.
  virtual Result<std::vector<ObjectPtr>> DeleteAll(const std::vector<ObjectPtr>& objects,
                                                   const UserInfo& user, std::string& failed_name);

  virtual WatchHub& watch_hub() = 0;
};

}  // namespace stash::apiserver
