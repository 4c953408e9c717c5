/**
 * The same policy under another digest, without OPA: a wasm module stays valid, and behaves the
 * same, with a custom section appended (section id 0, then size, name length, name).
 */
export function wasmVariant(wasm: Uint8Array, label: string): Buffer {
  const name = Buffer.from(label);
  const payload = Buffer.concat([uleb128(name.length), name]);
  return Buffer.concat([wasm, Buffer.from([0]), uleb128(payload.length), payload]);
}

function uleb128(value: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return Buffer.from(bytes);
}
