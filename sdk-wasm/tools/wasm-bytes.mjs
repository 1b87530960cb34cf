// What the tools that read a wasm module byte by byte share (trap-panics.mjs,
// drop-dead-data.mjs): a cursor with an unsigned LEB128 reader, and the section list.

/** A cursor over `bytes` from `at`: `p` is the position, `leb()` reads an unsigned LEB128. */
export function reader(bytes, at = 0) {
  const r = {
    p: at,
    leb() {
      let result = 0, shift = 0, byte;
      do {
        byte = bytes[r.p++];
        result += (byte & 0x7f) * 2 ** shift;
        shift += 7;
      } while (byte & 0x80);
      return result;
    },
  };
  return r;
}

/** The module's sections in order: id, offset of the section header, payload start and end. */
export function sections(bytes) {
  const r = reader(bytes, 8);
  const list = [];
  while (r.p < bytes.length) {
    const header = r.p;
    const id = bytes[r.p++];
    const size = r.leb();
    list.push({ id, header, start: r.p, end: r.p + size });
    r.p += size;
  }
  return list;
}
