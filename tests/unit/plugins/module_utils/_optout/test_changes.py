# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_optout: planning, applying, restart decisions and verify over a fixture tree."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

import pytest


from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._optout import apply as optout_apply  # noqa: E402
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._optout import plan as optout_plan  # noqa: E402
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._optout import restart as optout_restart  # noqa: E402
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._optout import verify as optout_verify  # noqa: E402

DROPIN = '/etc/systemd/system/netdata.service.d/zz-netdata-fleet-telemetry.conf'
OPTOUT = '/etc/netdata/.opt-out-from-anonymous-statistics'
CONF = '/etc/netdata/netdata.conf'


class FakeEditor(object):
    """Stands in for netdata_conf_edit (its own tests cover the byte-level editing)."""
    LINE = b'[global]\n    crash reports = off\n'

    @staticmethod
    def ensure_crash_reports(content):
        if content is not None and b'crash reports = off' in content:
            return content, False, None
        return (content or b'') + FakeEditor.LINE, True, None

    @staticmethod
    def remove_managed_crash_reports(content):
        if content is None or FakeEditor.LINE not in content:
            return content, False, None
        return content.replace(FakeEditor.LINE, b''), True, None


@pytest.fixture(autouse=True)
def fake_editor(monkeypatch):
    monkeypatch.setattr(optout_plan, 'netdata_conf_edit', FakeEditor)


def settings(**kw):
    base = {
        'opt_out': True, 'service_name': 'netdata', 'dropin_name': 'zz-netdata-fleet-telemetry.conf',
        'dropin_content': None, 'dropin_neutral_content': None, 'manage_crash_reports': True,
        'installer_env': False, 'profile_path': None, 'profile_content': None,
        'container_env_files': [],
    }
    base.update(kw)
    return base


def install(config_dir='/etc/netdata', running=False, version='1.37.1', drift=False, **kw):
    d = {'config_dir': config_dir, 'version': version,
         'optout_file': {'path': config_dir + '/.opt-out-from-anonymous-statistics'},
         'netdata_conf': {'path': config_dir + '/netdata.conf'},
         'daemon': {'running': running}, 'telemetry': {'drift': drift}}
    d.update(kw)
    return d


@pytest.fixture
def root(tmp_path):
    for d in ('etc/netdata', 'etc/systemd/system', 'etc/profile.d', 'lib/systemd/system'):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / 'lib/systemd/system/netdata.service').write_text(
        '[Unit]\nDescription=netdata\n[Service]\nExecStart=/usr/sbin/netdata -D\n')
    return tmp_path


def p(root, path):
    return root / path.lstrip('/')


def run(root, installs, **kw):
    changes, notes, errors = optout_plan.plan_changes(installs, settings(**kw), str(root))
    assert errors == []
    assert optout_apply.apply_changes(changes, str(root)) == []
    return changes, notes


# ---------------------------------------------------------------- env lines

