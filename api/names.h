// Kubernetes names and label values derived from the control plane's ids. Pure.
//
// The control plane's ids ("comp.<shortuuid>", "provider.<shortuuid>") are free text to
// us: up to 253 characters of anything. Object names and label values have stricter
// rules, so the ids are sanitized, and a short hash of the original keeps two ids that
// sanitize alike apart.
#pragma once

#include <string>

namespace iarnet {

// The IarnetWorkload (and Pod) name for an instance id: a DNS label of at most 63
// characters, "<sanitized>-<8 hex digits of the id's FNV-1a hash>". Deterministic.
std::string WorkloadNameFor(const std::string& instance_id);

// A label value for an id: the id itself when it is a valid label value (at most 63 of
// [A-Za-z0-9._-], alphanumeric at both ends), else a sanitized prefix with the hash.
std::string LabelValueFor(const std::string& id);

bool IsLabelValue(const std::string& text);

// A valid environment variable name as Kubernetes accepts it: letters, digits, '_',
// '-' and '.', not starting with a digit.
bool IsEnvVarName(const std::string& text);

}  // namespace iarnet
