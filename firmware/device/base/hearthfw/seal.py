"""The sealed provisioning hand-over, device side: X25519, HKDF-SHA512, ChaCha20-Poly1305.

Plain Python (MicroPython big ints), checked against the `cryptography` package in tests. The
key is derived from an X25519 exchange *and* the setup code on the label: a listener on the open
set-up access point learns nothing, and only a hub that knows the code can seal what the device
opens. The hub side is firmware/provision.py.
"""

try:
    from hashlib import sha512 as _sha512
except ImportError:  # MicroPython ports ship hashlib without sha512
    from hearthfw.sha512 import sha512 as _sha512

VERSION = 1
SCHEME = "x25519-hkdf-sha512-chacha20poly1305-v1"
INFO = b"hearth provisioning v1"
PROOF = b"hearth provisioning accepted"

_P = 2**255 - 19
_A24 = 121665
_M32 = 0xFFFFFFFF


class SealError(Exception):
    """A sealed message that does not open: wrong setup code, or tampered with."""


# -- X25519 (RFC 7748) -------------------------------------------------------------------


def x25519(scalar, u_bytes):
    """Scalar multiplication on Curve25519; both arguments and the result are 32 bytes."""
    k = bytearray(scalar)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    k = int.from_bytes(bytes(k), "little")
    u = bytearray(u_bytes)
    u[31] &= 127
    x1 = int.from_bytes(bytes(u), "little") % _P
    x2, z2, x3, z3 = 1, 0, x1, 1
    swap = 0
    for t in range(254, -1, -1):
        bit = (k >> t) & 1
        swap ^= bit
        if swap:
            x2, x3 = x3, x2
            z2, z3 = z3, z2
        swap = bit
        a = (x2 + z2) % _P
        aa = a * a % _P
        b = (x2 - z2) % _P
        bb = b * b % _P
        e = (aa - bb) % _P
        c = (x3 + z3) % _P
        d = (x3 - z3) % _P
        da = d * a % _P
        cb = c * b % _P
        x3 = (da + cb) % _P
        x3 = x3 * x3 % _P
        z3 = (da - cb) % _P
        z3 = x1 * (z3 * z3 % _P) % _P
        x2 = aa * bb % _P
        z2 = e * ((aa + _A24 * e) % _P) % _P
    if swap:
        x2, x3 = x3, x2
        z2, z3 = z3, z2
    return (x2 * pow(z2, _P - 2, _P) % _P).to_bytes(32, "little")


def public_key(private):
    return x25519(private, b"\x09" + bytes(31))


# -- HMAC / HKDF with SHA-512 ------------------------------------------------------------


def hmac_sha512(key, message):
    if len(key) > 128:
        key = _sha512(key).digest()
    key = key + bytes(128 - len(key))
    inner = _sha512(bytes(b ^ 0x36 for b in key) + message).digest()
    return _sha512(bytes(b ^ 0x5C for b in key) + inner).digest()


def hkdf_sha512(salt, ikm, info, length):
    prk = hmac_sha512(salt, ikm)
    out = b""
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac_sha512(prk, block + info + bytes((counter,)))
        out += block
        counter += 1
    return out[:length]


# -- ChaCha20-Poly1305 (RFC 8439) --------------------------------------------------------


def _rotl(v, n):
    return ((v << n) & _M32) | (v >> (32 - n))


def _quarter(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & _M32
    s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & _M32
    s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & _M32
    s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & _M32
    s[b] = _rotl(s[b] ^ s[c], 7)


def _words(data):
    return [int.from_bytes(data[i : i + 4], "little") for i in range(0, len(data), 4)]


def _block(key_words, counter, nonce_words):
    # Concatenation, not [*a, *b]: MicroPython has no unpacking in list displays.
    init = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574] + key_words  # noqa: RUF005
    init += [counter & _M32] + nonce_words  # noqa: RUF005
    s = list(init)
    for _ in range(10):
        _quarter(s, 0, 4, 8, 12)
        _quarter(s, 1, 5, 9, 13)
        _quarter(s, 2, 6, 10, 14)
        _quarter(s, 3, 7, 11, 15)
        _quarter(s, 0, 5, 10, 15)
        _quarter(s, 1, 6, 11, 12)
        _quarter(s, 2, 7, 8, 13)
        _quarter(s, 3, 4, 9, 14)
    out = b""
    for i in range(16):
        out += ((s[i] + init[i]) & _M32).to_bytes(4, "little")
    return out


def chacha20(key, counter, nonce, data):
    key_words = _words(key)
    nonce_words = _words(nonce)
    out = bytearray(len(data))
    for offset in range(0, len(data), 64):
        stream = _block(key_words, counter + offset // 64, nonce_words)
        chunk = data[offset : offset + 64]
        for i in range(len(chunk)):
            out[offset + i] = chunk[i] ^ stream[i]
    return bytes(out)


def poly1305(key, message):
    r = int.from_bytes(key[:16], "little") & 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF
    s = int.from_bytes(key[16:32], "little")
    p = (1 << 130) - 5
    acc = 0
    for offset in range(0, len(message), 16):
        chunk = message[offset : offset + 16]
        n = int.from_bytes(chunk + b"\x01", "little")
        acc = (acc + n) * r % p
    return ((acc + s) & ((1 << 128) - 1)).to_bytes(16, "little")


def _pad16(data):
    return bytes((16 - len(data) % 16) % 16)


def _tag(key, nonce, aad, ciphertext):
    otk = _block(_words(key), 0, _words(nonce))[:32]
    mac_data = aad + _pad16(aad) + ciphertext + _pad16(ciphertext)
    mac_data += len(aad).to_bytes(8, "little") + len(ciphertext).to_bytes(8, "little")
    return poly1305(otk, mac_data)


def seal(key, nonce, plaintext, aad):
    ciphertext = chacha20(key, 1, nonce, plaintext)
    return ciphertext + _tag(key, nonce, aad, ciphertext)


def open_sealed(key, nonce, sealed, aad):
    """Decrypt and authenticate; SealError when the tag does not match."""
    if len(sealed) < 16 or len(nonce) != 12:
        raise SealError("sealed message too short")
    ciphertext, tag = sealed[:-16], sealed[-16:]
    if not equal(_tag(key, nonce, aad, ciphertext), tag):
        raise SealError("does not open: wrong setup code or tampered")
    return chacha20(key, 1, nonce, ciphertext)


def equal(a, b):
    # Constant time: timing must not tell an attacker how much of a tag was right.
    if len(a) != len(b):
        return False
    diff = 0
    for i in range(len(a)):
        diff |= a[i] ^ b[i]
    return diff == 0


# -- the hand-over -----------------------------------------------------------------------


def session_key(shared, setup_code, device_public, hub_public, device_id):
    """The AEAD key: HKDF over the X25519 secret and the setup code, bound to both keys."""
    if shared == bytes(32):
        raise SealError("degenerate key exchange")
    ikm = shared + b"\x00" + setup_code.encode()
    return hkdf_sha512(device_public + hub_public, ikm, INFO + b" " + device_id.encode(), 32)


def proof(key, hub_public):
    """What the device answers to show it opened the hand-over (and so knows the code)."""
    return hmac_sha512(key, PROOF + hub_public)[:16]
