#!/usr/bin/env bash
# Tear the local cluster down: every process, mount, iptables rule, interface,
# cgroup and directory that up.sh made, also after a failed start. Safe to run
# when nothing is up.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap on_fail EXIT

((EUID == 0)) || die "tearing the local cluster down needs root"
S="${STATE_DIR}"
t0=$(date +%s%N)

# stop_pids PID... — SIGTERM to all at once, then SIGKILL to any still there after 10 s.
stop_pids() {
  local pid i alive
  (($# > 0)) || return 0
  kill -TERM "$@" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    alive=0
    for pid in "$@"; do kill -0 "${pid}" 2>/dev/null && alive=1; done
    ((alive == 1)) || return 0
    sleep 0.1
  done
  kill -KILL "$@" 2>/dev/null || true
}

# pid_of NAME — the pid a component's pid file names, if any.
pid_of() {
  if [[ -f "${S}/pids/$1.pid" ]]; then cat "${S}/pids/$1.pid"; fi
}

# Processes whose command line names our state directory (shims, strays whose pid file is gone).
pids_using_state_dir() {
  local f pid
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}
    pid=${pid%/cmdline}
    [[ "${pid}" == "$$" || "${pid}" == "${PPID}" ]] && continue
    # The process may be gone by now: then there is nothing to read.
    if { tr '\0' ' ' <"${f}"; } 2>/dev/null | grep -qF -- "${S}/"; then echo "${pid}"; fi
  done
}

kubepods_cgroups() {
  local c
  for c in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/kubepods.slice /sys/fs/cgroup/kubepods; do
    [[ -d "${c}" ]] && echo "${c}"
  done
  return 0
}

step "stop the kubelet and kube-proxy"
# shellcheck disable=SC2046 # one pid per word
stop_pids $(pid_of kubelet) $(pid_of kube-proxy)

step "kill the pods' processes"
while read -r cg; do
  find "${cg}" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
done < <(kubepods_cgroups)

step "stop containerd and its shims, the control plane and etcd"
# shellcheck disable=SC2046
stop_pids $(pid_of containerd) $(pid_of kube-scheduler) $(pid_of kube-controller-manager) $(pid_of kube-apiserver)
# shellcheck disable=SC2046
stop_pids $(pid_of etcd)
if [[ -d "${S}" ]]; then
  # The shims (their pods are dead already) and any stray whose pid file is gone.
  # shellcheck disable=SC2046
  stop_pids $(pids_using_state_dir)
fi

step "remove the iptables rules (kube-proxy --cleanup, the kubelet's chains, our FORWARD rules)"
if [[ -x "${K8S_BIN_DIR}/kube-proxy" ]]; then
  "${K8S_BIN_DIR}/kube-proxy" --cleanup >/dev/null 2>&1 || true
fi
for cmd in iptables ip6tables; do
  command -v "${cmd}" >/dev/null || continue
  for table in filter nat mangle; do
    # Rules that jump to the kubelet's chains, then the chains.
    { "${cmd}" -t "${table}" -S 2>/dev/null || true; } |
      { grep -E -- '-j KUBE-(FIREWALL|KUBELET-CANARY|IPTABLES-HINT|PROXY-CANARY)' || true; } |
      sed 's/^-A/-D/' | while read -r rule; do eval "${cmd} -t ${table} ${rule}" || true; done
    for chain in KUBE-FIREWALL KUBE-KUBELET-CANARY KUBE-IPTABLES-HINT KUBE-PROXY-CANARY; do
      "${cmd}" -t "${table}" -F "${chain}" 2>/dev/null || true
      "${cmd}" -t "${table}" -X "${chain}" 2>/dev/null || true
    done
  done
done
{ iptables -S FORWARD | grep -F -- "--comment \"${IPT_COMMENT}\"" || true; } | sed 's/^-A/-D/' |
  while read -r rule; do eval "iptables ${rule}"; done

step "unmount everything under ${S#"${REPO_ROOT}/"}"
if [[ -d "${S}" ]]; then
  # Deepest first; a busy mount is detached lazily.
  awk -v d="${STATE_DIR_REAL}/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do
    umount "${m}" 2>/dev/null || umount -l "${m}"
  done
fi

step "remove the CNI bridge ${CNI_BRIDGE} and the pods' cgroups"
if ip link show "${CNI_BRIDGE}" >/dev/null 2>&1; then ip link delete "${CNI_BRIDGE}"; fi
while read -r cg; do
  find "${cg}" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  [[ -d "${cg}" ]] && log "warning: could not remove cgroup ${cg}"
done < <(kubepods_cgroups)
for cg in /sys/fs/cgroup/*/k8s.io; do
  [[ -d "${cg}" ]] && { find "${cg}" -depth -type d -exec rmdir {} \; 2>/dev/null || true; }
done

step "remove the state directory and the host paths the kubelet and CNI made"
if [[ -f "${S}/created-paths" ]]; then
  while read -r p; do rm -rf "${p}"; done <"${S}/created-paths"
fi
rm -rf "${S}"
step_done

left=$(pids_using_state_dir | wc -l)
((left == 0)) || die "${left} processes still name ${S}"
log "the local cluster is down ($(fmt_ms $((($(date +%s%N) - t0) / 1000000))))"
