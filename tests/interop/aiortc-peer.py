#!/usr/bin/python3
# aiortc-peer.py: an interoperability peer built on aiortc, with the command line
# shared by rtc-peer, aiortc-peer.py and pion-peer (see bench/README.md).
#
# SPDX-License-Identifier: GPL-3.0-or-later

import argparse
import asyncio
import hashlib
import json
import os
import resource
import sys
import time
import urllib.parse

DUMMY_CHANNEL_ID = 1000


def boot_ms():
    return time.clock_gettime(time.CLOCK_BOOTTIME) * 1000.0


def process_start_ms():
    # Field 22 of /proc/self/stat: start time in clock ticks since boot.
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[19]) * 1000.0 / os.sysconf("SC_CLK_TCK")


START_MS = process_start_ms()


def peak_rss_kib():
    # VmHWM starts afresh at exec, unlike ru_maxrss, which keeps the peak of the
    # process that forked us.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class PeerError(Exception):
    pass


def parse_args(argv):
    p = argparse.ArgumentParser(description="aiortc data-channel interop peer")
    p.add_argument("--role", choices=["offer", "answer"], required=True)
    p.add_argument("--local-sdp", required=True)
    p.add_argument("--remote-sdp", required=True)
    p.add_argument("--bind", action="append", default=[])
    p.add_argument("--stun")
    p.add_argument("--turn")
    p.add_argument("--relay-only", action="store_true")
    p.add_argument("--opener", choices=["self", "peer"])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--send-bytes", type=int)
    g.add_argument("--send-file")
    g.add_argument("--receive", action="store_true")
    p.add_argument("--chunk", type=int, default=65535)
    p.add_argument("--high-water", type=int, default=1024 * 1024,
                   help="pause sending above this buffered amount, resume at a quarter of it")
    p.add_argument("--consent-probes", type=int, default=0,
                   help="while sending, check the peer's consent (RFC 7675) this many "
                        "times and fail unless every check gets a valid answer")
    p.add_argument("--timeout", type=float, default=120.0)
    a = p.parse_args(argv)
    if a.opener is None:
        a.opener = "self" if a.role == "offer" else "peer"
    if a.chunk <= 0 or a.chunk > 262144:
        p.error("--chunk must be between 1 and 262144")
    if a.high_water < 65536 or a.high_water > 256 * 1024 * 1024:
        p.error("--high-water must be between 65536 and 268435456")
    if a.send_bytes is not None and a.send_bytes < 0:
        p.error("--send-bytes must not be negative")
    if a.relay_only and not a.turn:
        p.error("--relay-only needs --turn")
    return a


def parse_turn(uri):
    """turn:USER:PASS@HOST:PORT[?transport=tcp] -> (url, user, password)."""
    if not uri.startswith("turn:"):
        raise PeerError("--turn must start with turn:")
    rest = uri[len("turn:"):]
    query = ""
    if "?" in rest:
        rest, query = rest.split("?", 1)
    if "@" not in rest:
        raise PeerError("--turn needs USER:PASS@HOST:PORT")
    cred, hostport = rest.rsplit("@", 1)
    if ":" not in cred:
        raise PeerError("--turn needs USER:PASS@HOST:PORT")
    user, password = cred.split(":", 1)
    transport = "udp"
    if query:
        q = urllib.parse.parse_qs(query)
        transport = q.get("transport", ["udp"])[0]
        if transport not in ("udp", "tcp"):
            raise PeerError("--turn transport must be udp or tcp")
    url = "turn:%s?transport=%s" % (hostport, transport)
    return url, urllib.parse.unquote(user), urllib.parse.unquote(password)


