# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report page: self-contained, escaped, charts present, every host listed."""
import base64
import hashlib
import random
import re
from html.parser import HTMLParser


from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_html import (  # noqa: E402
    human_bytes, render_html,
)
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_records import (  # noqa: E402
    host_record, records_from_results, summarize,
)
from test_inventory_report_synthetic import synthetic_facts, synthetic_records  # noqa: E402

EVIL = '<script>alert(1)</script>'


class Collect(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self)
        self.tags, self.scripts, self.rows, self.attrs = [], [], [], []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)
        self._in_script = tag == 'script'
        if tag == 'tr':
            self.rows.append(dict(attrs))

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def hostile_records():
    rng = random.Random(4)
    f = synthetic_facts(rng, 'out', os_entry=(EVIL, 'evil', '1', '6.1.0-<b>bold</b>'), container='none')
    f['telemetry']['reasons'] = ['x" onmouseover="alert(2)']
    f['installs'][0]['version'] = '<img src=x onerror=alert(3)>'
    return records_from_results(
        ['evil-host', 'dead-host'],
        {'evil-host': {'ansible_facts': {'netdata': f}},
         'dead-host': {'unreachable': True, 'msg': 'refused <iframe src="http://x.invalid">'}})


def test_host_strings_are_escaped():
    page = render_html(hostile_records(), generated='now')
    assert EVIL not in page
    assert '&lt;script&gt;alert(1)&lt;/script&gt;' in page
    assert '<img src=x' not in page and '<b>bold' not in page and '<iframe' not in page
    assert 'onmouseover="alert' not in page
    parsed = Collect()
    parsed.feed(page)
    assert parsed.tags.count('script') == 1  # only the sort script
    assert 'img' not in parsed.tags and 'iframe' not in parsed.tags and 'b' not in parsed.tags
    assert not [a for a, _value in parsed.attrs if a.startswith('on')]


def test_page_is_self_contained():
    page = render_html(synthetic_records(60), generated='now')
    # the only URL is the SVG namespace name, which is never fetched
    urls = set(re.findall(r'(?:https?:)?//[\w.-]+[^\s"\'<>)]*', page))
    assert urls <= {'http://www.w3.org/2000/svg'}, urls
    for pattern in (r'<link\b', r'\bsrc=', r'@import', r'url\(', r'<iframe', r'<object', r'<embed'):
        assert not re.search(pattern, page), pattern
    assert "default-src 'none'" in page


def test_csp_allows_exactly_the_inline_sort_script():
    page = render_html(synthetic_records(5), generated='now')
    parsed = Collect()
    parsed.feed(page)
    (script,) = parsed.scripts
    digest = base64.b64encode(hashlib.sha256(script.encode('utf-8')).digest()).decode()
    assert "script-src 'sha256-%s'" % digest in page


def test_charts_and_sections_are_present():
    records = synthetic_records(80)
    page = render_html(records, generated='now')
    assert page.count('<svg') >= 1 + 1 + 4 + 6  # donut, compliance bar, 4 channels, 6 charts
    for section in ('compliance', 'channels', 'chart-versions', 'chart-os', 'chart-kernel',
                    'chart-virtualization', 'chart-container', 'hosts'):
        assert 'id="%s"' % section in page, section
    for channel in ('statistics_script', 'daemon_analytics', 'crash_reports', 'installer'):
        assert 'data-channel="%s"' % channel in page
    summary = summarize(records)
    assert summary['headline'] in page


def test_every_host_is_a_row_including_unreachable():
    records = synthetic_records(120)
    parsed = Collect()
    parsed.feed(render_html(records, generated='now'))
    body_rows = [r for r in parsed.rows if 'data-status' in r]
    assert len(body_rows) == 120
    assert sorted(r['data-status'] for r in body_rows) == sorted(r['status'] for r in records)
    assert any(r['data-status'] == 'unreachable' for r in body_rows)


def test_ten_thousand_hosts_render():
    records = synthetic_records(10000)
    page = render_html(records, generated='now')
    assert page.count('<tr data-status=') == 10000
    assert page.rstrip().endswith('</html>')


def test_empty_fleet_renders():
    page = render_html([], generated='now')
    assert '0 hosts' in page and 'no data' in page


def test_summary_passed_in_is_used():
    records = [host_record('h', synthetic_facts(random.Random(1), 'in'))]
    summary = summarize(records)
    summary['headline'] = 'custom headline'
    assert 'custom headline' in render_html(records, summary, generated='now')


def test_human_bytes():
    assert human_bytes(512) == '512 B'
    assert human_bytes(8 * 1024 ** 3) == '8.0 GiB'
    assert human_bytes('unknown') == '' and human_bytes(None) == '' and human_bytes(True) == ''


def test_host_rows_are_every_value_escaped_one_by_one():
    """host_rows_text escapes a row's values only when one of them needs it: the text is
    that of html.escape on every value, hostile rows included."""
    import html
    from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_html import (
        _CHANNEL_CELL, _ROW, host_row, host_rows_text)
    records = synthetic_records(200) + hostile_records()
    records[3]['installs'] and records[3]['installs'][0].update(version='1.0 & "2" <x>')
    rows = [host_row(r) for r in records]

    def escaped(value):
        return html.escape(str(value), True)
    expected = []
    for row in rows:
        cells = dict((k, escaped(v)) for k, v in row.items() if k not in ('channels', 'containers'))
        cells['channels'] = ''.join(_CHANNEL_CELL.format(css=escaped(c['css']), text=escaped(c['text']))
                                    for c in row['channels'])
        cells['containers'] = '<br>'.join(escaped(line) for line in row['containers'])
        expected.append(_ROW.format(**cells))
    assert host_rows_text(rows) == ''.join(expected)
    assert '1.0 &amp; &quot;2&quot; &lt;x&gt;' in host_rows_text(rows)


def test_the_page_around_the_host_rows_is_the_whole_page():
    """The report file is written as head + host rows (in parts, as they are) + tail: the
    same bytes as the page rendered with its rows."""
    from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_html import (
        host_row, host_rows_text, page_around_host_rows)
    records = synthetic_records(40)
    summary = summarize(records)
    rows = host_rows_text(host_row(r) for r in records)
    head, tail = page_around_host_rows(summary, title='T <1>', generated='now', source='cache')
    assert head + rows + tail == render_html(records, summary, title='T <1>', generated='now', source='cache')
    assert '\x00' not in head + tail
