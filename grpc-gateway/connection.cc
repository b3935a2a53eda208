#include "grpc-gateway/connection.h"

#include "grpc-gateway/request_checks.h"
#include "kube/text.h"
#include "kube/time_format.h"

namespace iarnet {
namespace {

using Code = ConnectionOutcome::Code;

// The last time the control plane was heard from, as recorded. The record keeps whole
// seconds (the time truncated), so the check may have come up to a second later than
// it says: the latest it can have been counts, or a takeover could come early.
std::optional<SystemTime> LastSeen(const ControlPlane& cp) {
  auto health = kube::ParseTime(cp.last_health_check);
  auto connected = kube::ParseTime(cp.connected_at);
  std::optional<SystemTime> seen;
  if (health && connected) {
    seen = std::max(*health, *connected);
  } else {
    seen = health ? health : connected;
  }
  if (seen) *seen += std::chrono::milliseconds(999);
  return seen;
}

ConnectionOutcome Fail(Code code, std::string error) {
  ConnectionOutcome o;
  o.code = code;
  o.error = std::move(error);
  return o;
}

ConnectionOutcome Ok(std::optional<ControlPlane> write = std::nullopt) {
  ConnectionOutcome o;
  o.ok = true;
  o.write = std::move(write);
  return o;
}

ControlPlane Fresh(const std::string& id, SystemTime now) {
  std::string t = kube::FormatTime(now);
  return {id, t, t, ""};
}

ConnectionOutcome Mismatch(const std::string& connected, const std::string& id) {
  return Fail(Code::kPermissionDenied, "unauthorized: provider_id mismatch: connected to " +
                                           kube::Quoted(connected) + ", request from " +
                                           kube::Quoted(id));
}

// A provider id that no connection may carry (empty, too long, control characters).
std::optional<ConnectionOutcome> Unusable(const std::string& id) {
  if (auto problem = IdProblem("provider_id", id)) return Fail(Code::kInvalidArgument, *problem);
  return std::nullopt;
}

}  // namespace

std::chrono::milliseconds SilenceAllowed(const ControlPlane& cp, const ConnectionPolicy& p) {
  if (cp.health_check_interval_seconds <= 0) return p.timeout;
  auto learned = 2 * std::chrono::seconds(cp.health_check_interval_seconds) + p.takeover_margin;
  return std::min<std::chrono::milliseconds>(
      p.timeout, std::max<std::chrono::milliseconds>(p.takeover_floor, learned));
}

std::string ConnectedId(const ControlPlane& cp, SystemTime now, const ConnectionPolicy& p) {
  if (cp.provider_id.empty()) return "";
  auto seen = LastSeen(cp);
  if (!seen || now - *seen > SilenceAllowed(cp, p)) return "";
  return cp.provider_id;
}

ControlPlane Heard(const ControlPlane& cp, SystemTime now) {
  ControlPlane next = cp;
  // Only the gap between two checks: Connect is followed by a check at once.
  if (auto last = kube::ParseTime(cp.last_health_check);
      last && cp.last_health_check != cp.connected_at) {
    auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(now - *last);
    if (gap.count() > 0) next.health_check_interval_seconds = (gap.count() + 999) / 1000;
  }
  next.last_health_check = kube::FormatTime(now);
  return next;
}

ConnectionOutcome DecideConnect(const ControlPlane& cp, const std::string& id, SystemTime now,
                                const ConnectionPolicy& p) {
  if (auto bad = Unusable(id)) return *bad;
  std::string connected = ConnectedId(cp, now, p);
  if (!connected.empty() && connected != id) {
    return Fail(Code::kPermissionDenied, "provider is already connected to control plane " +
                                             kube::Quoted(connected) + "; refusing " +
                                             kube::Quoted(id));
  }
  return Ok(Fresh(id, now));
}

ConnectionOutcome DecideHealthCheck(const ControlPlane& cp, const std::string& id, SystemTime now,
                                    const ConnectionPolicy& p) {
  if (auto bad = Unusable(id)) return *bad;
  std::string connected = ConnectedId(cp, now, p);
  if (connected.empty()) {
    // Taken by a check: the address seen at Connect still holds if it is the same one.
    ControlPlane next = Fresh(id, now);
    if (cp.provider_id == id) next.address = cp.address;
    return Ok(next);
  }
  if (connected != id) return Mismatch(connected, id);
  auto last = kube::ParseTime(cp.last_health_check);
  if (last && now - *last < p.health_write_every) return Ok();
  // The interval is measured once, by Heard on the checks heard (the caller's record);
  // the stored times here are too coarse for it.
  ControlPlane next = cp;
  next.last_health_check = kube::FormatTime(now);
  return Ok(next);
}

ConnectionOutcome DecideDisconnect(const ControlPlane& cp, const std::string& id, SystemTime now,
                                   const ConnectionPolicy& p) {
  std::string connected = ConnectedId(cp, now, p);
  if (connected.empty() && cp.provider_id.empty()) return Ok();
  if (!connected.empty() && connected != id) return Mismatch(connected, id);
  return Ok(ControlPlane{});  // the slot is free (also clears an expired record)
}

ConnectionOutcome Authorize(const ControlPlane& cp, const std::string& id, SystemTime now,
                            const ConnectionPolicy& p) {
  std::string connected = ConnectedId(cp, now, p);
  if (id.empty() || connected.empty() || connected == id) return Ok();
  return Mismatch(connected, id);
}

ControlPlane Known(const ControlPlane& cached, const std::optional<ControlPlane>& unwritten) {
  if (!unwritten || unwritten->provider_id != cached.provider_id) return cached;
  auto ours = LastSeen(*unwritten);
  auto theirs = LastSeen(cached);
  return ours && (!theirs || *ours > *theirs) ? *unwritten : cached;
}

}  // namespace iarnet
