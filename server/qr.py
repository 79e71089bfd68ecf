"""QR codes as SVG (segno), for the join URL on the control screen and the wall."""

from __future__ import annotations

import io

import segno


def svg(data: str, scale: int = 10) -> str:
    """An SVG QR code of `data`: black on white, medium error correction, quiet zone 2.

    The SVG has a viewBox and no fixed pixel size in the page's eyes: CSS sizes it, so
    one image serves the small code on the control screen and the big one on the wall.
    """
    buf = io.BytesIO()
    segno.make(data, error="m").save(
        buf, kind="svg", scale=scale, border=2, dark="#000", light="#fff",
        xmldecl=False, svgns=True, omitsize=True,
    )
    return buf.getvalue().decode("utf-8")
