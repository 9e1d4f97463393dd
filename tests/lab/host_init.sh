#!/bin/sh
# PID 1 of one lab host. Run by Fleet as:
#   unshare --kill-child --mount --uts --pid --fork --mount-proc /bin/sh host_init.sh
# with these variables (paths on the real machine unless noted):
#   LAB_HOSTNAME   host name
#   LAB_ADDR       the host's loopback address (sshd and netdata listen there)
#   LAB_STATE      empty dir; a tmpfs is mounted on it in this namespace only
#   LAB_COMMON     run-wide dir (keys, fakebin, bin) -> /usr/local/lib/netdata-lab (ro)
#   LAB_SHARE      per-host dir -> /run/netdata-lab (rw, readable from the controller)
#   LAB_CONTAINER  "" (looks like bare metal / a VM), "docker", or a systemd container
#                  name such as "lxc", "podman", "systemd-nspawn"
# The per-host setup snippet is $LAB_SHARE/setup.sh (/run/netdata-lab/setup.sh inside).
set -eu
say() { echo "lab-init[$LAB_HOSTNAME]: $*" >&2; }

hostname "$LAB_HOSTNAME"
mount --make-rprivate /

# --- a private copy-on-write view of the whole root filesystem -------------------------
# Upper/work dirs live on a tmpfs that exists only in this mount namespace (it vanishes
# with the host). The upper cannot live on the root fs itself: overlayfs refuses an upper
# dir inside its lower dir ("overlapping layers").
mount -t tmpfs -o mode=0755 "lab-$LAB_HOSTNAME" "$LAB_STATE"
mkdir -p "$LAB_STATE/upper" "$LAB_STATE/work" "$LAB_STATE/root"
mount -t overlay "lab-$LAB_HOSTNAME" \
  -o "lowerdir=/,upperdir=$LAB_STATE/upper,workdir=$LAB_STATE/work" "$LAB_STATE/root"
R="$LAB_STATE/root"
# Submounts are not part of the overlay: give the host its own /proc, /run, /tmp and the
# machine's /dev and /sys.
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mount --rbind /sys "$R/sys"
mount -t tmpfs -o mode=0755,nosuid,nodev "run-$LAB_HOSTNAME" "$R/run"
mount -t tmpfs -o mode=1777,nosuid,nodev "tmp-$LAB_HOSTNAME" "$R/tmp"
mkdir -p "$R/run/netdata-lab" "$R/usr/local/lib/netdata-lab"
mount --bind "$LAB_SHARE" "$R/run/netdata-lab"
mount --bind "$LAB_COMMON" "$R/usr/local/lib/netdata-lab"
mount -o remount,bind,ro "$R/usr/local/lib/netdata-lab"
mkdir -p "$R/.lab-oldroot"
cd "$R"
pivot_root . .lab-oldroot
cd /
umount -l /.lab-oldroot
rmdir /.lab-oldroot

# --- from here on, paths are the host's own -------------------------------------------
mkdir -p /run/sshd /run/lock
# A fresh Debian install has an empty /opt; the machine's holds big unrelated trees
# (package mirrors) that would make every scan of /opt in a host slow.
mount -t tmpfs -o mode=0755 "opt-$LAB_HOSTNAME" /opt
# Nor has it used Podman: the machine's own storage (its container tests and image
# stores) would make every host look like one that runs containers, and each facts run
# there asks `podman ps`. A container host mounts its runtimes' storage over this.
mkdir -p /var/lib/containers
mount -t tmpfs -o mode=0700 "containers-$LAB_HOSTNAME" /var/lib/containers
# Nor has it run Ansible: the machine's ~/.ansible (remote_tmp, and in it the modules'
# bytecode cache, netdata_fleet_telemetry_bytecode) would show through in every host.
mkdir -p /root/.ansible
mount -t tmpfs -o mode=0700 "ansible-$LAB_HOSTNAME" /root/.ansible
chmod 0755 /run/sshd
# The machine itself has /.dockerenv (systemd-detect-virt -c says "docker"). A host looks
# like bare metal / a VM unless it asks to be a container.
case "$LAB_CONTAINER" in
  docker) touch /.dockerenv ;;
  "") rm -f /.dockerenv /run/.containerenv ;;
  *) rm -f /.dockerenv; mkdir -p /run/systemd; echo "$LAB_CONTAINER" > /run/systemd/container ;;
esac
# The OS identity is the lab's, never the machine's: a machine with an /etc/lsb-release
# (every Ubuntu) or another os-release would otherwise show through in every host.
# Both files are regular files of this host so a setup snippet can just write them; a
# fresh Debian 12 has no /etc/lsb-release.
rm -f /etc/os-release /usr/lib/os-release /etc/lsb-release
cp /usr/local/lib/netdata-lab/os-release /usr/lib/os-release
cp /usr/local/lib/netdata-lab/os-release /etc/os-release
# Nothing in a host may reach the network: curl and wget are the recording fakes, both on
# the usual path and first on the daemon's PATH.
for p in curl wget; do
  if [ -e "/usr/bin/$p" ]; then cp /usr/local/lib/netdata-lab/fakebin/$p /usr/bin/$p; fi
done
# The overlay's lower layer is the machine's LIVE root filesystem: whatever happens on
# the machine (someone runs netdata there, edits /etc/netdata, adds a drop-in) shows
# through in every host for paths the host has not written yet. Pin what the lab cares
# about: Netdata's runtime state starts empty (as right after installing the package, no
# machine GUID yet), its config dir is this host's own snapshot taken now, and nothing
# a fresh Debian install lacks (drop-ins, /opt/netdata) is inherited from the machine.
for d in /var/lib/netdata /var/cache/netdata /var/log/netdata; do
  if [ -d "$d" ]; then find "$d" -mindepth 1 -maxdepth 1 -exec rm -rf {} +; fi
done
if [ -d /etc/netdata ]; then
  cp -a /etc/netdata /etc/.netdata.lab-snapshot && rm -rf /etc/netdata && mv /etc/.netdata.lab-snapshot /etc/netdata
fi
rm -rf /etc/systemd/system/netdata.service /etc/systemd/system/netdata.service.d \
  /run/systemd/system/netdata.service.d /opt/netdata /var/lib/libuuid
# The lab's stand-in for the service manager (see README.md).
mkdir -p /usr/local/sbin
for p in netdata-lab-service netdata-lab-restart; do
  ln -sf /usr/local/lib/netdata-lab/bin/$p /usr/local/sbin/$p
done
mkdir -p /root/.ssh && chmod 0700 /root/.ssh

if [ -s /run/netdata-lab/setup.sh ]; then
  say "running setup"
  if ! (cd / && /bin/bash -e /run/netdata-lab/setup.sh); then
    say "setup FAILED"
    exit 3
  fi
fi
touch /run/netdata-lab/setup.done

set -- /usr/sbin/sshd -D -e -f /run/netdata-lab/sshd_config
if [ -n "$LAB_CONTAINER" ] && [ "$LAB_CONTAINER" != docker ]; then
  exec env -i container="$LAB_CONTAINER" PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
fi
exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
