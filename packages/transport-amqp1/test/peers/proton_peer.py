"""A native AMQP 1.0 peer on Qpid Proton (Debian's python3-qpid-proton), for the interop test.

  proton_peer.py send URL ADDRESS BODY [KEY=VALUE...]   one message with its address as `to`, a string body and application properties
  proton_peer.py receive URL ADDRESS COUNT              prints "ready" once attached, then each message as JSON
  proton_peer.py request URL ADDRESS BODY               a request with a dynamic reply queue; prints the reply as JSON
"""

import json
import sys

from proton import Message
from proton.utils import BlockingConnection

TIMEOUT = 10


def as_text(body):
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body).decode()
    return str(body)


def describe(message):
    return json.dumps(
        {
            "to": message.address,
            "body": as_text(message.body),
            "properties": {k: str(v) for k, v in (message.properties or {}).items()},
            "id": None if message.id is None else str(message.id),
            "durable": bool(message.durable),
        }
    )


def main(mode, url, address, *rest):
    connection = BlockingConnection(url, timeout=TIMEOUT)
    try:
        if mode == "send":
            body, pairs = rest[0], rest[1:]
            properties = dict(pair.split("=", 1) for pair in pairs)
            connection.create_sender(address).send(Message(address=address, body=body, properties=properties))
            print("sent", flush=True)
        elif mode == "receive":
            receiver = connection.create_receiver(address, credit=int(rest[0]))
            print("ready", flush=True)
            for _ in range(int(rest[0])):
                message = receiver.receive(timeout=TIMEOUT)
                receiver.accept()
                print(describe(message), flush=True)
        elif mode == "request":
            replies = connection.create_receiver(None, dynamic=True)
            reply_to = replies.remote_source.address
            connection.create_sender(address).send(Message(body=rest[0], reply_to=reply_to, correlation_id="native-1"))
            reply = replies.receive(timeout=TIMEOUT)
            replies.accept()
            print(json.dumps({"body": as_text(reply.body), "correlation_id": str(reply.correlation_id)}), flush=True)
        else:
            raise SystemExit(f"unknown mode {mode}")
    finally:
        connection.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
