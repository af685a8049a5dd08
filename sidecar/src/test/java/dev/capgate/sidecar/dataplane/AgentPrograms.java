package dev.capgate.sidecar.dataplane;

/** Agent programs (Python, standard library only) shared by the data-plane tests. */
final class AgentPrograms {
  private AgentPrograms() {}

  /**
   * Arguments: the CA file, the path. Prints the status line; on 101 "accept ok" (the
   * Sec-WebSocket-Accept checks out), the server's first message, then the echo of three messages
   * ("ping 1", 60000 x's, "ping 3"); otherwise "closed" once the sidecar closed.
   */
  static final String WEBSOCKET_CLIENT =
      """
      import base64, hashlib, os, socket, ssl, struct
      ctx = ssl.create_default_context(cafile='%s')
      ctx.set_alpn_protocols(['http/1.1'])
      s = ctx.wrap_socket(socket.create_connection(('api.github.test', 443), timeout=10), server_hostname='api.github.test')
      key = base64.b64encode(os.urandom(16)).decode()
      s.sendall(('GET %s HTTP/1.1\\r\\nHost: api.github.test\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n'
                 'Sec-WebSocket-Key: ' + key + '\\r\\nSec-WebSocket-Version: 13\\r\\n'
                 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\\r\\n\\r\\n').encode())
      buf = b''
      while b'\\r\\n\\r\\n' not in buf:
          data = s.recv(4096)
          if not data:
              break
          buf += data
      head, _, buf = buf.partition(b'\\r\\n\\r\\n')
      lines = head.decode('latin-1').split('\\r\\n')
      print(lines[0])
      if not lines[0].startswith('HTTP/1.1 101'):
          try:
              while s.recv(4096):
                  pass
              print('closed')
          except OSError:
              print('closed')
          raise SystemExit(0)
      expected = base64.b64encode(hashlib.sha1((key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').encode()).digest()).decode()
      headers = {l.split(':', 1)[0].strip().lower(): l.split(':', 1)[1].strip() for l in lines[1:]}
      print('accept ok' if headers.get('sec-websocket-accept') == expected else 'accept WRONG ' + str(headers))
      def need(n):
          global buf
          while len(buf) < n:
              data = s.recv(65536)
              if not data:
                  raise EOFError
              buf += data
          out, buf = buf[:n], buf[n:]
          return out
      def recv_text():
          b0, b1 = need(2)
          n = b1 & 0x7f
          if n == 126:
              n = struct.unpack('>H', need(2))[0]
          elif n == 127:
              n = struct.unpack('>Q', need(8))[0]
          return need(n).decode()
      def send_text(text):
          payload = text.encode()
          mask = os.urandom(4)
          n = len(payload)
          head = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack('>H', n) if n < 65536
                                  else bytes([0x80 | 127]) + struct.pack('>Q', n))
          s.sendall(head + mask + bytes(b ^ mask[i %% 4] for i, b in enumerate(payload)))
      print(recv_text())
      for text in ('ping 1', 'x' * 60000, 'ping 3'):
          send_text(text)
          print(recv_text())
      """;
}
