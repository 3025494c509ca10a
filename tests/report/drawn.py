"""What the figure tests check on a drawn figure (the texts ``captured`` records)."""

import itertools


def assert_no_overlapping_text(record):
    """No two drawn texts overlap, and none is cut off at the figure's edge."""
    boxes = [(s, b) for s, b in record["boxes"] if b.width > 0 and b.height > 0]
    for (s1, b1), (s2, b2) in itertools.combinations(boxes, 2):
        overlap_w = min(b1.x1, b2.x1) - max(b1.x0, b2.x0)
        overlap_h = min(b1.y1, b2.y1) - max(b1.y0, b2.y0)
        assert overlap_w <= 0.5 or overlap_h <= 0.5, f"text boxes overlap: {s1!r} and {s2!r}"
    width, height = record["size"]
    for s, b in boxes:  # nothing cut off at the figure's edges
        assert b.x0 >= -1 and b.y0 >= -1 and b.x1 <= width + 1 and b.y1 <= height + 1, f"{s!r} outside the figure"
