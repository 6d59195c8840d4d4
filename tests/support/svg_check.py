"""Parses an SVG written by `ftctl plot` with Python's own XML parser and prints what it holds,
one fact a line, for the C++ tests to compare:

  ok svg                                      the file is well-formed XML with an <svg> root
  series PANEL INDEX POINTS                   one line per polyline of class "series"
  legend TEXT / note TEXT / title TEXT        the legend entries, notes and the chart title
  bad-number ELEMENT ATTRIBUTE VALUE          a coordinate that is not a finite number

Exit status 1 (with the parser's message) when the file is not well-formed XML.
Usage: svg_check.py FILE.svg
"""
import math
import sys
import xml.dom.minidom
import xml.parsers.expat

NUMERIC = {"x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "width", "height"}


def finite(text):
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def text_of(node):
    return "".join(c.data for c in node.childNodes if c.nodeType == c.TEXT_NODE)


def main(path):
    try:
        doc = xml.dom.minidom.parse(path)
    except (xml.parsers.expat.ExpatError, ValueError) as error:
        print(f"not well-formed: {error}")
        return 1
    root = doc.documentElement
    print(f"ok {root.tagName}")
    for element in doc.getElementsByTagName("*"):
        for name, value in element.attributes.items():
            if name in NUMERIC and not value.endswith("%") and not finite(value):
                print(f"bad-number {element.tagName} {name} {value}")
        if element.tagName == "polyline":
            for pair in element.getAttribute("points").split():
                if not all(finite(v) for v in pair.split(",")) or pair.count(",") != 1:
                    print(f"bad-number polyline points {pair}")
    for title in root.getElementsByTagName("title"):
        print(f"title {text_of(title)}")
    panels = [g for g in root.getElementsByTagName("g") if g.getAttribute("class") == "panel"]
    for p, panel in enumerate(panels):
        for line in panel.getElementsByTagName("polyline"):
            if line.getAttribute("class") == "series":
                points = len(line.getAttribute("points").split())
                print(f"series {p} {line.getAttribute('data-series')} {points}")
    for group in root.getElementsByTagName("g"):
        kind = group.getAttribute("class")
        if kind in ("legend", "notes"):
            for text in group.getElementsByTagName("text"):
                print(f"{'legend' if kind == 'legend' else 'note'} {text_of(text)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
