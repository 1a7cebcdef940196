"""Device-side crypto (plain-Python SHA-512 and ed25519) against hashlib and cryptography,
and the OTA image format between the hub's builder and the device's parser."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from pathlib import Path

import pytest
from hearthfw import ed25519, image, sha512  # type: ignore[import-not-found]
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.ota.image import ImageError, app_files, build_image, read_header, verify_image
from firmware.ota.keys import SigningKey, load_or_create_signing_key
from firmware.ota.store import ImageStore

from .conftest import APP_DIR


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=600), st.integers(min_value=1, max_value=300))
def test_sha512_matches_hashlib(data: bytes, chunk: int) -> None:
    h = sha512.sha512()
    for i in range(0, len(data), chunk):
        h.update(data[i : i + chunk])
    assert h.digest() == hashlib.sha512(data).digest()
    assert h.hexdigest() == hashlib.sha512(data).hexdigest()
    h.update(b"more")  # digest() must not have disturbed the running state
    assert h.digest() == hashlib.sha512(data + b"more").digest()


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> SigningKey:
    return load_or_create_signing_key(tmp_path_factory.mktemp("hub"))


@settings(max_examples=40, deadline=None)
@given(message=st.binary(max_size=400), flip=st.integers(min_value=0))
def test_ed25519_verifies_cryptography_signatures(
    key: SigningKey, message: bytes, flip: int
) -> None:
    signature = key.sign(message)
    ed25519.verify(key.public_raw, signature, message)
    # Any single flipped bit in the message or the signature is caught.
    if message:
        bad = bytearray(message)
        bad[flip % len(bad)] ^= 1 << (flip % 8)
        with pytest.raises(ed25519.BadSignature):
            ed25519.verify(key.public_raw, signature, bytes(bad))
    bad_sig = bytearray(signature)
    bad_sig[flip % 64] ^= 1 << (flip % 8)
    with pytest.raises(ed25519.BadSignature):
        ed25519.verify(key.public_raw, bytes(bad_sig), message)


def test_ed25519_rejects_wrong_key_and_malleable_s(key: SigningKey, tmp_path: Path) -> None:
    other = load_or_create_signing_key(tmp_path)
    signature = key.sign(b"firmware")
    with pytest.raises(ed25519.BadSignature):
        ed25519.verify(other.public_raw, signature, b"firmware")
    # s + L verifies mathematically but is non-canonical: RFC 8032 requires rejecting it.
    order = 2**252 + 27742317777372353535851937790883648493
    s = int.from_bytes(signature[32:], "little") + order
    with pytest.raises(ed25519.BadSignature):
        ed25519.verify(key.public_raw, signature[:32] + s.to_bytes(32, "little"), b"firmware")
    with pytest.raises(ed25519.BadSignature):
        ed25519.verify(b"\xff" * 32, signature, b"firmware")  # not a curve point


def test_signing_key_is_created_once_and_private(tmp_path: Path) -> None:
    first = load_or_create_signing_key(tmp_path)
    again = load_or_create_signing_key(tmp_path)
    assert first.public_hex == again.public_hex
    path = tmp_path / "ota" / "signing_key.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _image(key: SigningKey, version: str = "1.2.3", profile: str = "*") -> bytes:
    return build_image(
        app_files(APP_DIR, version=version), version=version, profile=profile, key=key
    )


def test_hub_image_verifies_and_extracts_on_the_device(key: SigningKey, tmp_path: Path) -> None:
    data = _image(key)
    header = verify_image(data, key.public_hex)
    assert header.version == "1.2.3"
    assert {f.path for f in header.files} >= {"hearthapp/main.py", "hearthapp/version.py"}

    verifier = image.StreamVerifier(key.public_raw)
    for i in range(0, len(data), 777):  # arrives in arbitrary network chunks
        verifier.feed(data[i : i + 777])
    verifier.finish()
    stream = io.BytesIO(data)
    dev_header = image.read_header(stream)
    assert dev_header["version"] == "1.2.3"
    image.extract(stream, dev_header, str(tmp_path / "slot"))
    version = (tmp_path / "slot" / "hearthapp" / "version.py").read_text()
    assert version == 'VERSION = "1.2.3"\n'
    main = (tmp_path / "slot" / "hearthapp" / "main.py").read_bytes()
    assert main == (APP_DIR / "hearthapp" / "main.py").read_bytes()


@settings(max_examples=40, deadline=None)
@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_any_flipped_bit_is_rejected_by_both_sides(
    key: SigningKey, position: int, bit: int
) -> None:
    data = bytearray(_image(key))
    data[position % len(data)] ^= 1 << bit
    with pytest.raises(ImageError):
        verify_image(bytes(data), key.public_hex)
    verifier = image.StreamVerifier(key.public_raw)
    with pytest.raises(image.ImageError):
        verifier.feed(bytes(data))
        verifier.finish()


@pytest.mark.parametrize(
    "path",
    ["../boot.py", "hearthapp/../../main.py", "/hearthapp/x.py", "hearthfw/ota.py", "hearthapp//x"],
)
def test_paths_outside_the_app_are_refused(key: SigningKey, path: str) -> None:
    with pytest.raises(ImageError):
        build_image({path: b"x"}, version="1", profile="*", key=key)
    with pytest.raises(image.ImageError):
        image.check_path(path)


def test_store_keeps_only_images_signed_by_this_hub(key: SigningKey, tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "config", key.public_hex)
    first = store.add(_image(key, "1.0.1", "fridge"))
    second = store.add(_image(key, "1.0.2", "*"))
    assert store.add(_image(key, "1.0.1", "fridge")).id != second.id
    assert store.get(first.id) == first
    assert {i.version for i in store.images()} == {"1.0.1", "1.0.2"}
    assert store.latest("cleaner") == second
    stranger = load_or_create_signing_key(tmp_path / "stranger")
    with pytest.raises(ImageError, match="bad signature"):
        store.add(_image(stranger, "6.6.6"))
    with pytest.raises(ImageError):
        store.add(os.urandom(300))
    assert store.get("../../etc/passwd") is None
    # A stored file altered on disk no longer counts as an image.
    raw = bytearray(first.path.read_bytes())
    raw[-1] ^= 0xFF
    first.path.write_bytes(bytes(raw))
    assert store.get(first.id) is None
    assert store.remove(second.id) and store.images() == []


def test_read_header_refuses_inconsistent_sizes(key: SigningKey) -> None:
    data = _image(key)
    assert read_header(data).payload_size > 0
    with pytest.raises(ImageError, match="size"):
        read_header(data + b"extra")


def test_build_sequence_only_goes_forward(key: SigningKey, tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "config", key.public_hex)
    assert [store.next_sequence() for _ in range(3)] == [1, 2, 3]
    assert ImageStore(tmp_path / "config", key.public_hex).next_sequence() == 4
    image = store.add(
        build_image(app_files(APP_DIR, version="2.0"), version="2.0", profile="*", key=key,
                    sequence=40)
    )  # fmt: skip
    assert image.sequence == 40 and read_header(image.path.read_bytes()).sequence == 40
    (tmp_path / "config" / "ota" / "sequence").write_text("garbage")
    assert store.next_sequence() == 41  # a damaged counter restarts above every stored image
