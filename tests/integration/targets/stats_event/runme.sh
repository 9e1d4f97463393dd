#!/usr/bin/env bash
# stats_event sends for opted-in hosts only, to a loopback collector, failing closed; then
# the controller's own DO_NOT_TRACK (any non-empty value, 0 too) stops every event.
set -eux

export ANSIBLE_ROLES_PATH=..
# Any endpoint that is not loopback is an error while this is set (plugins/plugin_utils/_stats/delivery.py).
export NETDATA_FLEET_TELEMETRY_LOOPBACK_ONLY=1
unset DO_NOT_TRACK DISABLE_TELEMETRY

ansible-playbook -i inventory.yml main.yml -e "output_dir=${OUTPUT_DIR}" "$@"
DO_NOT_TRACK=0 ansible-playbook -i inventory.yml kill_switch.yml -e "output_dir=${OUTPUT_DIR}" "$@"
