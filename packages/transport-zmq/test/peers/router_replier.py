"""A native replier: a ROUTER that answers each request with b"py:" + payload.

It echoes the msg meta frame unchanged, which is all a native replier needs to do for a msg
requester to match the reply. A payload starting with b"hold" is never answered, so that a test can
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
    # [routing id, empty delimiter, payload, meta]
    identity, delimiter, payload, *meta = frames
    if delimiter != b"" or payload.startswith(b"hold"):
        continue
    router.send_multipart([identity, b"", b"py:" + payload, *meta])
