"""A native subscriber: subscribes by prefix and prints the first message's frames as hex."""
import sys
import zmq

ctx = zmq.Context()
sub = ctx.socket(zmq.SUB)
sub.linger = 0
sub.rcvtimeo = 10000
sub.connect(sys.argv[1])
sub.setsockopt(zmq.SUBSCRIBE, sys.argv[2].encode())
print("ready", flush=True)
print(" ".join(frame.hex() for frame in sub.recv_multipart()), flush=True)
