# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The OpenRC start environment reader against OpenRC 0.45.2 itself.

Every ``expect`` below was measured with Debian 12's OpenRC 0.45.2: ``rc-service netdata
start`` in a throwaway namespace started a stand-in for the agent that saved its
environment (``openrc_judge.py``). ``test_reader_matches_table`` always runs and holds
the reader (``start_mechanisms.openrc_start``) to those measurements;
``test_real_openrc`` runs the table through the real ``openrc-run`` where it can and
checks both the table and the reader against it (skipped, with the reason, elsewhere).

``expect`` is what the agent got of ``DO_NOT_TRACK`` / ``DISABLE_TELEMETRY`` (None:
unset). ``reader`` is ``UNKNOWN`` where the reader must say it cannot tell (the value
depends on the caller, or on shell the reader does not run) - never a wrong value.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.start_mechanisms import openrc_start
from ansible_collections.netdata_fleet.telemetry.tests.unit.plugins.module_utils._discovery import openrc_judge

UNKNOWN = 'unknown'
CONF = '/etc/conf.d/netdata'
CALLER = {'DO_NOT_TRACK': 'caller', 'DISABLE_TELEMETRY': 'caller'}


def case(cid, expect, files=None, caller=None, runlevel='default', reader='same', init_extra=b''):
    dnt, dt = expect
    return {'id': cid, 'expect': {'DO_NOT_TRACK': dnt, 'DISABLE_TELEMETRY': dt}, 'files': files or {},
            'caller': caller if caller is not None else CALLER, 'runlevel': runlevel, 'reader': reader,
            'init_script': openrc_judge.INIT_SCRIPT + init_extra}


