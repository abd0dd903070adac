"""A native publisher: [topic, payload] every 20 ms, 500 times at most; prints "ready <endpoint>"."""
import sys
import time
import zmq

ctx = zmq.Context()
pub = ctx.socket(zmq.PUB)
pub.linger = 0
pub.bind("tcp://127.0.0.1:*")
print("ready", pub.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)
for _ in range(500):
    pub.send_multipart([sys.argv[1].encode(), sys.argv[2].encode()])
    time.sleep(0.02)