@pytest.mark.parametrize('before,after', [
    (None, b'DO_NOT_TRACK=1\nDISABLE_TELEMETRY=1\n'),
    (b'', b'DO_NOT_TRACK=1\nDISABLE_TELEMETRY=1\n'),
    (b'A=b', b'A=b\nDO_NOT_TRACK=1\nDISABLE_TELEMETRY=1\n'),
    (b'A=b\r\nDO_NOT_TRACK=0\r\n', b'A=b\r\nDO_NOT_TRACK=1\r\nDISABLE_TELEMETRY=1\r\n'),
    (b'DO_NOT_TRACK=\nX=1\nDO_NOT_TRACK=yes\n', b'DO_NOT_TRACK=1\nX=1\nDISABLE_TELEMETRY=1\n'),
    (b'export DISABLE_TELEMETRY=0\n# c\n', b'export DISABLE_TELEMETRY=1\n# c\nDO_NOT_TRACK=1\n'),
])
def test_edit_env_lines_ensure(before, after):
    assert optout_plan.edit_env_lines(before, {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': '1'}) == after


def test_edit_env_lines_idempotent_and_remove():
    once = optout_plan.edit_env_lines(b'# keep\nA=1\n', {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': '1'})
    assert optout_plan.edit_env_lines(once, {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': '1'}) == once
    assert optout_plan.edit_env_lines(once, {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': '1'}, remove=True) == b'# keep\nA=1\n'
    assert optout_plan.edit_env_lines(None, {'X': '1'}, remove=True) is None
    # DO_NOT_TRACK_EXTRA is another name, left alone
    assert optout_plan.edit_env_lines(b'DO_NOT_TRACK_EXTRA=0\n', {'DO_NOT_TRACK': '1'}) == b'DO_NOT_TRACK_EXTRA=0\nDO_NOT_TRACK=1\n'


# ---------------------------------------------------------------- opt-out

def test_optout_writes_file_dropin_conf_and_is_idempotent(root):
    changes, _notes = run(root, [install()])
    assert sorted(c['purpose'] for c in changes) == ['dropin', 'netdata_conf', 'optout_file']
    f = p(root, OPTOUT)
    assert f.read_bytes() == b'' and stat.S_IMODE(f.stat().st_mode) == 0o644 and f.stat().st_uid == 0
    dropin = p(root, DROPIN).read_text()
    assert '[Service]' in dropin
    assert 'Environment=DO_NOT_TRACK=1' in dropin and 'Environment=DISABLE_TELEMETRY=1' in dropin
    assert stat.S_IMODE(p(root, os.path.dirname(DROPIN)).stat().st_mode) == 0o755
    assert b'crash reports = off' in p(root, CONF).read_bytes()
    again, _n, errors = optout_plan.plan_changes([install()], settings(), str(root))
    assert again == [] and errors == []


def test_optout_uses_given_dropin_content(root):
    run(root, [install()], dropin_content='[Service]\nEnvironment=DO_NOT_TRACK=1\n')
    assert p(root, DROPIN).read_text() == '[Service]\nEnvironment=DO_NOT_TRACK=1\n'


def test_existing_readable_optout_file_kept_as_is(root):
    f = p(root, OPTOUT)
    f.write_bytes(b'debian')
    os.chmod(str(f), 0o664)
    os.chown(str(f), 0, 5)
    changes, _restart = run(root, [install()])
    assert 'optout_file' not in [c['purpose'] for c in changes]
    assert f.read_bytes() == b'debian' and stat.S_IMODE(f.stat().st_mode) == 0o664


@pytest.mark.parametrize('mode', [0o600, 0o640, 0o000, 0o604])
def test_optout_file_the_agent_cannot_read_is_made_0644(root, mode):
    """The daemon checks access(R_OK) as its run-as user: a root-only file is no opt-out."""
    f = p(root, OPTOUT)
    f.write_bytes(b'kept')
    os.chmod(str(f), mode)
    os.chown(str(f), 0, 5)
    changes, notes, errors = optout_plan.plan_changes([install()], settings(), str(root))
    fix = [c for c in changes if c['purpose'] == 'optout_file']
    assert errors == [] and len(fix) == 1 and optout_apply.describe(fix[0]) == 'update'
    assert optout_apply.change_diff(fix[0]) == {
        'before_header': OPTOUT + ' (mode %04o)' % mode, 'after_header': OPTOUT + ' (mode 0644)',
        'before': 'kept', 'after': 'kept'}
    assert any('mode %04o -> 0644' % mode in n for n in notes)
    assert optout_apply.apply_changes(changes, str(root), check_mode=True) == []
    assert stat.S_IMODE(f.stat().st_mode) == mode  # check mode wrote nothing
    assert optout_apply.apply_changes(changes, str(root)) == []
    st = f.stat()
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, f.read_bytes()) == (0o644, 0, 5, b'kept')
    again, _n, errors = optout_plan.plan_changes([install()], settings(), str(root))
    assert again == [] and errors == []


def test_optout_file_in_directories_config_and_compiled_dir(root):
    """[directories] config moves the daemon's file, not the script's (below v2.6.0)."""
    (root / 'srv/nd-config').mkdir(parents=True)
    moved = '/srv/nd-config/.opt-out-from-anonymous-statistics'
    inst = install(optout_file={'path': moved, 'script': {'path': OPTOUT}})
    changes, _notes = run(root, [inst])
    assert sorted(c['path'] for c in changes if c['purpose'] == 'optout_file') == sorted([moved, OPTOUT])
    assert p(root, moved).exists() and p(root, OPTOUT).exists()
    # v2.6.0 and later never run the script: only the daemon's file.
    changes, _notes, _e = optout_plan.plan_changes([install(version='2.10.4', optout_file={'path': moved, 'script': {'path': OPTOUT}})],
                                                   settings(opt_out=False), str(root))
    assert [c['path'] for c in changes if c['purpose'] == 'optout_file'] == [moved]
    changes, _notes = run(root, [inst], opt_out=False)
    assert not p(root, moved).exists() and not p(root, OPTOUT).exists()


def test_crash_reports_written_to_the_netdata_conf_the_daemon_reads(root):
    (root / 'srv/nd').mkdir(parents=True)
    p(root, '/srv/nd/netdata.conf').write_bytes(b'[global]\n')
    changes, _notes = run(root, [install(netdata_conf={'path': '/srv/nd/netdata.conf'})])
    assert [c['path'] for c in changes if c['purpose'] == 'netdata_conf'] == ['/srv/nd/netdata.conf']
    assert b'crash reports = off' in p(root, '/srv/nd/netdata.conf').read_bytes()
    assert not p(root, CONF).exists()


def test_missing_dir_of_the_netdata_conf_the_daemon_reads_fails(root):
    changes, _notes, errors = optout_plan.plan_changes([install(netdata_conf={'path': '/srv/none/netdata.conf'})],
                                                       settings(), str(root))
    assert errors == ['/etc/netdata: directory /srv/none does not exist']


def test_unreachable_optout_file_with_a_fine_mode_is_noted(root):
    f = p(root, OPTOUT)
    f.write_bytes(b'')
    os.chmod(str(f), 0o644)
    why = 'user netdata cannot search /etc/netdata (mode 0700, owner 0:0)'
    inst = install(optout_file={'path': OPTOUT, 'exists': True, 'readable_by_agent': False, 'reason': why})
    changes, notes, errors = optout_plan.plan_changes([inst], settings(), str(root))
    assert 'optout_file' not in [c['purpose'] for c in changes]
    assert '%s: %s; the daemon does not count it' % (OPTOUT, why) in notes


def test_conf_keeps_mode_and_owner(root):
    c = p(root, CONF)
    c.write_bytes(b'[web]\n  default port = 19999\n')
    os.chmod(str(c), 0o640)
    os.chown(str(c), 0, 5)
    run(root, [install()])
    st = c.stat()
    assert stat.S_IMODE(st.st_mode) == 0o640 and st.st_gid == 5
    assert c.read_bytes().startswith(b'[web]\n  default port = 19999\n')


def test_no_installs_no_dropin(root):
    changes, _n, errors = optout_plan.plan_changes([], settings(), str(root))
    assert changes == [] and errors == []


def test_no_systemd_dir_skips_dropin_with_note(root):
    (root / 'etc/systemd/system').rmdir()
    changes, notes, errors = optout_plan.plan_changes([install()], settings(), str(root))
    assert errors == [] and 'dropin' not in [c['purpose'] for c in changes]
    assert any('no systemd' in n for n in notes)


def test_planted_symlink_at_dropin_refused_before_anything_is_written(root):
    victim = root / 'victim'
    victim.write_text('precious')
    d = p(root, os.path.dirname(DROPIN))
    d.mkdir()
    os.symlink(str(victim), str(p(root, DROPIN)))
    changes, _n, errors = optout_plan.plan_changes([install()], settings(), str(root))
    assert errors and 'symlink' in errors[0]
    assert victim.read_text() == 'precious'


def test_symlinked_dropin_dir_refused(root):
    elsewhere = root / 'elsewhere'
    elsewhere.mkdir()
    os.symlink(str(elsewhere), str(p(root, os.path.dirname(DROPIN))))
    _c, _n, errors = optout_plan.plan_changes([install()], settings(), str(root))
    assert errors and 'not a directory' in errors[0]
    assert os.listdir(str(elsewhere)) == []


def test_symlink_at_netdata_conf_refused(root):
    victim = root / 'victim'
    victim.write_text('[global]\n')
    os.symlink(str(victim), str(p(root, CONF)))
    _c, _n, errors = optout_plan.plan_changes([install()], settings(), str(root))
    assert errors and 'netdata.conf' in errors[0] and 'symlink' in errors[0]
    assert victim.read_text() == '[global]\n'


def test_missing_config_dir_is_a_plan_error(root):
    _c, _n, errors = optout_plan.plan_changes([install('/opt/netdata/etc/netdata')], settings(), str(root))
    assert errors == ['/opt/netdata/etc/netdata: config dir /opt/netdata/etc/netdata does not exist']


def test_read_only_config_dir_is_a_plan_error(root, monkeypatch):
    real_access = os.access

    def access(path, mode):
        if str(path).endswith('/etc/netdata') and mode == os.W_OK:
            return False
        return real_access(path, mode)
    monkeypatch.setattr(os, 'access', access)
    _c, _n, errors = optout_plan.plan_changes([install()], settings(), str(root))
    assert errors and 'config dir /etc/netdata is' in errors[0]


def test_write_failure_is_reported_not_raised(root, monkeypatch):
    changes, _n, _e = optout_plan.plan_changes([install()], settings(), str(root))

    def erofs(*_a, **_k):
        raise OSError(30, 'Read-only file system')
    monkeypatch.setattr(optout_plan.safe_files, 'write_file', erofs)
    failures = optout_apply.apply_changes(changes, str(root))
    assert failures and all('read-only file system' in f['error'] for f in failures)


def test_check_mode_writes_nothing(root):
    changes, _n, _e = optout_plan.plan_changes([install()], settings(), str(root))
    before = sorted(str(x) for x in root.rglob('*'))
    assert optout_apply.apply_changes(changes, str(root), check_mode=True) == []
    assert sorted(str(x) for x in root.rglob('*')) == before


def test_diff_shape(root):
    changes, _n, _e = optout_plan.plan_changes([install()], settings(), str(root))
    diffs = [optout_apply.change_diff(c) for c in changes]
    d = [x for x in diffs if x['after_header'] == DROPIN][0]
    assert d['before'] == '' and 'DO_NOT_TRACK=1' in d['after'] and d['before_header'].endswith('(absent)')


# ---------------------------------------------------------------- opt-in

def test_optin_removes_what_optout_wrote(root):
    run(root, [install()])
    changes, notes = run(root, [install()], opt_out=False)
    assert sorted(c['purpose'] for c in changes) == ['dropin', 'netdata_conf', 'optout_file']
    assert not p(root, OPTOUT).exists() and not p(root, DROPIN).exists()
    assert b'crash reports' not in p(root, CONF).read_bytes()
    assert optout_plan.plan_changes([install()], settings(opt_out=False), str(root))[0] == []


def test_optin_neutralises_other_dropin_and_keeps_it(root):
    other = p(root, '/etc/systemd/system/netdata.service.d/10-user.conf')
    other.parent.mkdir()
    other.write_text('[Service]\nEnvironment=DO_NOT_TRACK=1\n')
    changes, notes = run(root, [install()], opt_out=False)
    text = p(root, DROPIN).read_text()
    assert 'Environment=DO_NOT_TRACK=\n' in text and 'UnsetEnvironment=DO_NOT_TRACK DISABLE_TELEMETRY' in text
    assert other.read_text() == '[Service]\nEnvironment=DO_NOT_TRACK=1\n'
    assert any('neutralised' in n for n in notes)
    # second run: nothing (the managed drop-in is left out when judging "set elsewhere")
    assert optout_plan.plan_changes([install()], settings(opt_out=False), str(root))[0] == []
    # the user removes their drop-in: the neutraliser is no longer needed and goes
    other.unlink()
    changes, _restart = run(root, [install()], opt_out=False)
    assert [c['purpose'] for c in changes] == ['dropin'] and not p(root, DROPIN).exists()


def test_optin_neutralises_variable_from_unit_itself(root):
    (root / 'lib/systemd/system/netdata.service').write_text(
        '[Service]\nEnvironment=DISABLE_TELEMETRY=1\nExecStart=/usr/sbin/netdata -D\n')
    run(root, [install()], opt_out=False)
    assert p(root, DROPIN).exists()


def test_optin_ignores_empty_value_elsewhere(root):
    other = p(root, '/etc/systemd/system/netdata.service.d/10-user.conf')
    other.parent.mkdir()
    other.write_text('[Service]\nEnvironment=DO_NOT_TRACK=\n')
    changes, _restart = run(root, [install()], opt_out=False)
    assert changes == [] and not p(root, DROPIN).exists()


def test_environment_without_dropin(root):
    d = p(root, os.path.dirname(DROPIN))
    d.mkdir()
    (d / '10-a.conf').write_text('[Service]\nEnvironment=DO_NOT_TRACK=0\n')
    p(root, DROPIN).write_text('[Service]\nEnvironment=DO_NOT_TRACK=1\n')
    env = optout_plan.environment_without_dropin(str(root), 'netdata.service', DROPIN)
    assert env == {'DO_NOT_TRACK': '0', 'DISABLE_TELEMETRY': None}


def test_optin_removes_symlinked_optout_file_without_touching_target(root):
    target = root / 'target'
    target.write_text('x')
    os.symlink(str(target), str(p(root, OPTOUT)))
    run(root, [install()], opt_out=False)
    assert not os.path.lexists(str(p(root, OPTOUT))) and target.read_text() == 'x'


# ---------------------------------------------------------------- installer env / containers

def test_installer_env_optout_then_optin(root):
    env = p(root, '/etc/environment')
    env.write_text('PATH="/usr/bin"\n')
    run(root, [], installer_env=True)
    prof = p(root, optout_plan.PROFILE_PATH)
    assert 'export DO_NOT_TRACK=1' in prof.read_text() and stat.S_IMODE(prof.stat().st_mode) == 0o644
    assert env.read_text() == 'PATH="/usr/bin"\nDO_NOT_TRACK=1\nDISABLE_TELEMETRY=1\n'
    assert optout_plan.plan_changes([], settings(installer_env=True), str(root))[0] == []
    run(root, [], installer_env=True, opt_out=False)
    assert not prof.exists() and env.read_text() == 'PATH="/usr/bin"\n'


def test_installer_env_optin_leaves_foreign_profile_and_values(root):
    prof = p(root, optout_plan.PROFILE_PATH)
    prof.write_text('export DO_NOT_TRACK=1\n')
    env = p(root, '/etc/environment')
    env.write_text('DO_NOT_TRACK=yes\n')
    changes, notes = run(root, [], installer_env=True, opt_out=False)
    assert changes == [] and prof.exists() and env.read_text() == 'DO_NOT_TRACK=yes\n'
    assert any('not managed' in n for n in notes)


def test_installer_env_off_touches_nothing(root):
    assert optout_plan.plan_changes([], settings(), str(root))[0] == []


def test_container_env_files(root):
    f = root / 'srv.env'
    f.write_text('NETDATA_CLAIM_TOKEN=abc\nDO_NOT_TRACK=0\n')
    created = root / 'new.env'
    run(root, [], container_env_files=['/srv.env', '/new.env'])
    assert f.read_text() == 'NETDATA_CLAIM_TOKEN=abc\nDO_NOT_TRACK=1\nDISABLE_TELEMETRY=1\n'
    assert created.read_text() == 'DO_NOT_TRACK=1\nDISABLE_TELEMETRY=1\n'
    _c, notes = run(root, [], container_env_files=['/srv.env'], opt_out=False)
    assert f.read_text() == 'NETDATA_CLAIM_TOKEN=abc\n'
    assert any('recreate the container' in n for n in notes)


def test_container_env_relative_path_is_error(root):
    _c, _n, errors = optout_plan.plan_changes([], settings(container_env_files=['rel.env']), str(root))
    assert errors and 'absolute' in errors[0]


# ---------------------------------------------------------------- restarts

def _changes(*purposes, **kw):
    return [{'purpose': x, 'install': kw.get('install', '/etc/netdata')} for x in purposes]


def running_channels(**states):
    """A telemetry verdict whose channels run as given (True on, False off, None unknown)."""
    return {'drift': False, 'channels': dict(
        (name, {'applies': True, 'running': state}) for name, state in states.items())}


SENDING = running_channels(statistics_script=True, daemon_analytics=True)
QUIET = running_channels(statistics_script=False, daemon_analytics=False)


@pytest.mark.parametrize('version,purposes,expect', [
    ('1.37.1', ['optout_file'], True),        # analytics flag decided once at start before v2.3
    (None, ['optout_file'], True),            # unknown version: assume it reads it at start
    ('2.3.0', ['optout_file'], False),        # v2.3-v2.5 re-check the file before each event
    ('2.5.0', ['optout_file'], False),
    ('2.6.0', ['optout_file'], True),         # from v2.6 the file is read only at start again
    ('2.10.4', ['optout_file'], True),
    ('2.3.0', ['dropin'], True),              # environment only at start
    ('2.6.0', ['netdata_conf'], True),        # crash reports read at start (status-file.c)
    ('1.37.1', [], False),
])
def test_restart_rules(version, purposes, expect):
    decisions = optout_restart.restart_decisions([install(running=True, version=version, telemetry=SENDING)],
                                                 _changes(*purposes), opt_out=True)
    assert bool(decisions) is expect


@pytest.mark.parametrize('telemetry, opt_out, expect', [
    (QUIET, True, False),      # already off on every channel: the opt-out changes nothing it does
    (SENDING, True, True),
    (running_channels(statistics_script=False, daemon_analytics=None), True, True),  # unknown
    (QUIET, False, True),      # opt-in: it must start sending again
    (SENDING, False, False),
    ({'drift': False}, True, True),  # no channel verdicts: cannot tell, restart
])
def test_restart_only_when_a_running_channel_needs_it(telemetry, opt_out, expect):
    decisions = optout_restart.restart_decisions([install(running=True, telemetry=telemetry)],
                                                 _changes('dropin', 'netdata_conf'), opt_out=opt_out)
    assert bool(decisions) is expect


def test_installer_channel_never_asks_for_a_restart():
    telemetry = running_channels(statistics_script=False, daemon_analytics=False, installer=True)
    assert optout_restart.restart_decisions([install(running=True, telemetry=telemetry)], _changes('dropin'),
                                            opt_out=True) == {}


def test_no_restart_when_not_running():
    assert optout_restart.restart_decisions([install(running=False)], _changes('dropin', 'netdata_conf'), opt_out=True) == {}


def test_restart_for_left_over_drift():
    decisions = optout_restart.restart_decisions([install(running=True, drift=True)], [], opt_out=True)
    assert 'drift' in decisions['/etc/netdata'][0]


def test_restart_only_for_the_install_whose_conf_changed():
    installs = [install(running=True, version='2.4.0', telemetry=SENDING),
                install('/opt/netdata/etc/netdata', running=True, version='2.4.0', telemetry=SENDING)]
    decisions = optout_restart.restart_decisions(installs, _changes('netdata_conf', install='/opt/netdata/etc/netdata'),
                                                 opt_out=True)
    assert list(decisions) == ['/opt/netdata/etc/netdata']


# ---------------------------------------------------------------- the real editor, when present

def test_with_real_netdata_conf_edit(root, monkeypatch):
    try:
        from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._optout import conf_edit as netdata_conf_edit
    except ImportError:
        pytest.skip('netdata_conf_edit not there yet')
    monkeypatch.setattr(optout_plan, 'netdata_conf_edit', netdata_conf_edit)
    c = p(root, CONF)
    hostile = (b'# mine\r\n[global]\r\n\trun as user = netdata\r\n[web]\r\n  crash reports = off\r\n'
               b'[global]\r\n  history = 3600\r\n')
    c.write_bytes(hostile)
    run(root, [install()])
    out = c.read_bytes()
    for line in hostile.splitlines():
        assert line in out.splitlines()
    assert optout_plan.plan_changes([install()], settings(), str(root))[0] == []
    run(root, [install()], opt_out=False)
    assert c.read_bytes() == hostile


def test_symlinked_config_dir_is_used(root):
    real = root / 'srv-netdata'
    real.mkdir()
    os.symlink(str(real), str(root / 'opt-etc-netdata'))
    inst = install('/opt-etc-netdata')
    run(root, [inst])
    assert (real / '.opt-out-from-anonymous-statistics').exists()
    assert b'crash reports = off' in (real / 'netdata.conf').read_bytes()


# ---------------------------------------------------------------- verify

def _facts(channels, installed=True, host=None):
    return {'installed': installed,
            'installs': [{'config_dir': '/etc/netdata', 'telemetry': {'channels': channels}}] if installed else [],
            'telemetry': host or {}}


def _ch(enabled, applies=True, counted=True, drift=False, reasons=None):
    return {'applies': applies, 'enabled': enabled, 'counted': counted, 'drift': drift,
            'reasons': reasons or ['why']}


def test_verify_optout():
    facts = _facts({'statistics_script': _ch(False), 'daemon_analytics': _ch(True, reasons=['on: live']),
                    'crash_reports': _ch(True, applies=False), 'installer': _ch(True, counted=False)})
    assert optout_verify.verify_problems(facts, True) == ['/etc/netdata daemon_analytics: on - on: live']


def test_verify_optin_counts_every_applicable_channel():
    facts = _facts({'statistics_script': _ch(True), 'daemon_analytics': _ch(None),
                    'installer': _ch(False, counted=False)})
    problems = optout_verify.verify_problems(facts, False)
    assert [p.split(' - ')[0] for p in problems] == ['/etc/netdata daemon_analytics: unknown',
                                                     '/etc/netdata installer: off']


def test_verify_drift_is_always_a_problem():
    facts = _facts({'daemon_analytics': _ch(False, drift=True)})
    assert 'drift' in optout_verify.verify_problems(facts, True)[0]


def test_verify_host_without_netdata():
    assert optout_verify.verify_problems(_facts({}, installed=False, host={'opted_out': True}), True) == []
    assert optout_verify.verify_problems(_facts({}, installed=False, host={'opted_out': False, 'reasons': ['installer on']}),
                                         True) == ['no Netdata install, but: installer on']
    assert optout_verify.verify_problems(_facts({}, installed=False), False) == []
    assert optout_verify.verify_problems({}, True) == ['no Netdata telemetry facts were gathered']


def test_binary_junk_conf_is_refused_clearly_with_real_editor(root, monkeypatch):
    try:
        from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._optout import conf_edit as netdata_conf_edit
    except ImportError:
        pytest.skip('netdata_conf_edit not there yet')
    monkeypatch.setattr(optout_plan, 'netdata_conf_edit', netdata_conf_edit)
    p(root, CONF).write_bytes(b'[global]\n\x00\xff junk\n')
    changes, _n, errors = optout_plan.plan_changes([install()], settings(), str(root))
    assert errors and errors[0].startswith('/etc/netdata: /etc/netdata/netdata.conf: refused')
    assert p(root, CONF).read_bytes() == b'[global]\n\x00\xff junk\n'


@pytest.mark.parametrize('version,telemetry,restart', [
    ('1.37.1', running_channels(statistics_script=True, daemon_analytics=True), True),
    # v2 checks the file as root before dropping privileges: a root-only file already
    # turned it off, so fixing the mode changes nothing it does.
    ('2.10.4', running_channels(daemon_analytics=False, crash_reports=False), False),
])
def test_mode_fix_restarts_a_daemon_that_read_the_file_at_start(root, version, telemetry, restart):
    f = p(root, OPTOUT)
    f.write_bytes(b'')
    os.chmod(str(f), 0o600)
    inst = install(running=True, version=version, telemetry=telemetry)
    changes, _notes, _errors = optout_plan.plan_changes([inst], settings(manage_crash_reports=False), str(root))
    reasons = optout_restart.restart_decisions([inst], [c for c in changes if c['purpose'] == 'optout_file'],
                                               opt_out=True)
    assert ('/etc/netdata' in reasons) is restart
