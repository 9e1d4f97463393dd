# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netdata_fleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory as CSV: one row per host, columns in a fixed order.

The column order is part of the collection's interface (spreadsheets and scripts index
columns): append new columns at the end, never reorder or rename.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_records import (
    CHANNELS,
)

# Several installs on one host: their values joined with this, in discovery order.
JOIN = ';'

COLUMNS = (
    'hostname', 'address', 'reachable', 'status', 'state', 'opted_out', 'opted_in', 'drift',
) + CHANNELS + (
    'install_count', 'netdata_versions', 'install_kinds', 'install_types', 'config_dirs',
    'machine_guids', 'claimed', 'daemon_running',
    'os', 'os_version', 'host_os_name', 'host_os_id', 'host_os_version_id',
    'container_os_name', 'container_os_id', 'container_os_version_id',
    'virtualization', 'container', 'kernel_name', 'kernel_version', 'architecture',
    'cpu_vendor', 'cpu_model', 'cpu_count', 'cpu_freq_hz', 'ram_bytes', 'disk_bytes',
    'cloud_type', 'cloud_instance_type', 'cloud_region',
    'error', 'reasons',
)

# A cell starting with one of these is a formula to Excel and LibreOffice; host-supplied
# text (an os-release NAME, a CPU model) must not become one. Leading blanks do not save
# a cell (LibreOffice can trim them on import), and the full-width forms count in some
# locales.
_FORMULA_START = ('=', '+', '-', '@', '\t', '\r', '\uff1d', '\uff0b', '\uff0d', '\uff20')
# After a line break inside a cell a reader that splits rows on any CR or LF (not all
# honour quotes) starts a new row there: the text after the break is a cell start too.
_AFTER_BREAK = re.compile(r'([\r\n])([ \t]*)(?=[-=+@\uff1d\uff0b\uff0d\uff20])')
# RFC 4180: a cell holding one of these is quoted. Python's csv module does not quote a
# bare CR when the line terminator is LF, and a spreadsheet then splits the row there.
_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def _neutralised(text):
    if text.lstrip(' ').startswith(_FORMULA_START):
        text = "'" + text
    return _AFTER_BREAK.sub(r"\1\2'", text)


def _cell(value):
    kind = type(value)
    if kind is str:
        return _neutralised(value)
    if value is None:
        return ''
    if kind is bool:
        return 'true' if value else 'false'
    if kind in (int, float):
        return str(value)
    return _cell(str(value))


def _csv_line(cells):
    return ','.join('"%s"' % c.replace('"', '""') if _NEEDS_QUOTES.search(c) else c for c in cells) + '\n'


def _joined(values):
    return JOIN.join('' if v is None else ('true' if v is True else 'false' if v is False else str(v))
                     for v in values)


def row(record):
    """The CSV cells of one record, in ``COLUMNS`` order, as strings."""
    installs = record.get('installs') or []
    system = record.get('system') or {}
    info = (record.get('netdata') or {}).get('system_info') or {}
    values = {
        'hostname': record.get('hostname'),
        'address': record.get('address'),
        'reachable': record.get('reachable'),
        'status': record.get('status'),
        'state': record.get('state'),
        'opted_out': record.get('opted_out'),
        'opted_in': record.get('opted_in'),
        'drift': record.get('drift'),
        'install_count': len(installs) if record.get('netdata') is not None else None,
        'netdata_versions': _joined(i.get('version') for i in installs),
        'install_kinds': _joined(i.get('kind') for i in installs),
        'install_types': _joined(i.get('install_type') for i in installs),
        'config_dirs': _joined(i.get('config_dir') for i in installs),
        'machine_guids': _joined(i.get('machine_guid') for i in installs),
        'claimed': _joined(i.get('claimed') for i in installs),
        'daemon_running': _joined(i.get('running') for i in installs),
        'error': record.get('error'),
        'reasons': '\n'.join(record.get('reasons') or ()),
    }
    for name in CHANNELS:
        values[name] = (record.get('channels') or {}).get(name) if record.get('netdata') is not None else None
    if record.get('netdata') is not None:
        values.update({
            'os': system.get('os'), 'os_version': system.get('os_version'),
            'host_os_name': info.get('host_os_name'), 'host_os_id': info.get('host_os_id'),
            'host_os_version_id': info.get('host_os_version_id'),
            'container_os_name': info.get('container_os_name'),
            'container_os_id': info.get('container_os_id'),
            'container_os_version_id': info.get('container_os_version_id'),
            'virtualization': info.get('system_virtualization'),
            'container': info.get('system_container'),
            'kernel_name': info.get('system_kernel_name'),
            'kernel_version': info.get('system_kernel_version'),
            'architecture': info.get('system_architecture'),
            'cpu_vendor': info.get('system_cpu_vendor'), 'cpu_model': info.get('system_cpu_model'),
            'cpu_count': info.get('system_cpu_logical_cpu_count'),
            'cpu_freq_hz': info.get('system_cpu_freq'),
            'ram_bytes': info.get('system_total_ram'),
            'disk_bytes': info.get('system_total_disk_size'),
            'cloud_type': info.get('instance_cloud_type'),
            'cloud_instance_type': info.get('instance_cloud_instance_type'),
            'cloud_region': info.get('instance_cloud_instance_region'),
        })
    return [_cell(values.get(column)) for column in COLUMNS]


def render_csv(records):
    """CSV text: a header row of ``COLUMNS`` then one row per record.

    RFC 4180 quoting (a cell with a comma, quote, CR or LF is quoted, quotes doubled),
    ``\\n`` line ends between rows; line breaks inside a quoted cell are kept as they are.
    """
    return _csv_line(COLUMNS) + ''.join(_csv_line(row(record)) for record in records)
