"""A local stand-in for the cloud TTS providers (SiliconFlow, OpenAI-compatible, StepFun, Coze):
real HTTP on 127.0.0.1 with each provider's validation, error shapes, streams and faults, and
deterministic speech-like audio. Tests and benchmarks drive the real clients against it."""

from .faults import PERMANENT, TRANSIENT
from .log import Entry, RequestLog
from .server import Emulator
from .speech import spoken_seconds

__all__ = ["PERMANENT", "TRANSIENT", "Emulator", "Entry", "RequestLog", "spoken_seconds"]
