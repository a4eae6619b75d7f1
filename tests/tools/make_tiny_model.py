"""Build a tiny but genuine Argos Translate package (``.argosmodel``) for tests.

Real Argos models are 60-90 MB downloads from the Argos package index, which the
test machines cannot reach. This script makes a package of the same shape from
scratch, in about a second and with no network, so that every real code path of
the pipeline can be exercised: ``argostranslate.package.install_from_path``,
package discovery, SentencePiece tokenisation, CTranslate2 translation and
detokenisation.

What is inside (one top-level folder, as Argos expects)::

    translate-en_es-1_0/
        README.md
        metadata.json          # from_code, to_code, package_version, ...
        model/                 # a CTranslate2 Transformer model directory
            config.json
            model.bin
            shared_vocabulary.json
        sentencepiece.model    # BPE model with byte fallback

There is no ``stanza/`` folder, so Argos's own sentence splitter would fall
back to MiniSBD, which downloads a model: callers must split sentences
themselves or replace the ``sentencizer`` of the ``PackageTranslation``.

The tokenizer is real (trained on a generated English corpus that also holds
digits, uppercase letters, braces and common punctuation; unknown characters
fall back to bytes). The network is a one-layer, two-head, width-16
Transformer with seeded random weights (the seed alone fixes them, whatever the
language pair): its output is meaningless, usually a run of repeated pieces, so
always bound ``max_decoding_length``. An output bias keeps ``<unk>`` and
byte-fallback pieces out of the output, so it decodes to printable text.

The build is deterministic: the same arguments give a byte-identical file.

Usage::

    python tests/tools/make_tiny_model.py OUT.argosmodel [--from en] [--to es]
        [--seed 0] [--version 1.0]

or, from Python, ``build_tiny_model(Path("OUT.argosmodel"))``.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import sentencepiece as spm

if TYPE_CHECKING:
    from ctranslate2.specs import model_spec

# Model size. Small enough that the whole package stays well under 1 MB.
MODEL_WIDTH = 16
FFN_WIDTH = 32
NUM_LAYERS = 1
NUM_HEADS = 2
# 256 byte-fallback pieces + the characters of the corpus + a few merges.
VOCAB_SIZE = 400

ARGOS_VERSION = "1.0"
# Fixed timestamp for every zip entry (the earliest a zip file can hold).
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)

LANGUAGE_NAMES: dict[str, str] = {
    "ar": "Arabic",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "it": "Italian",
    "pt": "Portuguese",
    "ru": "Russian",
    "uk": "Ukrainian",
    "zh": "Chinese",
}

_SUBJECTS = [
    "The nurse",
    "A friend",
    "Your doctor",
    "The outreach team",
    "Everyone",
    "The pharmacist",
    "Our volunteer",
    "A neighbour",
    "The clinic",
    "Nobody",
]
_VERBS = [
    "can help with",
    "talks about",
    "brings",
    "checks",
    "explains",
    "needs",
    "keeps",
    "offers",
    "asks about",
    "shares",
]
_OBJECTS = [
    "clean water",
    "free test strips",
    "naloxone kits",
    "a safer plan",
    "the opening hours",
    "fresh food",
    "warm clothes",
    "your medicine",
    "a quiet room",
    "the phone number",
    "sterile needles",
    "support at night",
]
_ENDINGS = [
    "today.",
    "every Monday.",
    "after 6 pm.",
    "at the clinic.",
    "without judgement.",
    "for free.",
    "on Friday 12 May.",
    "if you ask.",
    "near the station.",
    "before 10:30.",
]
_EXTRA = [
    "Call {phone} for help.",
    "Open from 9 to 17, Monday to Friday.",
    "Do not use alone.",
    "Start low and go slow.",
    "Carry naloxone (Narcan) with you.",
    "Ask for {name} at the front desk.",
    "Test your drugs: it is free and private.",
    "Drink water, rest, and eat something.",
    "In an emergency, call 112 or 911.",
    "Visit {url} for more information.",
    "Room {0} is on the 2nd floor.",
    "Mixing drugs increases the risk of overdose!",
    "Is someone not breathing? Call for help now.",
    "We do not share your name with the police.",
    "Prices: 0 EUR, 0 USD, 100% free.",
    "ABC, XYZ, OK, HIV, HCV, STI, PrEP, PEP.",
    "Use {count} strips per test; keep them dry.",
    "Address: 45 Main Street, Unit 3B / Door 7.",
    "Email us at help@example.org or text 5551234.",
    "Quotes \"like this\" and 'this' are fine; so are [brackets] & {braces}.",
]


def _corpus() -> Iterator[str]:
    """Yield a few hundred simple English sentences, in a fixed order."""
    for i, (subject, verb, obj) in enumerate(
        itertools.product(_SUBJECTS, _VERBS, _OBJECTS)
    ):
        if i % 3 == 0:  # a third of the combinations is plenty
            yield f"{subject} {verb} {obj} {_ENDINGS[i % len(_ENDINGS)]}"
    for repeat in range(5):
        for sentence in _EXTRA:
            yield sentence if repeat % 2 == 0 else sentence.upper()
    yield "0 1 2 3 4 5 6 7 8 9 10 20 30 40 50 60 70 80 90 100 1000"
    yield "ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz"
    yield "( ) [ ] { } < > + - * / = % & @ # $ ! ? . , ; : ' \" ~ ^ | \\ _"


def train_sentencepiece(vocab_size: int = VOCAB_SIZE) -> bytes:
    """Train a BPE SentencePiece model on the generated corpus; return its bytes."""
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=_corpus(),
        model_writer=model,
        model_type="bpe",
        vocab_size=vocab_size,
        character_coverage=1.0,
        byte_fallback=True,
        # Argos/CTranslate2 convention: <unk>=0, <s>=1, </s>=2, no <pad>.
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        num_threads=1,
        minloglevel=2,
    )
    return model.getvalue()


def _weight_shape(name: str, vocab_size: int) -> tuple[int, ...]:
    """Shape of the required variable ``name`` of a Transformer spec."""
    d, ffn = MODEL_WIDTH, FFN_WIDTH
    parts = name.split("/")
    leaf, owner = parts[-1], parts[-2]
    if leaf in ("gamma", "beta"):
        return (d,)
    if leaf != "weight":
        raise ValueError(f"no shape rule for variable {name}")
    if owner.startswith("embeddings") or owner == "projection":
        return (vocab_size, d)
    block = parts[-3]
    if block == "ffn":
        return (ffn, d) if owner == "linear_0" else (d, ffn)
    if block == "self_attention":
        # linear_0 is the fused query/key/value projection.
        return (3 * d, d) if owner == "linear_0" else (d, d)
    if block == "attention":
        # Encoder-decoder attention: linear_1 is the fused key/value projection.
        return (2 * d, d) if owner == "linear_1" else (d, d)
    raise ValueError(f"no shape rule for variable {name}")


def _output_bias(vocabulary: list[str]) -> np.ndarray:
    """Bias of the output layer that keeps <unk>, <s> and byte pieces out of outputs.

    Random weights would otherwise emit them often, and decoded byte pieces are
    control characters or U+FFFD, which real models rarely produce.
    """
    bias = np.zeros(len(vocabulary), dtype=np.float32)
    for index, piece in enumerate(vocabulary):
        if piece in ("<unk>", "<s>") or (piece.startswith("<0x") and piece.endswith(">")):
            bias[index] = -30.0
    return bias


def build_ctranslate2_model(output_dir: Path, vocabulary: list[str], seed: int) -> None:
    """Write a tiny CTranslate2 Transformer with random weights to ``output_dir``."""
    # Imported here so that main() can keep PyTorch out of the process first.
    from ctranslate2.specs import TransformerSpec, model_spec

    spec = TransformerSpec.from_config(NUM_LAYERS, NUM_HEADS)
    rng = np.random.default_rng(seed)
    vocab_size = len(vocabulary)

    def fill(layer: model_spec.LayerSpec, name: str, value: object) -> None:
        if value is not None:  # already set, or an optional variable
            return
        shape = _weight_shape(name, vocab_size)
        leaf = name.rsplit("/", 1)[-1]
        if leaf == "gamma":
            array = np.ones(shape, dtype=np.float32)
        elif leaf == "beta":
            array = np.zeros(shape, dtype=np.float32)
        else:
            array = rng.normal(0.0, 1.0 / np.sqrt(shape[-1]), shape).astype(np.float32)
        setattr(layer, leaf, array)

    # Variables are visited in declaration order, so the seed fixes every array.
    model_spec.visit_spec(spec, fill)
    spec.decoder.projection.bias = _output_bias(vocabulary)
    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    spec.validate()
    output_dir.mkdir(parents=True, exist_ok=True)
    spec.save(str(output_dir))


def package_folder_name(from_code: str, to_code: str, version: str) -> str:
    """Folder name used inside the zip, in the style of real Argos packages."""
    return f"translate-{from_code}_{to_code}-{version.replace('.', '_')}"


def package_metadata(from_code: str, to_code: str, version: str) -> dict[str, object]:
    """The ``metadata.json`` content read by ``argostranslate.package``."""
    return {
        "package_version": version,
        "argos_version": ARGOS_VERSION,
        "from_code": from_code,
        "from_name": LANGUAGE_NAMES.get(from_code, from_code),
        "to_code": to_code,
        "to_name": LANGUAGE_NAMES.get(to_code, to_code),
        "type": "translate",
        "code": f"translate-{from_code}_{to_code}",
        "links": [],
    }


def _readme(from_code: str, to_code: str, seed: int) -> str:
    return (
        f"# Tiny test model {from_code} -> {to_code}\n\n"
        "Built by tests/tools/make_tiny_model.py for automated tests "
        f"(seed {seed}). Random weights: its translations are meaningless.\n"
    )


def _write_zip(out_path: Path, root: str, files: dict[str, bytes]) -> None:
    """Write ``files`` under folder ``root`` into a reproducible zip archive."""
    directories = {root + "/"}
    for relative in files:
        parts = relative.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            directories.add(f"{root}/{'/'.join(parts[:depth])}/")
    entries: list[tuple[str, bytes | None]] = [(d, None) for d in directories]
    entries += [(f"{root}/{relative}", data) for relative, data in files.items()]

    with zipfile.ZipFile(out_path, "w") as archive:
        for name, data in sorted(entries, key=lambda entry: entry[0]):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.create_system = 3  # Unix, so the permission bits below are used
            if data is None:
                info.external_attr = (0o40755 << 16) | 0x10  # directory
                archive.writestr(info, b"")
            else:
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data, compresslevel=9)


def build_tiny_model(
    out_path: Path,
    from_code: str = "en",
    to_code: str = "es",
    seed: int = 0,
    version: str = "1.0",
) -> Path:
    """Build a tiny ``.argosmodel`` package at ``out_path`` and return its path."""
    out_path = Path(out_path)
    sp_model = train_sentencepiece()
    processor = spm.SentencePieceProcessor(model_proto=sp_model)
    vocabulary = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    assert vocabulary[:3] == ["<unk>", "<s>", "</s>"], vocabulary[:3]

    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="tiny-argos-") as tmp:
        model_dir = Path(tmp) / "model"
        build_ctranslate2_model(model_dir, vocabulary, seed)
        for path in sorted(model_dir.iterdir()):
            files[f"model/{path.name}"] = path.read_bytes()

    metadata = package_metadata(from_code, to_code, version)
    files["metadata.json"] = (json.dumps(metadata, indent=2) + "\n").encode("utf-8")
    files["sentencepiece.model"] = sp_model
    files["README.md"] = _readme(from_code, to_code, seed).encode("utf-8")

    out_path.parent.mkdir(parents=True, exist_ok=True)
    _write_zip(out_path, package_folder_name(from_code, to_code, version), files)
    return out_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("out", type=Path, help="output .argosmodel file")
    parser.add_argument("--from", dest="from_code", default="en", help="source code")
    parser.add_argument("--to", dest="to_code", default="es", help="target code")
    parser.add_argument("--seed", type=int, default=0, help="weight seed")
    parser.add_argument("--version", default="1.0", help="package_version")
    args = parser.parse_args(argv)
    # ctranslate2.specs imports PyTorch when it can (about 3 s) but only needs it
    # for torch tensors; this script builds the weights with numpy. Marking the
    # module as missing makes that import fail fast, in this process only.
    sys.modules.setdefault("torch", None)  # type: ignore[arg-type]
    path = build_tiny_model(
        args.out, args.from_code, args.to_code, args.seed, args.version
    )
    print(f"{path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
