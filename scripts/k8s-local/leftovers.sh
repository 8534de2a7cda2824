#!/usr/bin/env bash
# List anything of the local cluster still on this machine (exit 1 if so): processes,
# mounts, iptables chains and rules, the CNI bridge and veths, cgroups, directories.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
found=0
say() {
  echo "left behind: $*"
  found=1
}
for f in /proc/[0-9]*/cmdline; do
  cmd=$({ tr '\0' ' ' <"${f}"; } 2>/dev/null || true)
  case "${cmd}" in
    *"${STATE_DIR}/"* | *"${K8S_BIN_DIR}/"* | *"${COREDNS_BIN}"*) say "process ${f//[!0-9]/}: ${cmd:0:120}" ;;
  esac
done
if [[ -d "${STATE_DIR}" ]]; then say "directory ${STATE_DIR}"; fi
awk -v d="${STATE_DIR_REAL}/" 'index($2, d) == 1 {print "mount " $2}' /proc/self/mounts | while read -r m; do say "${m}"; done
for cmd in iptables ip6tables; do
  command -v "${cmd}" >/dev/null || continue
  for table in filter nat mangle; do
    rules=$({ "${cmd}" -t "${table}" -S 2>/dev/null || true; } | { grep -E 'KUBE-|CNI-|grpc-lb k8s-local' || true; })
    if [[ -n "${rules}" ]]; then say "${cmd} ${table}: $(head -3 <<<"${rules}" | tr '\n' ';')"; fi
  done
done
if ip link show "${CNI_BRIDGE}" >/dev/null 2>&1; then say "interface ${CNI_BRIDGE}"; fi
if ip -o link show | grep -q "master ${CNI_BRIDGE}"; then say "veth on ${CNI_BRIDGE}"; fi
for cg in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/k8s.io /sys/fs/cgroup/kubepods; do
  if [[ -d "${cg}" ]]; then say "cgroup ${cg}"; fi
done
exit "${found}"
