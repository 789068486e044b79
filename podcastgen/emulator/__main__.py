"""`python -m podcastgen.emulator`: run the provider emulator until interrupted, printing the
environment that points podcastgen (or any client) at it."""

from __future__ import annotations

import argparse
import sys
import threading

from .openai import PROFILES
from .server import Emulator


def _limit(text: str) -> tuple[str, tuple[int, float]]:
    """PROVIDER=N/SECONDS, e.g. openai=3/1 (three requests a second)."""
    name, _, spec = text.partition("=")
    count, _, per = spec.partition("/")
    return name, (int(count), float(per or 60))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m podcastgen.emulator",
                                     description="Emulate the cloud TTS providers on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    parser.add_argument("--latency-ms", type=float, default=0, help="fixed delay per request")
    parser.add_argument("--per-char-ms", type=float, default=0,
                        help="extra delay per input character of a speech request")
    parser.add_argument("--rate-limit", type=_limit, action="append", default=[],
                        metavar="PROVIDER=N/SECONDS",
                        help="answer 429 beyond N requests per window")
    parser.add_argument("--chaos", type=float, default=0,
                        help="share of speech requests to fail transiently (e.g. 0.25)")
    parser.add_argument("--seed", type=int, default=1, help="chaos seed")
    parser.add_argument("--openai-profile", choices=PROFILES, default="seed",
                        help="seed: exactly the relay's document (default); openai: OpenAI's "
                        "own endpoint (newer models and voices, wav/pcm, instructions, SSE)")
    args = parser.parse_args(argv)
    emu = Emulator(latency_ms=args.latency_ms, per_char_ms=args.per_char_ms,
                   rate_limit=dict(args.rate_limit), port=args.port,
                   openai_profile=args.openai_profile)
    with emu:
        emu.chaos(args.chaos, seed=args.seed)
        for name, value in emu.env().items():
            print(f"export {name}={value}")
        print(f"# emulator listening on {emu.url}; Ctrl-C to stop", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
