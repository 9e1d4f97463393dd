# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory report: one self-contained HTML page (inline CSS, SVG and a small sort
script; a Content-Security-Policy that allows nothing else).

Rendered with a plain jinja2 environment with autoescape on (not Ansible's templar: the
page's data is host-supplied and must never be treated as a template), from view data
built here, so the template only places values.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import datetime
import hashlib
import os
import re
import uuid

from html import escape as html_escape

from markupsafe import Markup

from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_records import (
    CHANNELS, CHANNEL_LABELS, CHANNEL_STATES, CONTAINER_CLASSES, CONTAINER_CLASS_LABELS, STATUSES,
    STATUS_LABELS, STORED_ONLY_STATUSES, container_class, summarize,
)
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils import inventory_report_svg as svg

TEMPLATE_NAME = 'inventory_report.html.j2'

STATUS_COLOURS = {
    'opted_out': '#2f9e5d',
    'opted_in': '#d64545',
    'partial': '#f08c1a',
    'drifting': '#8a56c7',
    'absent': '#9aa5b1',
    'stale': '#a67c00',
    'no_facts': '#b0417a',
    'unreachable': '#3e4852',
    'failed': '#a0522d',
}
CHANNEL_COLOURS = {'off': '#2f9e5d', 'on': '#d64545', 'unknown': '#f0b429', 'n/a': '#d3d9df'}
CONTAINER_COLOURS = {
    'opted_out': '#2f9e5d',
    'opted_out_until_recreated': '#c77c02',
    'opted_in': '#d64545',
    'partial': '#f08c1a',
    'unknown': '#9aa5b1',
}
CHANNEL_CSS = {'off': 'off', 'on': 'on', 'unknown': 'unknown', 'n/a': 'na'}

COLUMNS = (
    ('host', False), ('status', False), ('drift', False),
    ('stats script', False), ('daemon analytics', False), ('crash reports', False),
    ('installer', False), ('netdata', False), ('install', False), ('container agents', False),
    ('os', False),
    ('virtualization', False), ('container', False), ('kernel', False), ('arch', False),
    ('cpus', True), ('ram', True), ('facts age', True), ('notes', False),
)

# Sorts by the status column in headline order, not alphabetically.
_STATUS_RANK = dict((s, i) for i, s in enumerate(STATUSES))

SORT_SCRIPT = (
    "(function(){var t=document.getElementById('hosts');if(!t)return;"
    "var hs=t.tHead.rows[0].cells,col=new Intl.Collator(undefined,{numeric:true,sensitivity:'base'});"
    "function key(c,n){var v=c.getAttribute('data-v');if(v===null)v=c.textContent;"
    "if(n){var f=parseFloat(v);return isNaN(f)?-Infinity:f;}return v;}"
    "function sortBy(i,th){var n=th.getAttribute('data-type')==='num'||"
    "t.tBodies[0].rows.length&&t.tBodies[0].rows[0].cells[i].hasAttribute('data-v');"
    "var d=th.getAttribute('aria-sort')==='ascending'?-1:1;"
    "for(var j=0;j<hs.length;j++)hs[j].removeAttribute('aria-sort');"
    "th.setAttribute('aria-sort',d===1?'ascending':'descending');"
    "var b=t.tBodies[0],rs=Array.prototype.slice.call(b.rows).map(function(r,x){return [key(r.cells[i],n),x,r];});"
    "rs.sort(function(a,c){var r=n?(a[0]<c[0]?-1:a[0]>c[0]?1:0):col.compare(a[0],c[0]);return r?r*d:a[1]-c[1];});"
    "var f=document.createDocumentFragment();rs.forEach(function(r){f.appendChild(r[2]);});b.appendChild(f);}"
    "for(var i=0;i<hs.length;i++){(function(i){hs[i].addEventListener('click',function(){sortBy(i,this);});})(i);}"
    "})();"
)
SCRIPT_HASH = 'sha256-' + base64.b64encode(hashlib.sha256(SORT_SCRIPT.encode('utf-8')).digest()).decode('ascii')

_TEMPLATE = None


def _template():
    # Compiled once per process: compiling costs more than rendering a small fleet.
    global _TEMPLATE
    if _TEMPLATE is None:
        from jinja2 import Environment, FileSystemLoader, StrictUndefined
        env = Environment(loader=FileSystemLoader(os.path.dirname(os.path.abspath(__file__))),
                          autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                          lstrip_blocks=True)
        _TEMPLATE = env.get_template(TEMPLATE_NAME)
    return _TEMPLATE


def prepare_page():
    """Compile the page's template now (a process that renders it later saves the time)."""
    _template()


def human_bytes(value):
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        return ''
    for unit in ('B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'):
        if value < 1024 or unit == 'PiB':
            return ('%d %s' % (value, unit)) if unit == 'B' else ('%.1f %s' % (value, unit))
        value /= 1024.0
    return ''


def human_age(seconds):
    """'45 s', '12 min', '5 h 3 min', '3 d 4 h'; '' when unknown."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
        return ''
    seconds = int(seconds)
    if seconds < 60:
        return '%d s' % seconds
    if seconds < 3600:
        return '%d min' % (seconds // 60)
    if seconds < 86400:
        return '%d h %d min' % (seconds // 3600, seconds % 3600 // 60)
    return '%d d %d h' % (seconds // 86400, seconds % 86400 // 3600)


def _number_or_blank(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else ''


def _distinct(values):
    seen = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def container_line(install):
    """One container agent (an install of kind container) as the host table shows it:
    'docker netdata (netdata/netdata:stable): opted out until re-created'."""
    container = install.get('container') or {}
    name = container.get('name') or (container.get('id') or '')[:12] or 'unnamed'
    image = container.get('image')
    line = '%s %s%s: %s' % (container.get('runtime') or 'unknown', name, ' (%s)' % image if image else '',
                            CONTAINER_CLASS_LABELS.get(container_class(install), 'unknown'))
    if container.get('running') is False:
        line += ', stopped'
    return line


_NO_CHANNELS = [{'css': 'na', 'text': '\u2013'}] * len(CHANNELS)


def host_row(record):
    """What the host table shows for one record (plain values; host_rows_html escapes them)."""
    gathered = record.get('netdata') is not None
    installs = record.get('installs') or []
    system = record.get('system') or {}
    status = record.get('status') or 'failed'
    if gathered:
        states = record.get('channels') or {}
        channels = []
        for name in CHANNELS:
            state = states.get(name, 'n/a')
            channels.append({'css': CHANNEL_CSS.get(state, 'na'), 'text': state or '\u2013'})
    else:
        channels = _NO_CHANNELS
    reasons = record.get('reasons') or []
    note = record.get('error') or ''
    note_full = note or '\n'.join(reasons)
    if not note and reasons:
        note = '%d reason%s (hover)' % (len(reasons), '' if len(reasons) == 1 else 's')
    if status == 'stale':
        # What the host was when its facts were gathered: shown, never counted.
        known = 'drifting' if record.get('drift') else record.get('state')
        note = 'last known: %s%s' % (STATUS_LABELS.get(known, known or 'unknown'), '; ' + note if note else '')
    age = record.get('age')
    cpus = _number_or_blank(system.get('cpu_count')) if gathered else ''
    ram = _number_or_blank(system.get('ram')) if gathered else ''
    return {
        'hostname': record.get('hostname'),
        'status': status if status in STATUS_COLOURS else 'failed',
        'status_label': STATUS_LABELS.get(status, status),
        'status_rank': _STATUS_RANK.get(status, len(STATUSES)),
        'drift': ('yes' if record.get('drift') else 'no') if gathered and installs else '',
        'channels': channels,
        'versions': ', '.join(_distinct(i.get('version') or 'unknown' for i in installs)),
        'kinds': ', '.join(_distinct(i.get('kind') or 'unknown' for i in installs)),
        'containers': [container_line(i) for i in installs if i.get('container') is not None],
        'os': system.get('os_label', '') if gathered else '',
        'virtualization': system.get('virtualization', '') if gathered else '',
        'container': system.get('container', '') if gathered else '',
        'kernel': system.get('kernel', '') if gathered else '',
        'architecture': system.get('architecture', '') if gathered else '',
        'cpus': cpus, 'cpus_v': cpus if cpus != '' else -1,
        'ram': human_bytes(ram), 'ram_v': ram if ram != '' else -1,
        'age': human_age(age) if age is not None else ('unknown' if status == 'stale' else ''),
        'age_v': age if isinstance(age, int) else -1,
        'note': note, 'note_full': note_full,
    }


# The host table's row: every value escaped (host_rows_text), channel and container cells
# built apart.
_ROW = (u'<tr data-status="{status}"><td>{hostname}</td><td data-v="{status_rank}">'
        u'<span class="badge st-{status}">{status_label}</span></td><td>{drift}</td>{channels}'
        u'<td>{versions}</td><td>{kinds}</td><td>{containers}</td><td>{os}</td><td>{virtualization}</td>'
        u'<td>{container}</td><td>{kernel}</td><td>{architecture}</td>'
        u'<td data-v="{cpus_v}">{cpus}</td><td data-v="{ram_v}">{ram}</td><td data-v="{age_v}">{age}</td>'
        u'<td class="note" title="{note_full}">{note}</td></tr>\n')
_CHANNEL_CELL = u'<td><span class="ch ch-{css}">{text}</span></td>'
# The values of _ROW but the channel and container cells.
_TEXT_KEYS = ('status', 'hostname', 'status_rank', 'status_label', 'drift', 'versions', 'kinds', 'os',
              'virtualization', 'container', 'kernel', 'architecture', 'cpus_v', 'cpus', 'ram_v', 'ram',
              'age_v', 'age', 'note_full', 'note')


# The characters html.escape(quote=True) replaces.
_SPECIAL = re.compile('[&<>"\']')


def _esc(value):
    # html.escape with quote=True: & < > " ' (safe in text and in quoted attributes). Most
    # cells have none of them: a search is much cheaper than escape's five replacements.
    text = str(value)  # str() of a str is that same str
    return html_escape(text, True) if _SPECIAL.search(text) else text


def host_rows_html(rows):
    """The host table's body. Built here rather than in the template because a fleet of
    10,000 hosts makes jinja2's per-attribute lookups the slowest part of the page; every
    value still goes through html.escape (text and attribute safe)."""
    return Markup(host_rows_text(rows))


def host_rows_text(rows):
    """``host_rows_html`` as plain text (parts of a fleet rendered apart are joined, then
    handed to ``render_html`` as ``host_rows``)."""
    out = []
    channel_cells = {}  # a handful of (css, text) pairs, each rendered once
    for row in rows:
        texts = [row[key] for key in _TEXT_KEYS]
        texts = [v if isinstance(v, str) else str(v) for v in texts]
        # One search over the row's text instead of one per value (20,000 hosts make over
        # half a million values, nearly none with a character to escape).
        if _SPECIAL.search(''.join(texts)) is not None:
            texts = [_esc(v) for v in texts]
        cells = dict(zip(_TEXT_KEYS, texts))
        channels = []
        for c in row['channels']:
            key = (c['css'], c['text'])
            cell = channel_cells.get(key)
            if cell is None:
                cell = channel_cells[key] = _CHANNEL_CELL.format(css=_esc(key[0]), text=_esc(key[1]))
            channels.append(cell)
        cells['channels'] = u''.join(channels)
        cells['containers'] = u'<br>'.join(_esc(line) for line in row.get('containers') or ())
        out.append(_ROW.format(**cells))
    return u''.join(out)


def _percent(count, total):
    if not total:
        return ''
    share = 100.0 * count / total
    return ('%.0f%%' % share) if share >= 1 or share == 0 else '<1%'


def page_around_host_rows(summary, title='Netdata fleet inventory', generated=None, source=None):
    """``(head, tail)``: the page of ``render_html(..., host_rows=rows)`` is exactly
    ``head + rows + tail``. The host table's rows (tens of MB for a big fleet, in parts)
    are then written as they are, never copied into one page text."""
    marker = u'\x00host-rows-%s\x00' % uuid.uuid4().hex  # nothing else on the page can hold it
    page = render_html([], summary, title=title, generated=generated, source=source, host_rows=marker)
    around = page.split(marker)
    if len(around) != 2:  # cannot be: the template places the rows once
        raise ValueError('the page template does not place the host rows exactly once')
    return around[0], around[1]


def render_html(records, summary=None, title='Netdata fleet inventory', generated=None, source=None,
                host_rows=None):
    """The report page as text. ``summary`` is computed from ``records`` when not given.
    ``source``: where stored facts came from (a line for the header), for a report that
    contacted no host; its page also shows the 'stale' and 'no facts' tiles.
    ``host_rows``: the host table's body already built (``host_rows_text`` of the records,
    possibly in parts); then ``records`` is not read."""
    if summary is None:
        summary = summarize(records)
    if generated is None:
        generated = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    total = summary['total']
    statuses = [{'key': s, 'label': STATUS_LABELS[s], 'colour': STATUS_COLOURS[s],
                 'count': summary['statuses'].get(s, 0),
                 'percent': _percent(summary['statuses'].get(s, 0), total)} for s in STATUSES
                if source or s not in STORED_ONLY_STATUSES or summary['statuses'].get(s)]
    segments = [(s['label'], s['count'], s['colour']) for s in statuses]
    channel_rows = []
    for name in CHANNELS:
        counts = summary['channels'][name]
        channel_rows.append({
            'key': name, 'label': CHANNEL_LABELS[name],
            # netdata_facts counts the installer toward opted_out only with strict: true.
            'note': 'informational unless strict' if name == 'installer' else '',
            'counts': [counts.get(state, 0) for state in CHANNEL_STATES],
            'bar': svg.stacked_bar([(state, counts.get(state, 0), CHANNEL_COLOURS[state])
                                    for state in CHANNEL_STATES], height=20,
                                   aria_label=CHANNEL_LABELS[name]),
        })
    with_facts = summary.get('with_facts')
    if with_facts is None:
        with_facts = sum(1 for r in records if r.get('reachable') is not False and r.get('netdata') is not None)
    reachable_note = '%d hosts with facts' % with_facts
    charts = [
        ('versions', 'Netdata versions', '%d installs' % summary['installs'], summary['versions'], '#3b7dd8'),
        ('os', 'Operating systems', reachable_note, summary['os'], '#0f8b8d'),
        ('kernel', 'Kernel versions', reachable_note, summary['kernel'], '#5c6bc0'),
        ('virtualization', 'Virtualization', reachable_note, summary['virtualization'], '#c2572b'),
        ('container', 'Containers', reachable_note, summary['container'], '#b8860b'),
        ('install_kinds', 'Install kinds', '%d installs' % summary['installs'], summary['install_kinds'],
         '#6d4c8d'),
    ]
    agents = summary.get('container_agents') or {}
    agents_total = agents.get('total', 0)
    container_classes = [{'key': c, 'label': CONTAINER_CLASS_LABELS[c], 'colour': CONTAINER_COLOURS[c],
                          'count': agents.get(c, 0), 'percent': _percent(agents.get(c, 0), agents_total)}
                         for c in CONTAINER_CLASSES]
    container_charts = [
        ('container-runtimes', 'Container runtimes', summary.get('container_runtimes') or [], '#2b6cb0'),
        ('container-images', 'Container images', summary.get('container_images') or [], '#4a7c59'),
    ]
    context = {
        'title': title,
        'generated': generated,
        'source': source,
        'summary': summary,
        'statuses': statuses,
        'compliance_donut': svg.donut(segments, 'hosts', aria_label='compliance'),
        'compliance_bar': svg.stacked_bar(segments, width=1000, height=26, aria_label='compliance'),
        'channel_states': [{'label': state, 'colour': CHANNEL_COLOURS[state]} for state in CHANNEL_STATES],
        'channel_rows': channel_rows,
        'charts': [{'key': key, 'title': chart_title, 'note': note,
                    'svg': svg.bar_chart(items, colour, aria_label=chart_title)}
                   for key, chart_title, note, items, colour in charts],
        'container_agents': agents,
        'container_classes': container_classes,
        'container_bar': svg.stacked_bar([(c['label'], c['count'], c['colour']) for c in container_classes],
                                         width=1000, height=20, aria_label='container agents'),
        'container_charts': [{'key': key, 'title': chart_title,
                              'svg': svg.bar_chart(items, colour, aria_label=chart_title)}
                             for key, chart_title, items, colour in container_charts],
        'columns': [{'label': label, 'num': num} for label, num in COLUMNS],
        'host_rows': (Markup(host_rows) if host_rows is not None
                      else host_rows_html(host_row(r) for r in records)),
        'script': Markup(SORT_SCRIPT),
        'script_hash': SCRIPT_HASH,
    }
    return _template().render(context)
