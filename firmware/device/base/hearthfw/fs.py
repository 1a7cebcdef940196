"""File helpers built only on `os` calls MicroPython has (no os.path, no shutil)."""

import json
import os

_DIR_BIT = 0x4000


def join(*parts):
    out = ""
    for part in parts:
        if not part:
            continue
        if out and not out.endswith("/"):
            out += "/"
        out += part
    return out


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def isdir(path):
    try:
        return bool(os.stat(path)[0] & _DIR_BIT)
    except OSError:
        return False


def makedirs(path):
    current = ""
    for part in path.split("/"):
        if not part:
            if not current:
                current = "/"
            continue
        current = current + part if current in ("", "/") else current + "/" + part
        if not isdir(current):
            os.mkdir(current)


def rmtree(path):
    if not exists(path):
        return
    if not isdir(path):
        os.remove(path)
        return
    for name in os.listdir(path):
        rmtree(join(path, name))
    os.rmdir(path)


def copytree(src, dst):
    makedirs(dst)
    for name in os.listdir(src):
        if name == "__pycache__":
            continue
        s = join(src, name)
        d = join(dst, name)
        if isdir(s):
            copytree(s, d)
        else:
            with open(s, "rb") as fin, open(d, "wb") as fout:
                while True:
                    chunk = fin.read(4096)
                    if not chunk:
                        break
                    fout.write(chunk)


def read_json(path, default=None):
    """Return the decoded file, or default when it is missing or corrupt."""
    # The .tmp copy is complete when it exists alone: write_json was reset between its steps.
    for candidate in (path, path + ".tmp"):
        try:
            with open(candidate) as f:
                return json.loads(f.read())
        except (OSError, ValueError):
            pass
    return default


def write_json(path, data):
    """Write through a temporary file and rename, so a reset mid-write keeps the old file."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps(data))
    try:
        os.rename(tmp, path)  # atomic replace on POSIX and littlefs
    except OSError:
        os.remove(path)  # FAT refuses to rename over an existing file
        os.rename(tmp, path)
