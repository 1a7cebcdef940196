"""A QR code of the dashboard address, rendered to SVG on the hub (no network, no JS)."""

from __future__ import annotations

import io

import segno

__all__ = ["qr_svg"]


def qr_svg(text: str) -> bytes:
    """An SVG QR code for `text` (medium error correction, scales to its container)."""
    qr = segno.make(text, error="m")
    out = io.BytesIO()
    qr.save(
        out,
        kind="svg",
        scale=8,
        border=2,
        dark="#1f2430",
        light="#ffffff",
        xmldecl=False,
        svgns=True,
        title="Open the dashboard",
        omitsize=True,
    )
    return out.getvalue()
