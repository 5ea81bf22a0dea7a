#!/usr/bin/env python3
"""A TLS front for a plain-HTTP endpoint of the local stack: accepts TLS on
127.0.0.1 with the given certificate and relays the decrypted bytes both ways
to TARGET (host:port). Prints the port it listens on, then serves until killed.

  tls_relay.py --cert server.pem --key server.key --target 127.0.0.1:4566
"""
import argparse
import socket
import ssl
import sys
import threading


def pump(source, sink):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client, context, target):
    try:
        tls = context.wrap_socket(client, server_side=True)
    except (ssl.SSLError, OSError) as error:
        # A client that rejects the certificate ends the handshake: expected.
        print(f"tls_relay: handshake failed: {error}", file=sys.stderr, flush=True)
        client.close()
        return
    print("tls_relay: handshake done", file=sys.stderr, flush=True)
    upstream = socket.create_connection(target)
    threading.Thread(target=pump, args=(upstream, tls), daemon=True).start()
    pump(tls, upstream)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--target", required=True)
    args = parser.parse_args()
    host, port = args.target.rsplit(":", 1)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    listener = socket.create_server(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client, context, (host, int(port))),
                         daemon=True).start()


if __name__ == "__main__":
    main()
