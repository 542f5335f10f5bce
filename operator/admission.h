// The mutating admission webhook's decision: an AdmissionReview
// (admission.k8s.io/v1) for a workload in, the AdmissionReview answer out.
//
// The object is made what its namespace's Restics ask for, by the same
// rules as the Restic controller (restic_match.h), and the difference goes
// back as a JSONPatch replacing /metadata/annotations and /spec/template.
// The webhook never refuses a workload: a workload matched by several
// Restics is admitted without a sidecar and with a warning, which kubectl
// prints. A pure function, so it is tested without a server.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "kube/object.h"
#include "operator/restic_match.h"
#include "operator/sidecar.h"

namespace stash::op {

struct AdmissionOutcome {
  std::string review_json;  // the AdmissionReview to answer with
  std::string kind;         // the workload kind reviewed ("Deployment")
  bool patched = false;     // whether the answer changes the object
  bool denied = false;      // whether the answer refuses it
};

// The Restics of a namespace, from an informer's store.
using ResticLister = std::function<std::vector<kube::ObjectPtr>(const std::string& ns)>;

// kInvalid naming what is wrong when `body` is not an AdmissionReview v1
// with a request uid (the server answers 400).
Result<AdmissionOutcome> ReviewWorkload(std::string_view body, const ResticLister& restics,
                                        const SidecarOptions& options);

// The same with every kind that may claim a workload (restic_match.h):
// Restics, BackupConfigurations, RestoreSessions.
Result<AdmissionOutcome> ReviewWorkload(std::string_view body, const StashListers& listers,
                                        const SidecarOptions& options);

// The validating webhook for Restics, as 0.8.3's refused what its sidecar
// could not run: the answer denies a Restic that CheckRestic refuses, with
// its reason (kubectl prints "admission webhook ... denied the request:
// <reason>"). `kind` is "Restic".
Result<AdmissionOutcome> ReviewRestic(std::string_view body);

// Why a Restic cannot work, or Ok: what the sidecar would refuse (file
// groups, retention policy names, the backend block, the storage Secret's
// name) and a schedule that does not parse or a type other than online and
// offline.
Status CheckRestic(const kube::Json& restic);

}  // namespace stash::op