def write_atomic(path, obj):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        json.dump(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


async def read_remote(path):
    while True:
        try:
            with open(path) as f:
                data = json.load(f)
            if not isinstance(data, dict) or not isinstance(data.get("sdp"), str):
                raise PeerError("%s: not a session description" % path)
            return data
        except FileNotFoundError:
            await asyncio.sleep(0.005)


def payload_chunks(args):
    """Yield the payload in --chunk sized pieces."""
    if args.send_file is not None:
        with open(args.send_file, "rb") as f:
            while True:
                b = f.read(args.chunk)
                if not b:
                    return
                yield b
        return
    # Deterministic pseudo-random bytes: AES-128-CTR over zeros, fixed key.
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    enc = Cipher(algorithms.AES(bytes(range(16))), modes.CTR(bytes(16))).encryptor()
    left = args.send_bytes
    zeros = bytes(args.chunk)
    while left > 0:
        n = min(left, args.chunk)
        yield enc.update(zeros[:n])
        left -= n


async def probe_consent(pc, count, interval=0.2, delay=0.5):
    """Sends `count` STUN Binding requests on the nominated pair, one every
    `interval` seconds after `delay`, as RFC 7675 consent checks do, and
    returns how many got a success response whose MESSAGE-INTEGRITY verifies
    with the peer's password and whose XOR-MAPPED-ADDRESS is our address."""
    from aioice import stun

    connection = pc.sctp.transport.transport._connection
    key = connection.remote_password.encode("utf8")
    answered = 0
    await asyncio.sleep(delay)
    for _ in range(count):
        await asyncio.sleep(interval)
        for pair in list(connection._nominated.values()):
            request = connection.build_request(pair, nominate=False)
            try:
                response, _ = await pair.protocol.request(
                    request, pair.remote_addr, integrity_key=key, retransmissions=3)
            except stun.TransactionError:
                continue
            # aioice checks only the fingerprint of a response: check the rest.
            check = stun.Message(message_method=response.message_method,
                                 message_class=response.message_class,
                                 transaction_id=response.transaction_id)
            mapped = response.attributes.get("XOR-MAPPED-ADDRESS")
            check.attributes["XOR-MAPPED-ADDRESS"] = mapped
            check.add_message_integrity(key)
            if (response.message_class == stun.Class.RESPONSE
                    and check.attributes["MESSAGE-INTEGRITY"]
                    == response.attributes.get("MESSAGE-INTEGRITY")
                    and mapped == (pair.local_candidate.host, pair.local_candidate.port)):
                answered += 1
    return answered


def install_patches(args):
    import aioice.ice
    import aioice.turn

    # aioice gives up after six consent checks in a row that got no answer
    # within 500 ms: on a loaded machine that tears down healthy connections.
    # The run is bounded by --timeout instead.
    aioice.ice.CONSENT_FAILURES = 1 << 30
    # Larger socket buffers: the default ones drop packets on loopback.
    aioice.turn.UDP_SOCKET_BUFFER_SIZE = 4 * 1024 * 1024
    if args.bind:
        binds = list(args.bind)
        aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: list(binds)
    if args.relay_only:
        orig_init = aioice.ice.Connection.__init__

        def init(self, *a, **kw):
            kw["transport_policy"] = aioice.ice.TransportPolicy.RELAY
            orig_init(self, *a, **kw)

        aioice.ice.Connection.__init__ = init


async def run(args):
    from aiortc import (
        RTCConfiguration,
        RTCIceServer,
        RTCPeerConnection,
        RTCSessionDescription,
    )

    servers = []
    if args.stun:
        servers.append(RTCIceServer(urls="stun:" + args.stun))
    if args.turn:
        url, user, password = parse_turn(args.turn)
        servers.append(RTCIceServer(urls=url, username=user, credential=password))
    pc = RTCPeerConnection(configuration=RTCConfiguration(iceServers=servers))

    loop = asyncio.get_running_loop()
    default_handler = loop.get_exception_handler()

    def on_exception(lp, context):
        # aiortc's own tasks keep sending for a moment after the connection
        # closed; their "not connected" errors are expected then.
        if state.get("closing") and isinstance(context.get("exception"), ConnectionError):
            return
        if default_handler is not None:
            default_handler(lp, context)
        else:
            lp.default_exception_handler(context)

    loop.set_exception_handler(on_exception)
    channel_ready = loop.create_future()
    failed = loop.create_future()
    state = {"channel": None, "open_ms": None}

    @pc.on("connectionstatechange")
    def on_state():
        if pc.connectionState == "failed" and not failed.done():
            failed.set_result("connection failed")

    receiver = None
    if args.receive:
        receiver = {"hash": hashlib.sha256(), "bytes": 0, "first": None,
                    "done": loop.create_future()}

    def attach_receiver(ch):
        @ch.on("message")
        def on_message(msg):
            if isinstance(msg, str):
                msg = msg.encode()
            if receiver["first"] is None:
                receiver["first"] = time.monotonic()
            receiver["hash"].update(msg)
            receiver["bytes"] += len(msg)

        @ch.on("close")
        def on_close():
            if not receiver["done"].done():
                receiver["done"].set_result(None)

    def adopt(ch):
        if state["channel"] is not None:
            return
        state["channel"] = ch
        if receiver is not None:
            attach_receiver(ch)
        if ch.readyState == "open":
            if not channel_ready.done():
                channel_ready.set_result(ch)
        else:
            @ch.on("open")
            def on_open():
                if not channel_ready.done():
                    channel_ready.set_result(ch)

    @pc.on("datachannel")
    def on_datachannel(ch):
        if ch.label == "data":
            adopt(ch)

    if args.role == "offer":
        if args.opener == "self":
            adopt(pc.createDataChannel("data", ordered=True))
        else:
            # An offer needs an application m-section: a pre-negotiated channel
            # that carries nothing provides it.
            pc.createDataChannel("sctp", negotiated=True, id=DUMMY_CHANNEL_ID)
        await pc.setLocalDescription(await pc.createOffer())
        write_atomic(args.local_sdp, {"type": "offer", "sdp": pc.localDescription.sdp})
        remote = await read_remote(args.remote_sdp)
        if remote.get("type") != "answer":
            raise PeerError("expected an answer in %s" % args.remote_sdp)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=remote["sdp"], type="answer"))
    else:
        remote = await read_remote(args.remote_sdp)
        if remote.get("type") != "offer":
            raise PeerError("expected an offer in %s" % args.remote_sdp)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=remote["sdp"], type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        write_atomic(args.local_sdp, {"type": "answer", "sdp": pc.localDescription.sdp})
        if args.opener == "self":
            adopt(pc.createDataChannel("data", ordered=True))

    done, _ = await asyncio.wait([channel_ready, failed], return_when=asyncio.FIRST_COMPLETED)
    if failed in done:
        raise PeerError(failed.result())
    ch = channel_ready.result()
    open_ms = boot_ms()
    setup_ms = open_ms - START_MS
    t0 = time.monotonic()

    if receiver is not None:
        done, _ = await asyncio.wait([receiver["done"], failed],
                                     return_when=asyncio.FIRST_COMPLETED)
        if receiver["done"] not in done:
            raise PeerError(failed.result())
        nbytes = receiver["bytes"]
        digest = receiver["hash"].hexdigest()
        direction = "receive"
    else:
        probes = None
        if args.consent_probes:
            probes = asyncio.ensure_future(probe_consent(pc, args.consent_probes))
        h = hashlib.sha256()
        nbytes = 0
        low = asyncio.Event()
        closed = loop.create_future()
        ch.bufferedAmountLowThreshold = args.high_water // 4

        @ch.on("bufferedamountlow")
        def on_low():
            low.set()

        @ch.on("close")
        def on_close():
            if not closed.done():
                closed.set_result(None)

        for b in payload_chunks(args):
            if ch.readyState != "open":
                raise PeerError("channel closed while sending")
            h.update(b)
            ch.send(b)
            nbytes += len(b)
            if ch.bufferedAmount > args.high_water:
                low.clear()
                waiter = asyncio.ensure_future(low.wait())
                await asyncio.wait([waiter, failed, closed],
                                   return_when=asyncio.FIRST_COMPLETED)
                if not waiter.done():
                    waiter.cancel()
                    raise PeerError(failed.result() if failed.done()
                                    else "channel closed while sending")
        # Wait until the peer acknowledged every DATA chunk: aiortc, as a
        # receiver, closes a channel as soon as a stream reset arrives,
        # without waiting for the data sent before it (RFC 6525, 5.2.2).
        sctp = ch.transport
        while (ch.bufferedAmount > 0 or getattr(sctp, "_data_channel_queue", None)
               or getattr(sctp, "_outbound_queue", None)
               or getattr(sctp, "_sent_queue", None)):
            if ch.readyState != "open":
                raise PeerError("channel closed while sending")
            if failed.done():
                raise PeerError(failed.result())
            await asyncio.sleep(0.005)
        if probes is not None:
            answered = await probes
            if answered != args.consent_probes:
                raise PeerError("%d of %d consent checks got a valid answer"
                                % (answered, args.consent_probes))
            state["consent_answered"] = answered
        ch.close()
        # Every chunk was acknowledged above; the peer's answering reset may
        # still get lost (pion can drop it), so do not wait for it forever.
        done, _ = await asyncio.wait([closed, failed], timeout=5,
                                     return_when=asyncio.FIRST_COMPLETED)
        if failed in done and closed not in done:
            raise PeerError(failed.result())
        digest = h.hexdigest()
        direction = "send"

    transfer_s = time.monotonic() - t0
    state["closing"] = True
    await pc.close()
    extra = {}
    if "consent_answered" in state:
        extra["consent_answered"] = state["consent_answered"]
    return {
        **extra,
        "impl": "aiortc",
        "role": args.role,
        "direction": direction,
        "bytes": nbytes,
        "sha256": digest,
        "setup_ms": round(setup_ms, 1),
        "transfer_s": round(transfer_s, 4),
        "mbps": round(nbytes / transfer_s / 1e6, 2) if transfer_s > 0 else 0.0,
        "max_rss_kib": peak_rss_kib(),
    }


def main(argv):
    args = parse_args(argv)
    try:
        install_patches(args)
        result = asyncio.run(asyncio.wait_for(run(args), args.timeout))
    except asyncio.TimeoutError:
        print("aiortc-peer: timed out after %g s" % args.timeout, file=sys.stderr)
        return 2
    except (PeerError, OSError, ValueError) as e:
        print("aiortc-peer: %s" % e, file=sys.stderr)
        return 1
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
