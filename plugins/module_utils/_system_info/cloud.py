# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cloud instance metadata (AWS IMDSv2, then GCP), as system-info.sh probes it.

Only called when the caller asked for cloud detection: it talks to the network.
Proxies are ignored (the script's ``--noproxy "*"``); nothing here raises.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import socket

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.common import UNKNOWN

AWS_METADATA_URL = "http://169.254.169.254"
GCP_METADATA_URL = "http://metadata.google.internal"

_OK, _TIMEOUT, _FAILED = "ok", "timeout", "failed"


def _is_timeout(exc):
    if isinstance(exc, socket.timeout):
        return True
    reason = getattr(exc, "reason", None)
    return isinstance(reason, socket.timeout) or "timed out" in str(reason or exc)


def _fetch(url, timeout, method="GET", headers=None):
    """(status, body): like ``curl --fail -s``: a non-2xx answer or an error gives no body."""
    # Imported here: urllib.request (http.client, email, ...) is about 20 ms of every
    # module run that imports it, and cloud detection is off unless asked for.
    from urllib.error import HTTPError
    from urllib.request import ProxyHandler, Request, build_opener

    opener = build_opener(ProxyHandler({}))
    req = Request(url, headers=headers or {})
    req.get_method = lambda: method
    try:
        resp = opener.open(req, timeout=timeout)
        try:
            body = resp.read().decode("utf-8", "replace")
        finally:
            resp.close()
        return _OK, body.rstrip("\n")
    except HTTPError:
        return _FAILED, ""
    except Exception as e:  # URLError, socket errors, bad URLs...
        return (_TIMEOUT if _is_timeout(e) else _FAILED), ""


def _basename(value):
    stripped = value.rstrip("/")
    return posixpath.basename(stripped) if stripped else value[:1]


def detect_cloud(virtualization, metadata_url=AWS_METADATA_URL, gcp_metadata_url=GCP_METADATA_URL,
                 timeout=1.0):
    """instance_cloud_type, instance_cloud_instance_type, instance_cloud_instance_region."""
    result = {"instance_cloud_type": UNKNOWN, "instance_cloud_instance_type": UNKNOWN,
              "instance_cloud_instance_region": UNKNOWN}
    if virtualization == "none":
        return result
    aws = metadata_url.rstrip("/")
    gcp = gcp_metadata_url.rstrip("/")
    try:
        # Anything but a timeout (even a refused connection) lets the script go on.
        status, _body = _fetch(aws, timeout)
        if status == _TIMEOUT:
            return result
        _status, token = _fetch(aws + "/latest/api/token", timeout, "PUT",
                                {"X-aws-ec2-metadata-token-ttl-seconds": "21600"})
        if token:
            hdr = {"X-aws-ec2-metadata-token": token}
            result["instance_cloud_type"] = "AWS"
            result["instance_cloud_instance_type"] = _fetch(
                aws + "/latest/meta-data/instance-type", timeout, headers=hdr)[1]
            result["instance_cloud_instance_region"] = _fetch(
                aws + "/latest/meta-data/placement/region", timeout, headers=hdr)[1]
            return result
        hdr = {"Metadata-Flavor": "Google"}
        if _fetch(gcp + "/computeMetadata/v1", timeout, headers=hdr)[1]:
            result["instance_cloud_type"] = "GCP"
            mtype = _fetch(gcp + "/computeMetadata/v1/instance/machine-type", timeout, headers=hdr)[1]
            result["instance_cloud_instance_type"] = _basename(mtype) if mtype else mtype
            zone = _fetch(gcp + "/computeMetadata/v1/instance/zone", timeout, headers=hdr)[1]
            if zone:
                zone = _basename(zone)
                # ${ZONE%-*}: drop the shortest "-..." suffix (us-central1-a -> us-central1)
                zone = zone.rsplit("-", 1)[0] if "-" in zone else zone
            result["instance_cloud_instance_region"] = zone
    except Exception:  # pragma: no cover - never let the network break facts
        pass
    return result
