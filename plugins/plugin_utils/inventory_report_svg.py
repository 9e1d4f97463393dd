# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Inline SVG charts for the inventory report: no scripts, no external resources.

Every piece of text that reaches an SVG passes through ``_esc`` (labels are host-supplied:
an os-release NAME, a kernel version). The functions return ``markupsafe.Markup`` so the
autoescaping template inserts them as they are and escapes everything else.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math
from html import escape

from markupsafe import Markup


def _esc(text):
    return escape(str(text), quote=True)


def _num(value):
    """Short decimal for SVG coordinates."""
    return ('%.2f' % value).rstrip('0').rstrip('.')


def _truncate(text, width):
    text = str(text)
    return text if len(text) <= width else text[:width - 1] + u'\u2026'


def donut(segments, center_label='hosts', size=200, thickness=34, aria_label='chart'):
    """A donut chart from ``[(label, count, colour), ...]`` with the total in the middle."""
    total = sum(count for _label, count, _colour in segments)
    radius = (size - thickness) / 2.0
    centre = size / 2.0
    circumference = 2 * math.pi * radius
    parts = ['<svg class="donut" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
             'viewBox="0 0 %d %d" role="img" aria-label="%s">' % (size, size, size, size, _esc(aria_label)),
             '<circle cx="%s" cy="%s" r="%s" fill="none" stroke="#e6e9ed" stroke-width="%d"/>'
             % (_num(centre), _num(centre), _num(radius), thickness)]
    offset = 0.0
    for label, count, colour in segments:
        if not count or not total:
            continue
        length = circumference * count / total
        parts.append(
            '<circle class="seg" cx="%s" cy="%s" r="%s" fill="none" stroke="%s" stroke-width="%d" '
            'stroke-dasharray="%s %s" stroke-dashoffset="%s" transform="rotate(-90 %s %s)">'
            '<title>%s: %d</title></circle>'
            % (_num(centre), _num(centre), _num(radius), _esc(colour), thickness, _num(length),
               _num(circumference - length), _num(-offset), _num(centre), _num(centre),
               _esc(label), count))
        offset += length
    parts.append('<text x="%s" y="%s" text-anchor="middle" class="donut-total">%d</text>'
                 % (_num(centre), _num(centre + 6), total))
    parts.append('<text x="%s" y="%s" text-anchor="middle" class="donut-label">%s</text>'
                 % (_num(centre), _num(centre + 26), _esc(center_label)))
    parts.append('</svg>')
    return Markup(''.join(parts))


def stacked_bar(segments, width=560, height=26, aria_label='chart'):
    """One horizontal bar split in proportion to ``[(label, count, colour), ...]``."""
    total = sum(count for _label, count, _colour in segments)
    parts = ['<svg class="stacked" xmlns="http://www.w3.org/2000/svg" width="100%%" height="%d" '
             'viewBox="0 0 %d %d" preserveAspectRatio="none" role="img" aria-label="%s">'
             % (height, width, height, _esc(aria_label)),
             '<rect x="0" y="0" width="%d" height="%d" fill="#e6e9ed"/>' % (width, height)]
    x = 0.0
    for label, count, colour in segments:
        if not count or not total:
            continue
        w = width * count / float(total)
        parts.append('<rect x="%s" y="0" width="%s" height="%d" fill="%s"><title>%s: %d</title></rect>'
                     % (_num(x), _num(w), height, _esc(colour), _esc(label), count))
        x += w
    parts.append('</svg>')
    return Markup(''.join(parts))


def bar_chart(items, colour='#3b7dd8', width=460, max_items=10, label_width=170,
              row_height=24, aria_label='chart'):
    """Horizontal bars from ``[[label, count], ...]`` (already ranked); the tail beyond
    ``max_items`` is folded into one 'other' bar so a fleet of thousands stays legible."""
    items = [(str(label), int(count)) for label, count in items]
    if len(items) > max_items:
        rest = items[max_items - 1:]
        items = items[:max_items - 1] + [
            ('%d others' % len(rest), sum(count for _label, count in rest))]
    if not items:
        return Markup('<p class="empty">no data</p>')
    top = max(count for _label, count in items) or 1
    bar_area = width - label_width - 50
    height = row_height * len(items) + 4
    chars = int(label_width / 7.2)
    # Scales to its card's width (viewBox), keeping its proportions.
    parts = ['<svg class="bars" xmlns="http://www.w3.org/2000/svg" width="100%%" '
             'viewBox="0 0 %d %d" role="img" aria-label="%s">' % (width, height, _esc(aria_label))]
    for index, (label, count) in enumerate(items):
        y = index * row_height + 2
        w = max(2.0, bar_area * count / float(top))
        parts.append('<g><title>%s: %d</title>' % (_esc(label), count))
        parts.append('<text x="%d" y="%s" text-anchor="end" class="bar-label">%s</text>'
                     % (label_width - 8, _num(y + row_height * 0.62), _esc(_truncate(label, chars))))
        parts.append('<rect x="%d" y="%s" width="%s" height="%s" rx="3" fill="%s"/>'
                     % (label_width, _num(y + 3), _num(w), _num(row_height - 8), _esc(colour)))
        parts.append('<text x="%s" y="%s" class="bar-count">%d</text></g>'
                     % (_num(label_width + w + 6), _num(y + row_height * 0.62), count))
    parts.append('</svg>')
    return Markup(''.join(parts))
