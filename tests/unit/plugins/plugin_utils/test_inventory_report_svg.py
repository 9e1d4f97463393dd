# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Inline SVG charts: escaping, folding long tails, empty data."""
import xml.etree.ElementTree as ET


from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_svg import (  # noqa: E402
    bar_chart, donut, stacked_bar,
)

SVG = '{http://www.w3.org/2000/svg}'
EVIL = '<script>alert(1)</script>" onload="x'


def test_bar_chart_escapes_and_is_well_formed_xml():
    out = str(bar_chart([[EVIL, 3], ['ok', 1]]))
    assert '<script>' not in out and 'onload="x' not in out
    root = ET.fromstring(out)  # parses: every label escaped
    titles = [t.text for t in root.iter(SVG + 'title')]
    assert EVIL + ': 3' in titles
    assert len(list(root.iter(SVG + 'rect'))) == 2


def test_bar_chart_folds_the_tail():
    items = [['v%d' % i, 100 - i] for i in range(30)]
    root = ET.fromstring(str(bar_chart(items, max_items=10)))
    assert len(list(root.iter(SVG + 'rect'))) == 10
    titles = [t.text for t in root.iter(SVG + 'title')]
    assert titles[-1] == '21 others: %d' % sum(100 - i for i in range(9, 30))


def test_bar_chart_without_data():
    assert 'no data' in str(bar_chart([]))


def test_donut_segments_and_total():
    root = ET.fromstring(str(donut([('a', 3, '#f00'), ('b', 0, '#0f0'), (EVIL, 1, '#00f')])))
    segs = [c for c in root.iter(SVG + 'circle') if c.get('class') == 'seg']
    assert len(segs) == 2  # zero counts draw nothing
    assert [t.text for t in root.iter(SVG + 'text')][0] == '4'
    empty = ET.fromstring(str(donut([('a', 0, '#f00')])))
    assert [t.text for t in empty.iter(SVG + 'text')][0] == '0'


def test_stacked_bar_widths_add_up():
    root = ET.fromstring(str(stacked_bar([('on', 1, '#f00'), ('off', 3, '#0f0')], width=400)))
    rects = list(root.iter(SVG + 'rect'))[1:]
    assert [float(r.get('width')) for r in rects] == [100.0, 300.0]
