"""Colour conversions between sRGB and CIE 1931 xy (what ZCL ColorControl speaks)."""

from __future__ import annotations

__all__ = ["rgb_to_xy", "xy_to_rgb"]


def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _gamma(c: float) -> float:
    c = max(0.0, c)
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def rgb_to_xy(r: int, g: int, b: int) -> tuple[float, float]:
    """sRGB 0-255 to xy chromaticity (D65)."""
    rl, gl, bl = (_linear(v / 255) for v in (r, g, b))
    x = rl * 0.4124 + gl * 0.3576 + bl * 0.1805
    y = rl * 0.2126 + gl * 0.7152 + bl * 0.0722
    z = rl * 0.0193 + gl * 0.1192 + bl * 0.9505
    total = x + y + z
    if total == 0:
        return 0.3127, 0.3290  # black has no chromaticity: use the white point
    return x / total, y / total


def xy_to_rgb(x: float, y: float, brightness: int = 255) -> tuple[int, int, int]:
    """xy chromaticity to sRGB 0-255 at the given brightness, normalised to full scale."""
    if y <= 0:
        return (0, 0, 0)
    big_y = 1.0
    big_x = x * big_y / y
    big_z = (1 - x - y) * big_y / y
    r = big_x * 3.2406 - big_y * 1.5372 - big_z * 0.4986
    g = -big_x * 0.9689 + big_y * 1.8758 + big_z * 0.0415
    b = big_x * 0.0557 - big_y * 0.2040 + big_z * 1.0570
    rgb = [_gamma(c) for c in (r, g, b)]
    peak = max(rgb) or 1.0
    scale = brightness / 255
    return tuple(max(0, min(255, round(c / peak * 255 * scale))) for c in rgb)  # type: ignore[return-value]
