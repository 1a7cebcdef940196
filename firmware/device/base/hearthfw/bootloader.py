"""Stage-one boot: pick the application slot, run trial images under a deadline, roll back."""

import sys

from hearthfw import fs, hal, ota

CRASH_BACKOFF_MS = 5000


def run(factory_dir):
    """Boot the active slot's `hearthapp`; never returns (a crash or exit resets the board)."""
    st = ota.load_state()
    if st is None or not fs.isdir(fs.join(ota.slot_dir(st["active"]), "hearthapp")):
        st = install_factory(factory_dir)
    if st["trial"]:
        if st["boots"] >= 1:
            hal.log("boot: trial image failed, rolling back:", st.get("failure"))
            st = ota.rollback(st)
        else:
            st["boots"] = 1
            ota.save_state(st)
            ota.arm_trial_deadline()
    hal.log("boot: slot", st["active"], "version", st["versions"].get(st["active"]))
    sys.path.insert(0, ota.slot_dir(st["active"]))
    try:
        import hearthapp.main

        hearthapp.main.run({"slot": st["active"], "trial": st["trial"]})
        reason = "application exited"
    except Exception as err:
        reason = "crashed: " + repr(err)
        _print_exception(err)
    hal.log("boot:", reason)
    now = ota.load_state()
    if now is not None and now["trial"]:
        ota.note_trial_failure(reason)
    else:
        hal.sleep_ms(CRASH_BACKOFF_MS)  # a crashing good image must not spin the CPU
    hal.reset()


def install_factory(factory_dir):
    """First boot (or a wiped slot): copy the factory application into slot a."""
    fs.rmtree(fs.join(hal.root(), "slots"))
    fs.copytree(fs.join(factory_dir, "hearthapp"), fs.join(ota.slot_dir("a"), "hearthapp"))
    st = ota.fresh_state(_factory_version(factory_dir))
    ota.save_state(st)
    return st


def _factory_version(factory_dir):
    try:
        with open(fs.join(factory_dir, "hearthapp/version.py")) as f:
            for line in f.read().split("\n"):
                if line.startswith("VERSION"):
                    return line.split("=", 1)[1].strip().strip("\"'")
    except OSError:
        pass
    return "factory"


def _print_exception(err):
    try:
        sys.print_exception(err)
    except AttributeError:
        import traceback

        traceback.print_exception(err)
