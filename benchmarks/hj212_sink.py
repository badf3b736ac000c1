"""An upstream platform for `smartpark bench forward`: replies 9014 and notes when each packet came.

`python -m benchmarks.hj212_sink --port P --out FILE`; on SIGTERM it writes one JSON line per
packet received ([MN, QN, arrival as Unix seconds]) to FILE and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time

from hj212.encode import data_reply
from hj212.frame import FrameScanner, Junk
from hj212.packet import decode_frame


async def serve(port: int, out: str) -> None:
    got: list[tuple[str, str | None, float]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        scanner = FrameScanner()
        try:
            while data := await reader.read(65536):
                now = time.time()
                replies = []
                for piece in scanner.feed(data):
                    if isinstance(piece, Junk):
                        continue
                    p = decode_frame(piece)
                    got.append((p.mn, p.qn, now))
                    if p.wants_reply and p.qn:
                        replies.append(data_reply(qn=p.qn, pw=p.pw, mn=p.mn, version=p.version))
                writer.write(b"".join(replies))
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    server.close()
    with open(out, "w") as f:
        for row in got:
            f.write(json.dumps(row) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.out))


if __name__ == "__main__":
    main()
