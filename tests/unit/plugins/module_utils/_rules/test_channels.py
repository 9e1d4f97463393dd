# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""telemetry_channels: every channel, every version rule, read from netdata/netdata.

Sources (file @ tag) cited in the case ids use these short names:
  script137  daemon/anonymous-statistics.sh.in @ v1.37.1 (tests -f file, -n DT, -n DNT)
  script25   src/daemon/anonymous-statistics.sh.in @ v2.5.0 (same test)
  an137      daemon/analytics.c send_statistics @ v1.37.1 (file only, once at start)
  an22       src/daemon/analytics.c analytics_statistic_send @ v2.2.0 (same as an137)
  an23       src/daemon/analytics.c analytics_check_enabled @ v2.3.0..v2.11.0
             (file or non-empty DISABLE_TELEMETRY; sticky off; DO_NOT_TRACK unread)
  pr20654    "Stop submitting analytics" (#20654, c546a70), first in v2.6.0
  sf         src/daemon/status-file.c check_crash_reports_config @ v2.3.0..v2.11.0
             (only "all"/"crashes" are on; default all if analytics on or claimed)
  ks         packaging/installer/kickstart.sh @ v1.37.1..v2.11.0 (-eq 1, DT before DNT)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import itertools
import random

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.channels import (
    CHANNELS,
    decide_host_telemetry,
    InstallEvidence,
    decide_install_telemetry,
    decide_installer_channel,
    parse_version,
)

V137, V220, V230, V250, V260, VNEWEST = (1, 37, 1), (2, 2, 0), (2, 3, 0), (2, 5, 0), (2, 6, 0), (2, 11, 0)
START = 1000.0
BEFORE, AFTER = 500.0, 1500.0


def env(dnt=None, dt=None):
    return {'DO_NOT_TRACK': dnt, 'DISABLE_TELEMETRY': dt}


def decide(**kw):
    args = dict(version=VNEWEST, optout_file_exists=False, service_env=env(), daemon_env=env(),
                daemon_running=True, live_analytics=None, crash_reports_setting=None, claimed=False,
                installer_env=env(), strict=False, optout_file_mtime=None,
                daemon_started_at=START, netdata_conf_mtime=BEFORE, config_dir='/etc/netdata',
                config_dir_mtime=BEFORE)
    args.update(kw)
    return decide_install_telemetry(InstallEvidence(**args))


def en(result, channel):
    return result['channels'][channel]['enabled']


OFF_FILE = dict(optout_file_exists=True, optout_file_mtime=BEFORE)

# id, kwargs, expected {channel: enabled} (None = unknown, 'na' = does not apply),
# opted_out, opted_in, drift
TABLE = [
    ('v1.37.1-dnt1-no-file-live-true-an137-script137',
     dict(version=V137, service_env=env('1'), daemon_env=env('1'), live_analytics=True),
     dict(statistics_script=False, daemon_analytics=True, crash_reports='na'), False, False, False),
    ('v1.37.1-dt1-no-file-daemon-ignores-env-an137',
     dict(version=V137, service_env=env(dt='1'), daemon_env=env(dt='1')),
     dict(statistics_script=False, daemon_analytics=True), False, False, False),
    ('v1.37.1-file-before-start-an137',
     dict(version=V137, **OFF_FILE),
     dict(statistics_script=False, daemon_analytics=False, installer=True), True, False, False),
    ('v1.37.1-file-created-after-start-needs-restart-an137',
     dict(version=V137, optout_file_exists=True, optout_file_mtime=AFTER, config_dir_mtime=AFTER),
     dict(statistics_script=False, daemon_analytics=True), False, False, True),
    ('v1.37.1-file-removed-after-start-live-false-an137',
     dict(version=V137, config_dir_mtime=AFTER, live_analytics=False),
     dict(statistics_script=False, daemon_analytics=False), True, False, True),
    ('v1.37.1-file-removed-maybe-no-live-unknown-an137',
     dict(version=V137, config_dir_mtime=AFTER),
     dict(statistics_script=None, daemon_analytics=None), False, False, False),
    ('v1.37.1-file-exists-start-time-unknown-an137',
     dict(version=V137, optout_file_exists=True, daemon_started_at=None, config_dir_mtime=None),
     dict(statistics_script=False, daemon_analytics=None), False, False, False),
    ('v1.37.1-clean-opted-in-an137-script137',
     dict(version=V137),
     dict(statistics_script=True, daemon_analytics=True, installer=True), False, True, False),
    ('v2.2.0-dt1-daemon-ignores-env-an22',
     dict(version=V220, service_env=env(dt='1'), daemon_env=env(dt='1')),
     dict(statistics_script=False, daemon_analytics=True, crash_reports='na'), False, False, False),
    ('v2.3.0-dt1-not-claimed-all-off-an23-sf',
     dict(version=V230, service_env=env(dt='1'), daemon_env=env(dt='1')),
     dict(statistics_script=False, daemon_analytics=False, crash_reports=False), True, False, False),
    ('v2.3.0-dt1-claimed-crash-default-on-sf',
     dict(version=V230, service_env=env(dt='1'), daemon_env=env(dt='1'), claimed=True),
     dict(daemon_analytics=False, crash_reports=True), False, False, False),
    ('v2.3.0-dnt1-daemon-does-not-read-dnt-an23',
     dict(version=V230, service_env=env('1'), daemon_env=env('1')),
     dict(statistics_script=False, daemon_analytics=True, crash_reports=True), False, False, False),
    ('v2.3.0-dt-empty-keeps-on-an23',
     dict(version=V230, service_env=env(dt=''), daemon_env=env(dt='')),
     dict(statistics_script=True, daemon_analytics=True, crash_reports=True), False, True, False),
    ('v2.5.0-dt0-is-off-an23-script25',
     dict(version=V250, service_env=env(dt='0'), daemon_env=env(dt='0')),
     dict(statistics_script=False, daemon_analytics=False, crash_reports=False), True, False, False),
    ('v2.5.0-file-created-after-start-rechecked-at-next-event-an23',
     dict(version=V250, optout_file_exists=True, optout_file_mtime=AFTER, config_dir_mtime=AFTER),
     dict(statistics_script=False, daemon_analytics=None, crash_reports=False), False, False, False),
    ('v2.5.0-service-env-changed-restart-needed-script25',
     dict(version=V250, service_env=env(dt='1'), daemon_env=env()),
     dict(statistics_script=True, daemon_analytics=True), False, False, True),
    ('v2.5.0-no-daemon-configured-view-script25',
     dict(version=V250, service_env=env(dt='1'), daemon_env=None, daemon_running=False),
     dict(statistics_script=False, daemon_analytics=False, crash_reports=False), True, False, False),
    ('v2.5.0-daemon-env-unreadable-an23',
     dict(version=V250, daemon_env=None),
     dict(statistics_script=None, daemon_analytics=None), False, False, False),
    ('v2.6.0-file-before-start-no-script-pr20654',
     dict(version=V260, **OFF_FILE),
     dict(statistics_script='na', daemon_analytics=False, crash_reports=False), True, False, False),
    ('v2.6.0-file-created-after-start-checked-only-at-start-an23',
     dict(version=V260, optout_file_exists=True, optout_file_mtime=AFTER, config_dir_mtime=AFTER),
     dict(daemon_analytics=True, crash_reports=False), False, False, True),
    ('v2.11.0-file-claimed-crash-unset-still-reports-sf',
     dict(version=VNEWEST, claimed=True, **OFF_FILE),
     dict(daemon_analytics=False, crash_reports=True), False, False, False),
    ('v2.11.0-file-claimed-crash-off-opted-out-sf',
     dict(version=VNEWEST, claimed=True, crash_reports_setting='off', **OFF_FILE),
     dict(daemon_analytics=False, crash_reports=False), True, False, False),
    ('v2.11.0-live-false-no-file-drift-an23',
     dict(version=VNEWEST, live_analytics=False),
     dict(daemon_analytics=False, crash_reports=True), False, False, True),
    ('v2.11.0-dnt1-no-channel-reads-it-still-blocks-opted-in',
     dict(version=VNEWEST, service_env=env('1'), daemon_env=env('1'), live_analytics=True),
     dict(statistics_script='na', daemon_analytics=True, crash_reports=True), False, False, False),
    ('v2.11.0-conf-changed-after-start-no-drift-sf',
     dict(version=VNEWEST, crash_reports_setting='off', netdata_conf_mtime=AFTER),
     dict(crash_reports=False), False, False, False),
    ('unknown-version-everything-off',
     dict(version=None, service_env=env('1', '1'), daemon_env=env('1', '1'),
          crash_reports_setting='off', **OFF_FILE),
     dict(statistics_script=False, daemon_analytics=False, crash_reports=False), True, False, False),
    ('unknown-version-dt1-rules-disagree-an22-vs-an23',
     dict(version=None, service_env=env(dt='1'), daemon_env=env(dt='1'), crash_reports_setting='off'),
     dict(statistics_script=False, daemon_analytics=None, crash_reports=False), False, False, False),
    ('unknown-version-clean',
     dict(version=None),
     dict(statistics_script=True, daemon_analytics=True, crash_reports=True), False, True, False),
]


@pytest.mark.parametrize('kw,expected,opted_out,opted_in,drift',
                         [c[1:] for c in TABLE], ids=[c[0] for c in TABLE])
def test_table(kw, expected, opted_out, opted_in, drift):
    r = decide(**kw)
    for channel, want in expected.items():
        ch = r['channels'][channel]
        if want == 'na':
            assert ch['applies'] is False, channel
        else:
            assert ch['applies'] is True, channel
            assert ch['enabled'] is want, (channel, r['reasons'])
    assert (r['opted_out'], r['opted_in'], r['drift']) == (opted_out, opted_in, drift), r['reasons']
    assert all(line.split(':')[0] in CHANNELS for line in r['reasons'])


VALUE_CLASSES = [None, '', '0', '1', 'false', 'yes']
VALUE_IDS = ['unset', 'empty', '0', '1', 'false', 'yes']


@pytest.mark.parametrize('version', [V137, V220, V230, V250], ids=['v1.37.1', 'v2.2.0', 'v2.3.0', 'v2.5.0'])
@pytest.mark.parametrize('name', ['DO_NOT_TRACK', 'DISABLE_TELEMETRY'])
@pytest.mark.parametrize('value', VALUE_CLASSES, ids=VALUE_IDS)
def test_env_value_classes_script_and_daemon(version, name, value):
    """script137/script25: any non-empty value opts out. an137/an22: env ignored.
    an23: only a non-empty DISABLE_TELEMETRY turns the daemon off."""
    e = {name: value}
    r = decide(version=version, service_env=e, daemon_env=e)
    nonempty = value not in (None, '')
    assert en(r, 'statistics_script') is (not nonempty)
    daemon_off = nonempty and name == 'DISABLE_TELEMETRY' and version >= V230
    assert en(r, 'daemon_analytics') is (not daemon_off)
    assert r['opted_in'] is (not nonempty)


@pytest.mark.parametrize('setting,claimed,analytics_off,expected', [
    (None, False, False, True),      # default all: analytics on
    (None, False, True, False),      # default off
    (None, True, True, True),        # default all: claimed
    ('', True, True, True),          # empty = default (!t || !*t)
    ('off', True, False, False),
    ('no', False, False, False),
    ('false', False, False, False),
    ('disabled', False, False, False),
    ('on', False, False, False),     # strcmp: only all/crashes are on
    ('yes', False, False, False),
    ('All', False, False, False),    # case-sensitive
    ('all', False, True, True),
    ('crashes', False, True, True),
    (' all \t', False, True, True),  # trimmed by appconfig/inicfg
], ids=repr)
def test_crash_reports_values_sf(setting, claimed, analytics_off, expected):
    """status-file.c check_crash_reports_config @ v2.3.0, v2.5.0, v2.6.0, v2.11.0."""
    kw = OFF_FILE if analytics_off else {}
    for version in (V230, V250, V260, VNEWEST):
        r = decide(version=version, crash_reports_setting=setting, claimed=claimed, **kw)
        assert en(r, 'crash_reports') is expected, r['reasons']


def test_crash_reports_unknown_claim_and_analytics():
    r = decide(version=VNEWEST, claimed=None, daemon_running=False, service_env=None)
    assert en(r, 'crash_reports') is None


@pytest.mark.parametrize('kw, unknown', [
    # analytics off (the file), not claimed, the status file's ids unknown
    (dict(OFF_FILE, claimed=False, status_file_ids=None), "the status file's claim and node ids is unknown"),
    (dict(OFF_FILE, claimed=None), 'the claim state is unknown'),
    (dict(claimed=None, status_file_ids=None, daemon_running=False, service_env=None),
     "daemon analytics and the claim state and the status file's claim and node ids are unknown"),
], ids=['ids', 'claim', 'all-three'])
def test_crash_reports_unknown_names_what_is_unknown(kw, unknown):
    r = decide(version=VNEWEST, **kw)
    assert en(r, 'crash_reports') is None
    line = [x for x in r['channels']['crash_reports']['reasons'] if x.startswith('unknown: [global]')]
    assert len(line) == 1 and unknown in line[0], r['channels']['crash_reports']['reasons']


@pytest.mark.parametrize('environ,expected', [
    (env(), True),
    (env('', ''), True),
    (env('0'), True),
    (env('1'), False),
    (env(dt='1'), False),
    (env('false'), True),
    (env('yes'), True),
    (env(dt='true'), True),
    (env(' 1 '), False),       # dash and bash -eq accept blanks
    (env('01'), False),
    (env('+1'), False),
    (env('1\n'), None),        # dash yes, bash no
    (env('1', '0'), True),     # DISABLE_TELEMETRY=0 hides DO_NOT_TRACK=1
    (env('0', '1'), False),
    (env('1', ''), False),     # empty DISABLE_TELEMETRY falls through to DO_NOT_TRACK
    (None, None),
], ids=['unset', 'empty', 'dnt0', 'dnt1', 'dt1', 'false', 'yes', 'dt-true', 'blank1', '01', '+1',
        'trailing-nl', 'dt0-hides-dnt1', 'dnt0-dt1', 'dt-empty-dnt1', 'unknown'])
def test_installer_ks(environ, expected):
    """packaging/installer/kickstart.sh @ v1.37.1 and v2.11.0."""
    ch = decide_installer_channel(environ)
    assert ch['enabled'] is expected
    assert ch['counted'] is False
    assert decide_installer_channel(environ, strict=True)['counted'] is True


def test_installer_counted_only_when_strict():
    kw = dict(version=VNEWEST, crash_reports_setting='off', **OFF_FILE)
    assert decide(**kw)['opted_out'] is True
    assert decide(strict=True, **kw)['opted_out'] is False
    assert decide(strict=True, installer_env=env(dt='1'), **kw)['opted_out'] is True


def test_reason_examples_are_readable():
    r = decide(version=V137, service_env=env('1'), daemon_env=env('1'), live_analytics=True)
    text = '\n'.join(r['reasons'])
    assert 'daemon_analytics: on: v1.37.1 daemon ignores DO_NOT_TRACK' in text
    r = decide(version=VNEWEST, claimed=True, **OFF_FILE)
    assert 'crash_reports: on: node is claimed and [global] crash reports is unset' in '\n'.join(r['reasons'])
    r = decide(version=V137, **OFF_FILE)
    assert any(line.startswith('statistics_script: off: opt-out file /etc/netdata/') for line in r['reasons'])


def test_channel_shape():
    r = decide()
    assert set(r) == {'opted_out', 'opted_in', 'drift', 'reasons', 'channels'}
    assert list(r['channels']) == list(CHANNELS)
    for name, ch in r['channels'].items():
        assert set(ch) >= {'applies', 'enabled', 'configured', 'running', 'drift', 'counted', 'reasons'}
    assert 'live' in r['channels']['daemon_analytics']


@pytest.mark.parametrize('odd', [
    dict(version='garbage'), dict(version=('a', 'b')), dict(version=[]), dict(version=True),
    dict(service_env='DO_NOT_TRACK=1'), dict(daemon_env=[1]), dict(installer_env=3),
    dict(service_env={'DO_NOT_TRACK': 1}), dict(daemon_started_at='x'), dict(optout_file_mtime=[]),
    dict(crash_reports_setting=b'off'), dict(crash_reports_setting=7), dict(claimed='yes'),
    dict(live_analytics='true'), dict(config_dir=None), dict(optout_file_exists=None),
], ids=lambda d: repr(d)[:40])
def test_odd_input_never_raises(odd):
    r = decide(**odd)
    assert not (r['opted_in'] and r['opted_out'])


def test_parse_version():
    assert parse_version('netdata v1.37.1') == (1, 37, 1)
    assert parse_version('v2.6.0-12-nightly') == (2, 6, 0)
    assert parse_version((2, 3)) == (2, 3, 0)
    assert parse_version(None) is None
    assert parse_version('x') is None


# -- host ----------------------------------------------------------------------------

def test_host_absent():
    h = decide_host_telemetry([], env())
    assert h['state'] == 'absent' and h['opted_out'] is True and h['opted_in'] is False
    assert decide_host_telemetry([], env(), strict=True)['opted_out'] is False
    assert decide_host_telemetry([], env('1'), strict=True)['opted_out'] is True
    assert decide_host_telemetry([], None, strict=True)['opted_out'] is False


def test_host_states_and_prefix():
    off = decide(version=VNEWEST, crash_reports_setting='off', **OFF_FILE)
    on = decide(version=VNEWEST)
    h = decide_host_telemetry([('/etc/netdata', off), {'config_dir': '/opt/netdata/etc/netdata',
                                                       'telemetry': on}], env())
    assert h['state'] == 'partial' and not h['opted_out'] and not h['opted_in']
    assert h['reasons'][0].startswith('[/etc/netdata] ')
    assert any(r.startswith('[/opt/netdata/etc/netdata] ') for r in h['reasons'])
    assert decide_host_telemetry([('/etc/netdata', off)], env())['state'] == 'opted_out'
    assert decide_host_telemetry([('/etc/netdata', on)], env())['state'] == 'opted_in'
    assert decide_host_telemetry([('/etc/netdata', off)], env(), strict=True)['state'] == 'partial'
    assert decide_host_telemetry([('/etc/netdata', on)], decide_installer_channel(env()))['opted_in']
    assert decide_host_telemetry(['junk'], env())['state'] == 'partial'


# -- properties ------------------------------------------------------------------------

ENV_CLASSES = [env(), env('', ''), env('0'), env('1'), env(dt='0'), env(dt='1'), env('false', 'yes')]
TIMING = {  # (file mtime, config dir mtime)
    'before': (BEFORE, BEFORE), 'after': (AFTER, AFTER), 'unknown': (None, None)}


def _combos():
    product = itertools.product(
        [V137, V220, V230, V250, V260, VNEWEST, None],   # version
        [True, False],                                  # file
        ENV_CLASSES,                                    # service env
        ['same', 'unreadable', 'dt1'],                  # daemon env
        [True, False],                                  # daemon running
        [True, False, None],                            # live
        [None, 'off', 'all', 'on'],                     # crash reports
        [True, False],                                  # claimed
        [env(), env('1'), env(dt='0')],                 # installer
        list(TIMING),                                   # timing
        [False, True],                                  # strict
    )
    combos = list(product)
    return random.Random(20654).sample(combos, 8000)


def _nonempty(e):
    return bool(e) and any(v not in (None, '') for v in e.values())


@pytest.mark.parametrize('chunk', range(8))
def test_invariants(chunk):
    for (version, file_, service, daemon, running, live, crash, claimed, installer, timing,
         strict) in _combos()[chunk * 1000:(chunk + 1) * 1000]:
        daemon_env = {'same': service, 'unreadable': None, 'dt1': env(dt='1')}[daemon] if running else None
        file_mtime, dir_mtime = TIMING[timing]
        r = decide_install_telemetry(InstallEvidence(
            version, file_, service, daemon_env, running, live if running else None, crash, claimed,
            installer, strict=strict, optout_file_mtime=file_mtime if file_ else None,
            daemon_started_at=START if running else None, config_dir_mtime=dir_mtime,
            config_dir='/etc/netdata'))
        chans = [c for c in r['channels'].values() if c['applies']]
        assert not (r['opted_in'] and r['opted_out'])
        if r['opted_in']:
            assert not file_
            assert not _nonempty(service) and not _nonempty(daemon_env)
            assert crash in (None, 'all')
            assert installer == env()
            assert all(c['enabled'] is True for c in chans)
        if any(c['enabled'] is None for c in chans):
            assert not r['opted_in']
        if r['opted_out']:
            assert all(c['enabled'] is False for c in chans if c['counted'])
            if strict:
                assert r['channels']['installer']['enabled'] is False
        assert isinstance(r['drift'], bool)
        assert all(line.split(':')[0] in CHANNELS for line in r['reasons'])
        # daemon_analytics: where live is known it decides
        if running and live is not None:
            assert r['channels']['daemon_analytics']['enabled'] is live


# (stamp, started_at, window): the daemon truly started at START; started_at is the
# earliest the evidence allows, window the span after it within which it did.
FINE, WHOLE_SECOND = (START - 0.004, 0.011), (START - 0.7, 1.01)


@pytest.mark.parametrize('stamp, start, running', [
    # the role wrote the file, then systemd restarted the agent 0.3 s later
    (START - 0.3, FINE, False),
    # the same start dated from a whole-second btime: either order is possible
    (START - 0.3, WHOLE_SECOND, None),
    (START - 0.3, (START - 0.7, None), None),
    # within a coarse-clock tick before the start: cannot be ordered
    (START - 0.02, FINE, None),
    # written during the start's window: cannot be ordered
    (START + 0.005, FINE, None),
    # written after the window: the running daemon did not see it
    (START + 0.05, FINE, True),
    (START + 0.5, WHOLE_SECOND, True),
])
def test_a_file_close_to_the_start_is_ordered_only_as_far_as_the_clocks_tell(stamp, start, running):
    result = decide(version=V137, optout_file_exists=True, optout_file_mtime=stamp,
                    optout_file_ctime=stamp, config_dir_mtime=stamp,
                    daemon_started_at=start[0], daemon_start_window=start[1])
    analytics = result['channels']['daemon_analytics']
    assert analytics['running'] is running, analytics['reasons']
    if running is None:
        assert any('too close' in r for r in analytics['reasons']), analytics['reasons']


@pytest.mark.parametrize('stamp, start, running', [
    (START - 0.3, FINE, False),          # netdata.conf older than the daemon: its setting counts
    (START - 0.3, WHOLE_SECOND, None),   # a whole-second start: it may have changed since
    (START + 0.05, FINE, None),          # changed since the start
])
def test_netdata_conf_close_to_the_start(stamp, start, running):
    result = decide(version=VNEWEST, crash_reports_setting='off', netdata_conf_mtime=stamp,
                    daemon_started_at=start[0], daemon_start_window=start[1])
    assert result['channels']['crash_reports']['running'] is running, result['channels']['crash_reports']
