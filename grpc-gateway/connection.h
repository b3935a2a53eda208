// Which control plane is connected, decided purely from what IarnetProvider status
// records (ControlPlane) and the time: one control plane at a time; the same id may
// reconnect; a control plane silent for too long is forgotten, so another may take the
// slot. "Too long" is learned from its own checks: two of its measured intervals plus a
// margin, never less than takeover_floor and never more than timeout (90 s, also the
// limit before any interval is measured). The real control plane never reconnects after
// one failed check and its operator re-registers it under a new id, which must not wait
// 90 s when the old id checked every few seconds. The caller reads the record, decides here, and
// writes `write` (when set) conditionally on the resourceVersion it read.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "api/iarnet_types.h"

namespace iarnet {

using SystemTime = std::chrono::system_clock::time_point;

struct ConnectionPolicy {
  std::chrono::milliseconds timeout{90000};             // forget a silent control plane
  std::chrono::milliseconds health_write_every{10000};  // at most one status write per
  std::chrono::milliseconds takeover_floor{15000};      // never forgotten sooner
  std::chrono::milliseconds takeover_margin{5000};      // added to two intervals
};

// How long the control plane of `cp` may stay silent before it is forgotten.
std::chrono::milliseconds SilenceAllowed(const ControlPlane& cp, const ConnectionPolicy& p);

// The connected id, or "" when nobody is connected or the record has expired.
std::string ConnectedId(const ControlPlane& cp, SystemTime now, const ConnectionPolicy& p);

// `cp` (the connected control plane's record) after a health check from it at `now`: the
// check's time, and the interval since the one before (when one was heard) as the new
// measurement. The latest gap wins: a control plane that checks faster lets others in
// sooner, one that slows down is given longer at once.
ControlPlane Heard(const ControlPlane& cp, SystemTime now);

struct ConnectionOutcome {
  bool ok = false;
  // Why not; for calls answered with a gRPC status, which code fits.
  std::string error;
  enum class Code { kOk, kInvalidArgument, kPermissionDenied } code = Code::kOk;
  std::optional<ControlPlane> write;  // the record to store (nullopt: no write)
};

ConnectionOutcome DecideConnect(const ControlPlane& cp, const std::string& id, SystemTime now,
                                const ConnectionPolicy& p);
// A HealthCheck from `id`. A free slot is taken again (the control plane does not
// reconnect by itself, so after a long silence it keeps working if nobody else came).
ConnectionOutcome DecideHealthCheck(const ControlPlane& cp, const std::string& id, SystemTime now,
                                    const ConnectionPolicy& p);
// Disconnect is idempotent: the connected id clears the record; an unknown id is a no-op.
ConnectionOutcome DecideDisconnect(const ControlPlane& cp, const std::string& id, SystemTime now,
                                   const ConnectionPolicy& p);
// What the provider knows of the connection: the record in IarnetProvider status (from
// the cache), or, for the same control plane, the newer record of a health check it
// answered but has not stored yet (the API server may be unreachable). A different id in
// the status always wins: the cluster's record decides who is connected.
ControlPlane Known(const ControlPlane& cached, const std::optional<ControlPlane>& unwritten);

// Any other call: refused when another control plane is connected and the request
// names a different provider id. An empty id, or no connection, is allowed.
ConnectionOutcome Authorize(const ControlPlane& cp, const std::string& id, SystemTime now,
                            const ConnectionPolicy& p);

}  // namespace iarnet
