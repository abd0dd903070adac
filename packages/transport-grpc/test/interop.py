# A gRPC client not written in this repository: Python's grpcio with stubs generated from
# proto/msg.proto at test time. Prints one JSON line: the reply, or the status code of the failure.
import json
import sys

import grpc

sys.path.insert(0, sys.argv[1])
import msg_pb2  # noqa: E402
import msg_pb2_grpc  # noqa: E402

address, case = sys.argv[2], sys.argv[3]
channel = grpc.insecure_channel(address)
stub = msg_pb2_grpc.MessagingStub(channel)


def request(subject, data, timeout=5.0):
    envelope = msg_pb2.Envelope(id='py-1', subject=subject, data=data, headers={'lang': 'python'}, kind=msg_pb2.REQUEST)
    return stub.Request(envelope, timeout=timeout)


try:
    if case == 'echo':
        reply = request('interop.echo', b'from python')
        out = {'data': reply.data.decode(), 'headers': dict(reply.headers), 'kind': msg_pb2.Kind.Name(reply.kind), 'id': reply.id}
    elif case == 'error':
        reply = request('interop.fail', b'')
        out = {'error': reply.error.message, 'code': reply.error.code}
    elif case == 'nobody':
        request('interop.nobody', b'')
        out = {'status': 'OK'}
    elif case == 'deadline':
        request('interop.silent', b'', timeout=0.3)
        out = {'status': 'OK'}
    elif case == 'oversized':
        request('interop.echo', b'x' * int(sys.argv[4]))
        out = {'status': 'OK'}
    elif case == 'malformed':
        # Bytes that are not an Envelope: field 1 claims 127 bytes and the message ends after 1.
        raw = channel.unary_unary('/msg.v1.Messaging/Request')
        raw(b'\x0a\x7f\x41', timeout=5.0)
        out = {'status': 'OK'}
    else:
        raise SystemExit('unknown case ' + case)
except grpc.RpcError as error:
    out = {'status': error.code().name, 'details': error.details()}
print(json.dumps(out))
