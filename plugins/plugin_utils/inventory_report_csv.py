# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory as CSV: one row per host, columns in a fixed order.

The column order is part of the collection's interface (spreadsheets and scripts index
columns): append new columns at the end, never reorder or rename.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import time

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
    # when the facts were gathered (UTC, ISO 8601) and their age when the report was made
    'collected_at', 'facts_age_s',
    # agents in containers (installs of kind container): how many, then per install (joined
    # like the install columns above, empty for an install not in a container) its verdict
    # and its container's runtime, name, image, id, where its config dir lives, and whether
    # it is opted out only until the container is re-created
    'container_agent_count', 'install_states', 'container_runtimes', 'container_names',
    'container_images', 'container_ids', 'container_config_persistence',
    'container_opted_out_until_recreated',
)

# A cell starting with one of these is a formula to Excel and LibreOffice; host-supplied
# text (an os-release NAME, a CPU model) must not become one. Leading blanks do not save
# a cell (LibreOffice can trim them on import), and the full-width forms count in some
# locales.
_FORMULA_START = ('=', '+', '-', '@', '\t', '\r', '\uff1d', '\uff0b', '\uff0d', '\uff20')
# After a line break inside a cell a reader that splits rows on any CR or LF (not all
# honour quotes) starts a new row there: the text after the break is a cell start too.
_AFTER_BREAK = re.compile(r'([\r\n])([ \t]*)(?=[-=+@\uff1d\uff0b\uff0d\uff20])')
# The same after each ';' of any cell: ';' is the field separator of spreadsheets in
# locales whose decimal mark is the comma, and there it starts a cell (host-supplied text
# such as a CPU model or a container's name may hold one; installs' values are joined
# with it, see _joined).
_AFTER_JOIN = re.compile(r'(;[ \t]*)(?=[-=+@\t\uff1d\uff0b\uff0d\uff20])')
# RFC 4180: a cell holding one of these is quoted. Python's csv module does not quote a
# bare CR when the line terminator is LF, and a spreadsheet then splits the row there.
_NEEDS_QUOTES = re.compile(r'[,"\r\n]')
_BREAK_OR_QUOTE = re.compile(r'["\r\n]')
# What makes a run of cells need more than joining them: a quote or a line break anywhere,
# or a cell (the first, or one after a separator) that starts with a formula character,
# after blanks or not. Runs without any (nearly all) are written as they are. Three simple
# searches: the regex engine finds a class or a leading literal fast, an alternation
# starting with ^ it tries at every position.
_FORMULA_AT_START = re.compile(' *[=+\\-@\t\uff1d\uff0b\uff0d\uff20]')
_FORMULA_AFTER_SEPARATOR = re.compile(', *[=+\\-@\t\uff1d\uff0b\uff0d\uff20]')


def _guarded_start(text):
    """``text`` with a leading "'" when a spreadsheet would read it as a formula."""
    if text and (text[0] in _FORMULA_START or (text[0] == ' ' and text.lstrip(' ').startswith(_FORMULA_START))):
        return "'" + text
    return text


def _neutralised(text):
    # The cheap tests first: this runs for every text cell of a row that is not plain
    # (see _cells_text).
    text = _guarded_start(text)
    if '\n' in text or '\r' in text:
        text = _AFTER_BREAK.sub(r"\1\2'", text)
    if JOIN in text:
        text = _AFTER_JOIN.sub(r"\1'", text)
    return text


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


def _text(value):
    """The cell's text before any guard (see ``_cell``)."""
    if value is None:
        return ''
    if value is True:
        return 'true'
    if value is False:
        return 'false'
    return str(value)


def _quoted(cell):
    return '"%s"' % cell.replace('"', '""') if _NEEDS_QUOTES.search(cell) else cell


def _csv_line(cells):
    line = ','.join(cells)
    # One look at the joined line instead of one per cell: most rows need no quotes (no
    # comma but the separators, no quote, no line break).
    if line.count(',') == len(cells) - 1 and _BREAK_OR_QUOTE.search(line) is None:
        return line + '\n'
    return ','.join(_quoted(c) for c in cells) + '\n'


def _cells_text(values):
    """The values' cells, quoted where needed, joined with commas: exactly
    ``','.join(_quoted(_cell(v)) for v in values)``, which is what ``_csv_line`` makes
    of them (a cell that needs no quotes is the same quoted or not).

    Nearly every value has no comma, no quote, no line break and does not start like a
    formula: then every guard leaves it as it is. One look at the joined text tells
    (instead of calls per cell, 54 cells per host); any other run of values goes through
    the guards cell by cell."""
    texts = [v if isinstance(v, str) else _text(v) for v in values]
    line = ','.join(texts)
    if (line.count(',') == len(texts) - 1 and _BREAK_OR_QUOTE.search(line) is None
            and _FORMULA_AFTER_SEPARATOR.search(line) is None and _FORMULA_AT_START.match(line) is None
            and (JOIN not in line or _AFTER_JOIN.search(line) is None)):
        return line
    return ','.join([_quoted(_cell(value)) for value in values])


