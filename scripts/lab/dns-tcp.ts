/**
 * DNS over TCP for the lab's daemons (RFC 7766: each message is preceded by
 * its 2-byte length), shared by world's resolver and isp's TCP middlebox.
 */
import type { Socket } from 'node:net'
import dnsPacket from 'dns-packet'

/** A message with its 2-byte length in front. */
export function framed(msg: Buffer): Buffer {
  return Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 0xff]), msg])
}

/**
 * Calls `onQuery` for each DNS message a TCP client sends, decoded and raw;
 * a message that does not decode closes the connection.
 */
export function readDnsMessages(conn: Socket, onQuery: (query: dnsPacket.Packet, raw: Buffer) => void): void {
  let buf = Buffer.alloc(0)
  conn.on('error', () => {})
  conn.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk])
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const raw = buf.subarray(2, 2 + buf.readUInt16BE(0))
      buf = buf.subarray(2 + raw.length)
      let query: dnsPacket.Packet
      try {
        query = dnsPacket.decode(raw)
      } catch {
        conn.destroy()
        return
      }
      onQuery(query, raw)
    }
  })
}
