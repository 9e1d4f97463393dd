# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Feed arguments to a module's ``main()`` in a unit test, on every supported ansible-core.

ansible-core 2.19 has ``ansible.module_utils.testing.patch_module_args`` (the old trick of
setting ``basic._ANSIBLE_ARGS`` alone fails there with "No serialization profile");
2.17 and 2.18 do not have it, and the old trick is the way. Use::

    from ansible_collections.netdata_fleet.telemetry.tests.unit.module_args import patch_module_args

    with patch_module_args({'opt': 1}):
        module.main()
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

__all__ = ['patch_module_args']

try:  # ansible-core >= 2.19
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    import contextlib
    import json

    from unittest import mock

    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args=None):
        """Expose ``args`` to the ``AnsibleModule`` instances created within this context."""
        if not isinstance(args, (dict, type(None))):
            raise TypeError('The `args` arg must be a dict or None.')
        serialized = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args or {}}))
        with mock.patch.object(basic, '_ANSIBLE_ARGS', serialized):
            yield
