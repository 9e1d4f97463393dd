#!/usr/bin/env bash
# netdata-lab: entrypoint of the lab's Netdata container images (tests/lab/containers.py
# installs it as /usr/sbin/run.sh, the path of the official image's entrypoint).
#
# Written for the lab, not taken from Netdata. It reproduces what the official image's
# entrypoint (packaging/docker/run.sh in netdata/netdata) does at EVERY container start
# that matters for telemetry and for the config dir, as read at tags v1.37.1, v2.8.1,
# v2.8.2, v2.9.0 and v2.10.4; everything else there (docker.sock group, claiming, extra
# packages, Proxmox/NVIDIA groups) is left out. The image says which behaviour it has in
# /usr/local/lib/netdata-lab/entrypoint.conf:
#
#   NETDATA_LAB_TELEMETRY_RULE
#     nonempty  (run.sh up to v2.8.1, e.g. v1.37.1): the opt-out file is created when
#               DISABLE_TELEMETRY or DO_NOT_TRACK is non-empty, so "=0" opts out too (its
#               numeric test only adds values that are non-empty anyway).
#     nonzero   (run.sh from v2.8.2 and v2.9.0, e.g. v2.10.4): when either is set and is not
#               the string "0" (`${X:-0} != 0`): unset, empty and "0" keep telemetry on.
#   NETDATA_LAB_STOCK_COPY (only when /etc/netdata is a mount point: a volume or a bind)
#     if-empty    (v1.37.1): copy /etc/netdata.stock into it when it is empty. The opt-out
#                 file is created before this test, so an empty bind mount plus DO_NOT_TRACK
#                 gets the opt-out file and no stock config (as the real image does).
#     no-clobber  (v2.10.4): copy every stock file that is missing (cp -an), dot files too.
#   NETDATA_LAB_HOSTNAME_FILE=yes (v2.10.4): /etc/netdata/.container-hostname holds the
#                 container's hostname on a mounted config dir, and is removed otherwise.
#
# Lab-only additions (not in any official image), done before the agent starts:
#   - Netdata's endpoints resolve to the container's own loopback: the runtime writes the
#     container's /etc/hosts, so the lab's lines are appended to it at each start;
#   - the lab sink (tests/lab/sink.py, from the lab rootfs) listens on 127.0.0.1:443/:80
#     in the container and records what the agent sends to
#     /var/lib/netdata-lab/sink.jsonl. The container has no network (--network none):
#     nothing can leave it either way.
set -e
LAB=/usr/local/lib/netdata-lab
# shellcheck disable=SC1091
. "$LAB/entrypoint.conf"

opt_out=
case "$NETDATA_LAB_TELEMETRY_RULE" in
  nonempty)
    if [ -n "${DISABLE_TELEMETRY}" ] || [ -n "${DO_NOT_TRACK}" ]; then opt_out=1; fi ;;
  nonzero)
    if [ "${DISABLE_TELEMETRY:-0}" != 0 ] || [ "${DO_NOT_TRACK:-0}" != 0 ]; then opt_out=1; fi ;;
  *)
    echo "netdata-lab entrypoint: unknown NETDATA_LAB_TELEMETRY_RULE" >&2; exit 2 ;;
esac
if [ -n "$opt_out" ]; then
  touch /etc/netdata/.opt-out-from-anonymous-statistics
fi

if mountpoint -q /etc/netdata; then
  case "$NETDATA_LAB_STOCK_COPY" in
    if-empty)
      if [ -z "$(ls -A /etc/netdata)" ]; then
        echo "netdata-lab entrypoint: copying stock configuration to /etc/netdata"
        cp -a /etc/netdata.stock/. /etc/netdata
      fi ;;
    no-clobber)
      echo "netdata-lab entrypoint: copying missing stock configuration to /etc/netdata"
      cp -an /etc/netdata.stock/. /etc/netdata ;;
  esac
fi

if [ "$NETDATA_LAB_HOSTNAME_FILE" = yes ] && [ -w /etc/netdata ]; then
  if mountpoint -q /etc/netdata; then
    hostname > /etc/netdata/.container-hostname
  else
    rm -f /etc/netdata/.container-hostname
  fi
fi

# --- lab-only part ---------------------------------------------------------------------
if [ -w /etc/hosts ] && ! grep -q '^# netdata-lab endpoints' /etc/hosts; then
  { echo '# netdata-lab endpoints: they answer on the container'"'"'s own loopback'
    cat "$LAB/hosts"; } >> /etc/hosts 2>/dev/null || true
fi
if [ -f "$LAB/sink.py" ] && command -v python3 >/dev/null; then
  mkdir -p /var/lib/netdata-lab
  python3 "$LAB/sink.py" /var/lib/netdata-lab/sink.jsonl </dev/null >/dev/null 2>&1 &
  # v2 posts its status synchronously at start: the sink must listen first (:443 = 01BB).
  for _ in $(seq 50); do
    grep -q ':01BB 00000000:0000 0A' /proc/net/tcp 2>/dev/null && break
    sleep 0.1
  done
fi

exec /usr/sbin/netdata -u "${DOCKER_USR:-netdata}" -D -s /host -p "${NETDATA_LISTENER_PORT:-19999}" "$@"
