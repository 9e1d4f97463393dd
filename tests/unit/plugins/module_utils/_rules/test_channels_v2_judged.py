# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The v2 rules as the real v2.10.4 daemon showed them (tests/lab_integration/test_v2_judge_lab.py).

  sf   src/daemon/status-file.c @ v2.10.4: check_crash_reports_config (default all when
       analytics is on or a claim/node id of this or the previous session is known),
       daemon_status_file_check_crash (decided and posted at start); main.c loads the
       claim (load_claiming_state) only after that check, so a claim id counts through
       the previous session's status file.
  an   src/daemon/analytics.c analytics_check_enabled @ v2.10.4.

Each row: what the daemon did (hello, posted at this start, posted at the next start).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.channels import (
    InstallEvidence, decide_install_telemetry)

V = (2, 10, 4)
START, BEFORE = 1000.0, 500.0


def env(dnt=None, dt=None):
    return {'DO_NOT_TRACK': dnt, 'DISABLE_TELEMETRY': dt}


def decide(**kw):
    args = dict(version=V, optout_file_exists=False, service_env=env(), daemon_env=env(),
                daemon_running=True, live_analytics=None, crash_reports_setting=None, claimed=False,
                installer_env=env(), daemon_started_at=START, netdata_conf_mtime=BEFORE,
                config_dir='/opt/netdata/etc/netdata', config_dir_mtime=BEFORE)
    args.update(kw)
    return decide_install_telemetry(InstallEvidence(**args))


FILE = dict(optout_file_exists=True, optout_file_mtime=BEFORE)


def crash(r):
    c = r['channels']['crash_reports']
    return c['running'], c['configured'], c['enabled']


# id, kwargs, (crash running, configured, enabled) as the daemon did: posted at this
# start, posts at the next
CRASH = [
    ('defaults-live-all', dict(live_analytics=True, live_crash_reports='all'), (True, True, True)),
    ('file-live-off', dict(live_analytics=False, live_crash_reports='off', **FILE), (False, False, False)),
    ('file-and-all-overrides', dict(live_analytics=False, live_crash_reports='all', crash_reports_setting='all',
                                    **FILE), (True, True, True)),
    ('off-with-analytics-on', dict(live_analytics=True, live_crash_reports='off', crash_reports_setting='off'),
     (False, False, False)),
    ('crashes', dict(live_analytics=True, live_crash_reports='crashes', crash_reports_setting='crashes'),
     (True, True, True)),
    # claimed with the opt-out file, first start: the claim was loaded after the check,
    # no post; this session saves the claim id in the status file: the next start posts
    ('claimed-first-start-sf', dict(live_analytics=False, live_crash_reports='off', claimed=True,
                                    status_file_ids=True, **FILE), (False, True, True)),
    ('claimed-second-start-sf', dict(live_analytics=False, live_crash_reports='all', claimed=True,
                                     status_file_ids=True, **FILE), (True, True, True)),
    # unclaimed since: this start still read the old claim id (posted), this session
    # keeps none, the next start does not post
    ('unclaimed-status-file-rewritten-sf', dict(live_analytics=False, live_crash_reports='all',
                                                status_file_ids=False, **FILE), (True, False, False)),
    # a node id kept in the status file (it survives an unclaim) keeps the default on
    ('node-id-in-status-file-sf', dict(live_analytics=False, status_file_ids=True, **FILE), (None, True, True)),
    ('status-file-unreadable', dict(daemon_running=False, daemon_env=None, status_file_ids=None, **FILE),
     (None, None, None)),
    # any value but exactly all/crashes is off, as the daemon resolves it (strcmp)
    ('live-yes-is-off', dict(live_analytics=True, live_crash_reports='yes', crash_reports_setting='yes'),
     (False, False, False)),
]


@pytest.mark.parametrize('kw,expected', [c[1:] for c in CRASH], ids=[c[0] for c in CRASH])
def test_crash_reports_as_the_daemon_posted(kw, expected):
    r = decide(**kw)
    assert crash(r) == expected, r['channels']['crash_reports']['reasons']
    assert r['channels']['crash_reports']['drift'] is False


def test_running_crash_reports_derived_without_the_live_answer():
    """No /netdata.conf answer: the setting (netdata.conf older than the daemon), else the
    analytics flag at start; unknown when the file changed since the start."""
    assert crash(decide())[0] is True
    assert crash(decide(daemon_env=env(dt='1')))[0] is False
    assert crash(decide(crash_reports_setting='off'))[0] is False
    assert crash(decide(crash_reports_setting='off', netdata_conf_mtime=START + 1))[0] is None
    assert crash(decide(claimed=True, **FILE))[0] is None  # the ids its start read are unknown
    assert crash(decide(daemon_running=False, daemon_env=None))[0] is None


@pytest.mark.parametrize('daemon_env,analytics,crash_on', [
    (env(dt='1'), False, False),
    (env(), True, True),
    (env('1'), True, True),
], ids=['dt1', 'defaults', 'dnt1'])
def test_no_unit_the_next_start_is_judged_with_the_daemons_environment(daemon_env, analytics, crash_on):
    """A daemon started by hand: no service environment; the running daemon's is the
    evidence for its next start (it was reported "unknown" in all three)."""
    r = decide(service_env=None, daemon_env=daemon_env, live_analytics=analytics,
               live_crash_reports='all' if crash_on else 'off')
    da = r['channels']['daemon_analytics']
    assert (da['configured'], da['enabled'], da['drift']) == (analytics, analytics, False), da['reasons']
    assert crash(r) == (crash_on, crash_on, crash_on)
    assert r['opted_out'] is (not analytics)
    assert any("running daemon's environment" in line for line in da['reasons'])


def test_no_unit_and_no_daemon_stays_unknown():
    r = decide(service_env=None, daemon_env=None, daemon_running=False)
    assert r['channels']['daemon_analytics']['configured'] is None
    assert crash(r)[1] is None and r['opted_out'] is False


def test_no_unit_and_unreadable_daemon_environment_stays_unknown():
    r = decide(service_env=None, daemon_env=None)
    assert r['channels']['daemon_analytics']['configured'] is None
    assert r['opted_out'] is False


def test_statistics_script_next_start_also_uses_the_daemons_environment():
    """v2.5 still runs the script; its next start gets the hand-started daemon's env."""
    r = decide(version=(2, 5, 0), service_env=None, daemon_env=env('1'))
    s = r['channels']['statistics_script']
    assert (s['configured'], s['running'], s['drift']) == (False, False, False), s['reasons']
