"""Ed25519 signature verification (RFC 8032) in plain Python, streaming over the message.

Only verification lives on the device: the hub signs. Runs on MicroPython (big ints) and CPython.
"""

try:
    from hashlib import sha512 as _sha512
except ImportError:  # MicroPython ports ship hashlib without sha512
    from hearthfw.sha512 import sha512 as _sha512

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = (-121665 * pow(121666, _P - 2, _P)) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
_BY = (4 * pow(5, _P - 2, _P)) % _P


class BadSignature(Exception):
    """The signature does not match the message and key, or an encoding is invalid."""


def _add(p, q):
    # Extended twisted Edwards coordinates (X, Y, Z, T), RFC 8032 section 5.1.4.
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e = b - a
    f = d - c
    g = d + c
    h = b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _mul(s, p):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _equal(p, q):
    return (p[0] * q[2] - q[0] * p[2]) % _P == 0 and (p[1] * q[2] - q[1] * p[2]) % _P == 0


def _recover_x(y, sign):
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


def _decode_point(data):
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % _P)


_B = (_recover_x(_BY, 0), _BY, 1, _recover_x(_BY, 0) * _BY % _P)


class Verifier:
    """Feed the message with update(); verify() raises BadSignature unless it is genuine."""

    def __init__(self, public_key, signature):
        if len(public_key) != 32 or len(signature) != 64:
            raise BadSignature("bad key or signature length")
        self._a = _decode_point(public_key)
        self._r = _decode_point(signature[:32])
        self._s = int.from_bytes(signature[32:], "little")
        if self._a is None or self._r is None or self._s >= _L:
            raise BadSignature("invalid encoding")
        self._h = _sha512()
        self._h.update(signature[:32])
        self._h.update(public_key)

    def update(self, chunk):
        self._h.update(chunk)

    def verify(self):
        k = int.from_bytes(self._h.digest(), "little") % _L
        if not _equal(_mul(self._s, _B), _add(self._r, _mul(k, self._a))):
            raise BadSignature("signature mismatch")


def verify(public_key, signature, message):
    """Verify a whole message at once; raise BadSignature on failure."""
    v = Verifier(public_key, signature)
    v.update(message)
    v.verify()