CASES = [
    # --- what reaches the agent: exported only
    case('export', ('1', None), {CONF: b'export DO_NOT_TRACK=1\nDISABLE_TELEMETRY=1\n'}),
    case('export-both-one-line', ('1', 'x y'), {CONF: b'export DO_NOT_TRACK="1" DISABLE_TELEMETRY=\'x y\'\n'}),
    case('assign-then-export', ('1', None), {CONF: b'DO_NOT_TRACK=1\nexport DO_NOT_TRACK\n'}),
    case('exported-then-reassigned', ('0', None), {CONF: b'export DO_NOT_TRACK=1\nDO_NOT_TRACK=0\n'}),
    case('unset-drops-the-export', (None, None), {CONF: b'export DO_NOT_TRACK=1\nunset DO_NOT_TRACK\nDO_NOT_TRACK=2\n'}),
    case('export-unset-name', (None, None), {CONF: b'export DO_NOT_TRACK\n'}),
    case('export-empty', ('', None), {CONF: b'export DO_NOT_TRACK=\n'}),
    case('set-a', ('1', None), {CONF: b'set -a\nDO_NOT_TRACK=1\nset +a\nDISABLE_TELEMETRY=1\n'}),
    case('set-o-allexport', ('1', '2'), {CONF: b'set -o allexport\nDO_NOT_TRACK=1\nDISABLE_TELEMETRY=2\n'}),
    case('crlf-keeps-cr', ('1\r', None), {CONF: b'export DO_NOT_TRACK=1\r\n'}),
    case('comment-after-value', ('1', None), {CONF: b'export DO_NOT_TRACK=1 # off\n#export DISABLE_TELEMETRY=1\n'}),
    case('continuation-line', ('1', '1'), {CONF: b'export DO_NOT_TRACK=1 \\\n  DISABLE_TELEMETRY=1\n'}),
    case('expansion-of-known-var', ('11', None), {CONF: b'one=1\nexport DO_NOT_TRACK=$one${one}\n'}),
    case('semicolons', ('1', None), {CONF: b'export DO_NOT_TRACK=1; export DISABLE_TELEMETRY=1; unset DISABLE_TELEMETRY\n'}),
    case('pipeline-is-a-subshell', (None, None), {CONF: b'export DO_NOT_TRACK=1 | cat\n'}),
    # --- which files: runlevel file instead of the plain one, rc.conf, rc.conf.d, profile.env
    case('runlevel-file-instead', (None, '1'), {CONF: b'export DO_NOT_TRACK=1\n', CONF + '.default': b'export DISABLE_TELEMETRY=1\n'}),
    case('other-runlevel-file-ignored', ('1', None), {CONF: b'export DO_NOT_TRACK=1\n', CONF + '.boot': b'export DISABLE_TELEMETRY=1\n'}),
    case('runlevel-from-softlevel', (None, '1'), {CONF: b'export DO_NOT_TRACK=1\n', CONF + '.boot': b'export DISABLE_TELEMETRY=1\n'},
         runlevel='boot'),
    case('rc-conf-export', ('rc', None), {'/etc/rc.conf': b'export DO_NOT_TRACK=rc\n'}),
    case('conf-d-after-rc-conf', ('conf', None), {'/etc/rc.conf': b'export DO_NOT_TRACK=rc\n', CONF: b'DO_NOT_TRACK=conf\n'}),
    case('rc-conf-d-in-order', ('b', None), {'/etc/rc.conf.d/a.conf': b'export DO_NOT_TRACK=a\n',
                                             '/etc/rc.conf.d/b.conf': b'export DO_NOT_TRACK=b\n',
                                             '/etc/rc.conf.d/c.txt': b'export DISABLE_TELEMETRY=c\n'}),
    case('profile-env-adds', ('prof', 'p2'), {'/etc/profile.env': b"export DO_NOT_TRACK='prof'\nDISABLE_TELEMETRY='p2'\n"}),
    case('profile-env-then-unset', (None, 'p2'), {'/etc/profile.env': b"export DO_NOT_TRACK='prof'\nDISABLE_TELEMETRY='p2'\n",
                                                  CONF: b'unset DO_NOT_TRACK\n'}),
    case('init-script-after-conf-d', ('0', None), {CONF: b'export DO_NOT_TRACK=1\n'}, init_extra=b'export DO_NOT_TRACK=0\n'),
    case('supervise-daemon', ('1', None), {CONF: b'supervisor=supervise-daemon\nexport DO_NOT_TRACK=1\nDISABLE_TELEMETRY=1\n'}),
    # --- the caller's environment
    case('caller-filtered', (None, None), {}),
    case('rc-env-allow', ('caller', None), {'/etc/rc.conf': b'rc_env_allow="DO_NOT_TRACK"\n'}, reader=UNKNOWN),
    case('rc-env-allow-in-rc-conf-d', ('caller', None), {'/etc/rc.conf.d/env.conf': b'rc_env_allow="DO_NOT_TRACK"\n'},
         reader=UNKNOWN),
    case('rc-env-allow-star', ('caller', 'caller'), {'/etc/rc.conf': b'rc_env_allow="*"\n'}, reader=UNKNOWN),
    # a plain assignment to a name the caller may have exported: exported only if it was
    case('rc-env-allow-then-set', ('1', None), {'/etc/rc.conf': b'rc_env_allow="DO_NOT_TRACK"\n',
                                                CONF: b'DO_NOT_TRACK=1\n'}, reader=UNKNOWN),
    case('rc-env-allow-then-export', ('1', None), {'/etc/rc.conf': b'rc_env_allow="DO_NOT_TRACK"\n',
                                                   CONF: b'DO_NOT_TRACK=1\nexport DO_NOT_TRACK\n'}),
    case('rc-env-allow-then-unset', (None, None), {'/etc/rc.conf': b'rc_env_allow="*"\n',
                                                   CONF: b'unset DO_NOT_TRACK DISABLE_TELEMETRY\n'}),
    # --- what the reader does not run: it must say "unknown", never guess
    case('if-block', ('1', '1'), {CONF: b'if true; then\n  export DO_NOT_TRACK=1\nfi\nexport DISABLE_TELEMETRY=1\n'},
         reader=UNKNOWN),
    case('and-list', ('1', None), {CONF: b'[ -d / ] && export DO_NOT_TRACK=1\n'}, reader=UNKNOWN),
    case('command-substitution', ('1', None), {CONF: b'export DO_NOT_TRACK=$(echo 1)\n'}, reader=UNKNOWN),
    case('unset-after-and', (None, None), {CONF: b'export DO_NOT_TRACK=1\n[ -d / ] && unset DO_NOT_TRACK\n'},
         reader=UNKNOWN),
    case('assign-expansion-of-a-command', ('1', None), {CONF: b'export DO_NOT_TRACK\n: "${DO_NOT_TRACK:=$(echo 1)}"\n'},
         reader=UNKNOWN),
    # --- what the reader does run: a read sets nothing; ": ${NAME:=word}" (Netdata's v1.37.1 script)
    case('read-in-a-condition', ('1', None), {CONF: b'export DO_NOT_TRACK=1\nif [ -n "$DO_NOT_TRACK" ]; then\n'
                                                    b'  echo "$DISABLE_TELEMETRY" >/dev/null\nfi\n'}),
    case('read-after-and', ('1', None), {CONF: b'export DO_NOT_TRACK=1\n[ -n "$DO_NOT_TRACK" ] && : "${DO_NOT_TRACK}"\n'}),
    case('assign-expansion', (None, None), {CONF: b': "${DO_NOT_TRACK:=1}"\n'}),
    case('assign-expansion-then-export', ('1', None), {CONF: b': "${DO_NOT_TRACK:=1}"\nexport DO_NOT_TRACK\n'}),
    case('assign-expansion-keeps-a-value', ('0', '2'), {CONF: b'DO_NOT_TRACK=0\n: ${DO_NOT_TRACK:=1} ${DISABLE_TELEMETRY=2}\n'
                                                              b'export DO_NOT_TRACK DISABLE_TELEMETRY\n'}),
    case('assign-expansion-of-empty', ('1', ''), {CONF: b'export DO_NOT_TRACK= DISABLE_TELEMETRY=\n'
                                                        b': "${DO_NOT_TRACK:=1}"\n: "${DISABLE_TELEMETRY=2}"\n'}),
    case('prefix-assignment', (None, '2'), {CONF: b'DO_NOT_TRACK=1 export DISABLE_TELEMETRY=2\n'}, reader=UNKNOWN),
    case('function-body', ('1', None), {CONF: b'export DISABLE_TELEMETRY=1\n'},
         init_extra=b'start_post() {\n    :\n}\nexport DO_NOT_TRACK=1\nunset DISABLE_TELEMETRY\n'),
    case('sourced-file', ('1', None), {CONF: b'. /etc/netdata-extra.sh\n', '/etc/netdata-extra.sh': b'export DO_NOT_TRACK=1\n'}),
    case('sourced-if-exists', ('1', None), {CONF: b'[ -f /etc/netdata-extra.sh ] && . /etc/netdata-extra.sh\n',
                                            '/etc/netdata-extra.sh': b'export DO_NOT_TRACK=1\n'}),
    # --- the role's managed block (plan_openrc_conf) after a user's own lines
    case('managed-optout-block', ('1', '1'), {CONF: b'NETDATA_OWNER="netdata:netdata"\nexport DO_NOT_TRACK=0\n'
                                              b'# BEGIN Managed by netdata_fleet.telemetry (role optout): Netdata telemetry opt-out\n'
                                              b'export DO_NOT_TRACK=1\nexport DISABLE_TELEMETRY=1\n'
                                              b'# END Managed by netdata_fleet.telemetry\n'}),
    case('managed-optin-block', (None, None), {'/etc/rc.conf': b'export DISABLE_TELEMETRY=1\n',
                                               '/etc/profile.env': b"DO_NOT_TRACK='1'\n",
                                               CONF: b'export DO_NOT_TRACK=1\n'
                                               b'# BEGIN Managed by netdata_fleet.telemetry (role optout): Netdata telemetry opt-in\n'
                                               b'unset DO_NOT_TRACK DISABLE_TELEMETRY\n'
                                               b'# END Managed by netdata_fleet.telemetry\n'}),
]


