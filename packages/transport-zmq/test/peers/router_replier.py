"""A native replier: a ROUTER that answers each request with b"py:" + payload.

It echoes the envelope (every frame up to the empty delimiter, as REP does), which is all a native
replier needs to do for a msg requester to match the reply. A payload starting with b"hold" is never answered, so that a test can
have requests in flight. Prints "ready <endpoint>" once bound.
"""
import sys
import zmq

ctx = zmq.Context()
router = ctx.socket(zmq.ROUTER)
router.linger = 0
endpoint = sys.argv[1]
router.bind(endpoint)
print("ready", router.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)
while True:
    frames = router.recv_multipart()
    # [routing id, request id, empty delimiter, payload]
    if b"" not in frames[1:]:
        continue
    at = frames.index(b"", 1)
    envelope, payload = frames[:at], frames[at + 1]
    if payload.startswith(b"hold"):
        continue
    router.send_multipart([*envelope, b"", b"py:" + payload])
