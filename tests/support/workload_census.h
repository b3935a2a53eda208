// What the operator's integration tests observe of a namespace: the workloads, their
// admission records, the managed Pods and the provider's ledger, and the invariants of
// DESIGN.md checked against them.
#pragma once

#include <string>
#include <vector>

#include "controller/iarnet_resources.h"
#include "controller/ledger.h"
#include "kube/client.h"

namespace testing {

inline const kube::ResourceType& kWorkloads = iarnet::kWorkloadResource;
inline const kube::ResourceType& kProviders = iarnet::kProviderResource;

// An IarnetWorkload manifest: `cpu` millicores, 1 MiB of memory, the language given.
kube::json NewWorkload(const std::string& name, int64_t cpu,
                       const std::string& language = "python");

struct Census {
  int admitted = 0, rejected = 0, ended = 0, pods = 0;
  iarnet::Resources charged;  // the sum of the admission records
  iarnet::Resources ledger_used;
  int64_t ledger_count = -1;
};

Census Count(kube::Client& c, const std::string& ns,
             const std::string& provider = "iarnet-provider");

// The invariant: the provider's ledger is the sum of the admission records.
bool LedgerExact(const Census& c);

std::string PhaseOf(kube::Client& c, const std::string& ns, const std::string& name);

// Every invariant of a settled namespace, as a list of what is wrong (empty: all hold):
// the ledger equals the sum of the admission records and fits the capacity; every
// managed Pod belongs to an admitted workload (or one that ended); every admitted
// workload that has not ended has its Pod; every workload has a final phase; no
// rejected workload would fit in what is free (but a Deploy's, which stays rejected);
// `gone` workloads no longer exist.
std::vector<std::string> Violations(kube::Client& c, const std::string& ns,
                                    const iarnet::Resources& capacity,
                                    const std::vector<std::string>& gone = {},
                                    const std::string& provider = "iarnet-provider");

}  // namespace testing