def materialize(one, root):
    """The case's files under *root*, as the reader finds them on a host OpenRC runs."""
    files = dict(one['files'])
    files['/etc/init.d/netdata'] = one['init_script']
    files['/run/openrc/softlevel'] = one['runlevel'].encode() + b'\n'
    for path, data in files.items():
        target = os.path.join(str(root), path.lstrip('/'))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, 'wb') as handle:
            handle.write(data)
    return str(root)


def reader_view(tmp_path, one):
    return openrc_start(materialize(one, tmp_path / one['id']))['environment']


def reader_expect(one):
    return None if one['reader'] == UNKNOWN else one['expect']


@pytest.mark.parametrize('one', CASES, ids=[c['id'] for c in CASES])
def test_reader_matches_table(tmp_path, one):
    assert reader_view(tmp_path, one) == reader_expect(one)


def test_table_ids_are_unique():
    ids = [c['id'] for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.fixture(scope='module')
def judged(tmp_path_factory):
    why = openrc_judge.unavailable()
    if why:
        pytest.skip('real OpenRC not usable here: %s' % why)
    work = tmp_path_factory.mktemp('openrc-judge')
    results = {}
    for one in CASES:
        environment, output = openrc_judge.run_case(one, work)
        if environment is None:
            pytest.fail('OpenRC did not start case %s: %s' % (one['id'], output[-800:]))
        results[one['id']] = dict((name, environment.get(name)) for name in one['expect'])
    return results


@pytest.mark.parametrize('one', CASES, ids=[c['id'] for c in CASES])
def test_real_openrc(judged, tmp_path, one):
    real = judged[one['id']]
    assert real == one['expect'], 'OpenRC no longer does what the table says'
    if one['reader'] != UNKNOWN:
        assert reader_view(tmp_path, one) == real