def _iso_utc(epoch):
    if not isinstance(epoch, int) or isinstance(epoch, bool):
        return None
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(epoch))


def _joined(values):
    # Guarded after each ';' like any cell (_neutralised), when the row is written.
    return JOIN.join([_text(v) for v in values])


# Per-install values joined in one cell each, in COLUMNS order.
_INSTALL_FIELDS = ('version', 'kind', 'install_type', 'config_dir', 'machine_guid', 'claimed', 'running')
# The same for the install columns after facts_age_s: the install's own, then its container's.
_LATE_INSTALL_FIELDS = ('state',)
_CONTAINER_FIELDS = ('runtime', 'name', 'image', 'id', 'config_persistence', 'opted_out_until_recreated')
# system_info keys of the environment columns, in COLUMNS order (after os, os_version).
_INFO_FIELDS = (
    'host_os_name', 'host_os_id', 'host_os_version_id', 'container_os_name', 'container_os_id',
    'container_os_version_id', 'system_virtualization', 'system_container', 'system_kernel_name',
    'system_kernel_version', 'system_architecture', 'system_cpu_vendor', 'system_cpu_model',
    'system_cpu_logical_cpu_count', 'system_cpu_freq', 'system_total_ram', 'system_total_disk_size',
    'instance_cloud_type', 'instance_cloud_instance_type', 'instance_cloud_instance_region',
)
_NO_FACTS_TAIL = (None,) * (2 + len(_INFO_FIELDS))
_NO_INSTALLS = [''] * len(_INSTALL_FIELDS)
_NO_CONTAINERS = [''] * (len(_LATE_INSTALL_FIELDS) + len(_CONTAINER_FIELDS))
_NO_FACTS_CONTAINERS = [None] * (1 + len(_LATE_INSTALL_FIELDS) + len(_CONTAINER_FIELDS))
_NO_CONTAINER = {}


def row_values(record):
    """The values of one record's CSV cells, in ``COLUMNS`` order (``_cell`` makes them text).

    Built as a flat list in column order (not a dict looked up per column): this runs once
    per host and is most of the CSV's time for a big fleet."""
    get = record.get
    netdata = get('netdata')
    installs = get('installs') or []
    if installs:
        joined = [_joined([i.get(field) for i in installs]) for field in _INSTALL_FIELDS]
        containers = [i.get('container') or _NO_CONTAINER for i in installs]
        agents = sum(1 for i in installs if i.get('container') is not None)
        late = ([_joined([i.get(field) for i in installs]) for field in _LATE_INSTALL_FIELDS]
                + ([_joined([c.get(field) for c in containers]) for field in _CONTAINER_FIELDS] if agents
                   else [JOIN * (len(installs) - 1)] * len(_CONTAINER_FIELDS)))
    else:
        joined, late, agents = _NO_INSTALLS, _NO_CONTAINERS, 0
    if netdata is not None:
        channels = get('channels') or {}
        system = get('system') or {}
        info = netdata.get('system_info') or {}
        channel_cells = [channels.get(name) for name in CHANNELS]
        tail = [system.get('os'), system.get('os_version')] + [info.get(key) for key in _INFO_FIELDS]
        install_count = len(installs)
        late = [agents] + late
    else:
        channel_cells = [None] * len(CHANNELS)
        tail = _NO_FACTS_TAIL
        install_count = None
        late = _NO_FACTS_CONTAINERS
    return ([get('hostname'), get('address'), get('reachable'), get('status'), get('state'),
             get('opted_out'), get('opted_in'), get('drift')]
            + channel_cells + [install_count] + joined + list(tail)
            + [get('error'), '\n'.join(get('reasons') or ()), _iso_utc(get('collected_at')), get('age')]
            + late)


def row(record):
    """The CSV cells of one record, in ``COLUMNS`` order, as strings."""
    return [_cell(value) for value in row_values(record)]


def render_csv(records):
    """CSV text: a header row of ``COLUMNS`` then one row per record.

    RFC 4180 quoting (a cell with a comma, quote, CR or LF is quoted, quotes doubled),
    ``\\n`` line ends between rows; line breaks inside a quoted cell are kept as they are.
    """
    return csv_header() + csv_rows(records)


def csv_header():
    return _csv_line(COLUMNS)


_REASONS = COLUMNS.index('reasons')


def _row_line(values):
    # The reasons cell (one reason per line) is quoted in most rows: guarded on its own so
    # that it does not send the rest of the row through the slow path.
    return '%s,%s,%s\n' % (_cells_text(values[:_REASONS]), _quoted(_cell(values[_REASONS])),
                           _cells_text(values[_REASONS + 1:]))


def csv_rows(records):
    """The records' rows, without the header (parts of a fleet rendered apart are joined);
    each row is exactly ``_csv_line(row(record))``."""
    return ''.join([_row_line(row_values(record)) for record in records])
