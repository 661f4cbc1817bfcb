/**
 * Reads the server name (SNI) out of a TLS ClientHello, for the lab's
 * servers that refuse a handshake without one (issue 15), as many real
 * servers do. Spec: RFC 8446 §4.1.2 (ClientHello), RFC 6066 §3 (server_name).
 */

/** The ClientHello's first record, once `buf` holds all of it; null while more bytes are needed. */
export function helloRecord(buf: Buffer): Buffer | null {
  if (buf.length < 5) return null
  const end = 5 + buf.readUInt16BE(3)
  return buf.length >= end ? buf.subarray(0, end) : null
}

/**
 * The host name of the server_name extension of a ClientHello record, or
 * null when it carries none (or is no ClientHello: a handshake record of
 * type 1 is required).
 */
export function clientHelloSni(record: Buffer): string | null {
  try {
    if (record[0] !== 0x16 || record[5] !== 0x01) return null
    let i = 5 + 4 + 2 + 32 // record header, handshake header, client_version, random
    i += 1 + record[i]! // session_id
    i += 2 + record.readUInt16BE(i) // cipher_suites
    i += 1 + record[i]! // compression_methods
    if (i + 2 > record.length) return null
    const end = Math.min(record.length, i + 2 + record.readUInt16BE(i))
    i += 2
    while (i + 4 <= end) {
      const type = record.readUInt16BE(i)
      const len = record.readUInt16BE(i + 2)
      if (type === 0) {
        // server_name_list: 2-byte length, then entries of type (1), length (2), name.
        let j = i + 6
        while (j + 3 <= i + 4 + len) {
          const nameLen = record.readUInt16BE(j + 1)
          if (record[j] === 0) return record.subarray(j + 3, j + 3 + nameLen).toString('ascii')
          j += 3 + nameLen
        }
        return null
      }
      i += 4 + len
    }
    return null
  } catch {
    return null
  }
}
