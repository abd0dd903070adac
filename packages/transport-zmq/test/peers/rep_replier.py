"""A native REP replier: answers each request with b"rep:" + payload; prints "ready <endpoint>"."""
import sys
import zmq

ctx = zmq.Context()
rep = ctx.socket(zmq.REP)
rep.linger = 0
rep.bind(sys.argv[1])
print("ready", rep.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)
for _ in range(1000):
    rep.send(b"rep:" + rep.recv())
