#!/usr/bin/python3
# test-aiortc-backup.py [ROUNDS]: a sender that behaves like a browser
# (aiortc) backs up a file in the original framing to our CLI receiver,
# through a folder signaling store on this machine, over 127.0.0.1. Right
# after its channel's "close" event it closes its peer connection, which
# sends an SCTP ABORT a few milliseconds after the stream reset: the file is
# complete by then, so the receiver must store it and exit 0, every round.
# TAP output.
#
# Environment: DISTRIBUTED_BACKUP (our CLI).
#
# SPDX-License-Identifier: GPL-3.0-or-later

import asyncio
import base64
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

OURS = os.environ.get("DISTRIBUTED_BACKUP", "")
HERE = os.path.dirname(os.path.abspath(__file__))
CHUNK = 32768
MIB = 1024 * 1024
TIMEOUT = 60

# The folder store of the original tool's signaling, as the pairing tests use it.
_spec = importlib.util.spec_from_file_location(
    "legacy_peer", os.path.join(HERE, "..", "signaling", "legacy-peer.py"))
legacy_peer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(legacy_peer)


def pin_to_loopback():
    import aioice.ice
    import aioice.turn

    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
    aioice.turn.UDP_SOCKET_BUFFER_SIZE = 4 * MIB


async def send_like_a_browser(store, session, path, name):
    """Offers (the receiver waits as answerer), sends the original framing,
    closes the channel and, on its close event, the peer connection."""
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
    from aiortc.sdp import candidate_from_sdp

    instance = str(uuid.uuid4())

    def post(kind, payload):
        msg = {"type": kind}
        if payload is not None:
            msg["payload"] = base64.b64encode(payload).decode()
        store.upload("%s_%s_%s.json" % (session, kind, instance),
                     legacy_peer.go_json(msg))

    pings = store.list(session + "_ping")
    if not pings:
        raise RuntimeError("the receiver's ping is not in the store")
    store.delete(pings[0][0])

    pc = RTCPeerConnection(configuration=RTCConfiguration(iceServers=[]))
    loop = asyncio.get_running_loop()
    opened = loop.create_future()
    closed = loop.create_future()
    ch = pc.createDataChannel("data", ordered=True)
    ch.on("open", lambda: opened.done() or opened.set_result(None))
    ch.on("close", lambda: closed.done() or closed.set_result(None))
    await pc.setLocalDescription(await pc.createOffer())
    post("sdp", json.dumps({"type": "offer", "sdp": pc.localDescription.sdp}).encode())

    async def poll():
        have_remote = False
        mid = "0"
        pending = []
        while True:
            for key, fname in store.list(session):
                if instance in fname or "_ping_" in fname:
                    continue
                data = store.download(key)
                if data is None:
                    continue
                msg = json.loads(data)
                payload = base64.b64decode(msg.get("payload", ""))
                if msg["type"] == "sdp":
                    desc = json.loads(payload)
                    for line in desc["sdp"].splitlines():
                        if line.startswith("a=mid:"):
                            mid = line[len("a=mid:"):].strip()
                    await pc.setRemoteDescription(
                        RTCSessionDescription(sdp=desc["sdp"], type=desc["type"]))
                    have_remote = True
                elif msg["type"] == "candidate":
                    pending.append(payload.decode())
            if have_remote:
                for text in pending:
                    c = candidate_from_sdp(text.split(":", 1)[1])
                    c.sdpMid = mid
                    c.sdpMLineIndex = 0
                    await pc.addIceCandidate(c)
                pending = []
            await asyncio.sleep(0.1)

    poller = asyncio.ensure_future(poll())
    try:
        done, _ = await asyncio.wait([opened, poller], timeout=TIMEOUT,
                                     return_when=asyncio.FIRST_COMPLETED)
        if poller in done:
            raise RuntimeError("reading the signaling store failed: %r" % poller.exception())
        if opened not in done:
            raise RuntimeError("no open channel within %d s (ICE %s, connection %s)"
                               % (TIMEOUT, pc.iceConnectionState, pc.connectionState))
    finally:
        poller.cancel()

    ch.send(bytes([len(name)]))
    ch.send(name.encode())
    with open(path, "rb") as f:
        while True:
            block = f.read(CHUNK)
            if not block:
                break
            ch.send(block)
            while ch.bufferedAmount > 1 * MIB:
                await asyncio.sleep(0.001)
    # Everything acknowledged before the close, as a browser's would be.
    sctp = ch.transport
    while (ch.bufferedAmount > 0 or sctp._data_channel_queue or sctp._outbound_queue
           or sctp._sent_queue):
        await asyncio.sleep(0.002)
    ch.close()
    await asyncio.wait_for(closed, TIMEOUT)
    # What a page does in its channel's onclose: pc.close(), an SCTP ABORT.
    await pc.close()


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, what, cond, detail=""):
        self.n += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, what), flush=True)
        if not cond:
            self.failed += 1
            for line in str(detail).splitlines():
                print("#   " + line, flush=True)
        return cond


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    tap = Tap()
    if not OURS or not os.access(OURS, os.X_OK):
        tap.check("DISTRIBUTED_BACKUP is executable", False, OURS)
        print("1..%d" % tap.n)
        return 1
    pin_to_loopback()
    work = tempfile.mkdtemp(prefix="test-aiortc-backup-")
    receiver = None
    try:
        signaling = os.path.join(work, "signaling")
        dst = os.path.join(work, "dst")
        os.makedirs(signaling)
        os.makedirs(dst)
        store = legacy_peer.DirStore(signaling)
        path = os.path.join(work, "data.bin")
        for i in range(rounds):
            with open(path, "wb") as f:
                f.write(os.urandom(16 * MIB + i))
            session = "browser-%d" % i
            err_path = os.path.join(work, "receiver-%d.err" % i)
            with open(err_path, "w") as err:
                receiver = subprocess.Popen(
                    [OURS, "--signaling", signaling, "-u", session, "-d", dst, "-v", "2",
                     "--ice-address", "127.0.0.1", "-S", "", "--timeout", str(TIMEOUT)],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
            end = time.monotonic() + 15
            while time.monotonic() < end and not store.list(session + "_ping"):
                time.sleep(0.05)
            sent_error = None
            try:
                asyncio.run(asyncio.wait_for(
                    send_like_a_browser(store, session, path, "data.bin"), TIMEOUT))
            except Exception as e:  # reported below, with the receiver's side
                sent_error = repr(e)
            try:
                code = receiver.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                receiver.kill()
                code = receiver.wait()
            stderr = open(err_path, errors="replace").read()
            stored = os.path.join(dst, "data.bin")
            tap.check("round %d: the browser-like sender sent everything" % (i + 1),
                      sent_error is None, sent_error)
            tap.check("round %d: the receiver exits 0 and says it received data.bin" % (i + 1),
                      code == 0 and "Received data.bin" in stderr,
                      "exit %s, stderr:\n%s" % (code, stderr))
            tap.check("round %d: the stored file is the one sent" % (i + 1),
                      os.path.isfile(stored) and sha256(stored) == sha256(path))
    finally:
        if receiver is not None and receiver.poll() is None:
            receiver.kill()
            receiver.wait()
        shutil.rmtree(work, ignore_errors=True)
    print("1..%d" % tap.n, flush=True)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
