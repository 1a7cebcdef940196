"""Device-side OTA: A/B application slots, verified install, trial boot, confirm and rollback."""

import binascii
import os

from hearthfw import fs, hal, image

STATE_FILE = "ota.json"
STAGING_FILE = "ota_staging.bin"
MAX_IMAGE = 1024 * 1024
# How long a freshly installed image has to connect and report in before we roll back.
TRIAL_MS = 120000

_deadline = [None]


def slot_dir(slot):
    return fs.join(hal.root(), "slots/" + slot)


def other(slot):
    return "b" if slot == "a" else "a"


def load_state():
    st = fs.read_json(fs.join(hal.root(), STATE_FILE))
    if not isinstance(st, dict) or st.get("active") not in ("a", "b"):
        return None
    return st


def save_state(st):
    fs.write_json(fs.join(hal.root(), STATE_FILE), st)


def fresh_state(version):
    return {
        "active": "a",
        "previous": None,
        "trial": False,
        "boots": 0,
        "versions": {"a": version},
        "sequences": {"a": 0},
        "update": None,
        "result": None,
        "failure": None,
    }


def install(url, public_key_hex, profile, size_hint, update_id, progress):
    """Download an image, then install it as install_staged() does. Returns the image header.

    progress(stage, percent) is called along the way. Raises image.ImageError or OSError;
    the running slot is untouched on failure.
    """
    from hearthfw import httpd  # only now: boards without sockets can still verify images

    staging = fs.join(hal.root(), STAGING_FILE)
    done = [0, -1]

    def on_chunk(chunk):
        out.write(chunk)
        done[0] += len(chunk)
        percent = min(99, done[0] * 100 // size_hint) if size_hint else 0
        if percent // 10 != done[1] // 10:
            done[1] = percent
            progress("downloading", percent)

    try:
        with open(staging, "wb") as out:
            httpd.get(url, on_chunk, MAX_IMAGE)
        return install_staged(staging, public_key_hex, profile, update_id, progress)
    finally:
        try:
            os.remove(staging)
        except OSError:
            pass


def install_staged(path, public_key_hex, profile, update_id, progress):
    """Verify the image file at path, unpack it into the inactive slot, mark it for a trial boot."""
    st = load_state()
    target = other(st["active"])
    try:
        key = binascii.unhexlify(public_key_hex)
    except (ValueError, TypeError):
        raise image.ImageError("no valid OTA public key provisioned") from None
    progress("verifying", 100)
    verifier = image.StreamVerifier(key)
    with open(path, "rb") as f:
        while True:
            chunk = f.read(2048)
            if not chunk:
                break
            verifier.feed(chunk)
    verifier.finish()
    try:
        with open(path, "rb") as f:
            header = image.read_header(f)
            if header["profile"] not in ("*", profile):
                raise image.ImageError("image is for profile " + header["profile"])
            sequence = header.get("sequence", 0)
            running = st.get("sequences", {}).get(st["active"], 0)
            if sequence < running:
                # A genuine but older image replayed from the broker: refuse to go back.
                raise image.ImageError(
                    f"image sequence {sequence} is older than the running {running}"
                )
            progress("installing", 100)
            image.extract(f, header, slot_dir(target))
    except Exception:
        fs.rmtree(slot_dir(target))  # never the running slot: target is the other one
        raise
    st["previous"] = st["active"]
    st["active"] = target
    st["trial"] = True
    st["boots"] = 0
    st["versions"][target] = header["version"]
    st.setdefault("sequences", {})[target] = header.get("sequence", 0)
    st["update"] = update_id
    st["result"] = None
    st["failure"] = None
    save_state(st)
    return header


def arm_trial_deadline():
    def expired():
        note_trial_failure(f"did not report in within {TRIAL_MS // 1000} s")
        hal.reset()

    _deadline[0] = hal.arm_deadline(TRIAL_MS, expired)


def note_trial_failure(reason):
    st = load_state()
    if st is not None and st["trial"] and not st.get("failure"):
        st["failure"] = reason
        save_state(st)


def confirm():
    """The running image reported in: keep it. Returns the result to publish, if any."""
    st = load_state()
    if st is None or not st["trial"]:
        return None
    hal.cancel_deadline(_deadline[0])
    _deadline[0] = None
    st["trial"] = False
    st["boots"] = 0
    st["result"] = {
        "stage": "done",
        "version": st["versions"].get(st["active"]),
        "update": st["update"],
    }
    save_state(st)
    return st["result"]


def rollback(st):
    """Boot the previous slot again and remember why the trial image failed."""
    failed = st["active"]
    reason = st.get("failure") or "reset before reporting in"
    st["result"] = {
        "stage": "rolled_back",
        "version": st["versions"].get(failed),
        "running": st["versions"].get(st["previous"]),
        "error": reason,
        "update": st["update"],
    }
    st["active"] = st["previous"]
    st["previous"] = failed
    st["trial"] = False
    st["boots"] = 0
    st["failure"] = None
    save_state(st)
    return st


def pop_result():
    """Return the outcome of the last update once (for publishing), then forget it."""
    st = load_state()
    if st is None or not st.get("result"):
        return None
    result = st["result"]
    st["result"] = None
    save_state(st)
    return result
