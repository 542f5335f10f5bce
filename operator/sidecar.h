// The stash sidecar that a Restic (stash.appscode.com/v1alpha1) adds to the
// pod template of each workload it selects, as Stash 0.8.3 added it: a
// container `stash` running `stash backup --restic-name=R --workload-kind=K
// --workload-name=N --run-via-cron=true` (an init container without the
// cron flag for `type: offline`), NODE_NAME and POD_NAME from the downward
// API, root, the Restic's resources; volumes `stash-scratchdir` (emptyDir at
// /tmp), `stash-podinfo` (the pod's labels at /etc/stash/labels), the
// Restic's volumeMounts forced read-only, and `stash-local` for a local
// backend; the annotation restic.appscode.com/last-applied-configuration
// holding the Restic applied.
//
// Pure functions of (workload, Restic): running one twice changes nothing
// the second time, so reconcilers can call them on every event.
#pragma once

#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "base/result.h"
#include "kube/object.h"
#include "kube/resource.h"

namespace stash::op {

inline constexpr char kSidecarName[] = "stash";
inline constexpr char kLastAppliedAnnotation[] = "restic.appscode.com/last-applied-configuration";
inline constexpr char kImageTagAnnotation[] = "restic.appscode.com/tag";

inline const kube::Resource kRestics{"stash.appscode.com", "v1alpha1", "restics", "Restic", true};

// The kinds a Restic may select, each with its pod template at /spec/template.
using kube::resources::WorkloadResources;

struct SidecarOptions {
  std::string image = "stash:0.1.0";  // the Restic's tag annotation replaces the tag
  std::string pushgateway_url;        // passed on as --pushgateway-url when set
};

// Adds the sidecar of `restic` to `workload` of kind `kind`, or brings it up
// to date. True when the workload changed. kInvalid when the workload has no
// pod template.
Result<bool> InjectSidecar(rapidjson::Document& workload, const std::string& kind, const kube::Json& restic,
                           const SidecarOptions& options);

// Takes out what InjectSidecar added. True when the workload changed.
bool RemoveSidecar(rapidjson::Document& workload);

// Whether the workload carries a stash sidecar or init container.
bool HasSidecar(const kube::Json& workload);

}  // namespace stash::op
