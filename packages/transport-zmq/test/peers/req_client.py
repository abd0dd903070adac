"""A native requester: a plain REQ socket sends one frame and prints the reply frames as hex."""
import sys
import zmq

ctx = zmq.Context()
req = ctx.socket(zmq.REQ)
req.linger = 0
req.rcvtimeo = 5000
req.connect(sys.argv[1])
req.send(sys.argv[2].encode())
print(" ".join(frame.hex() for frame in req.recv_multipart()), flush=True)
