// Kafka's default partitioner for keyed records (Java client; librdkafka "murmur2_random"):
// toPositive(murmur2(keyBytes)) % numPartitions. Written out here so the test checks the
// collector's partitioning independently of any Kafka client.
export function murmur2(bytes) {
  const m = 0x5bd1e995;
  const length = bytes.length;
  let h = (0x9747b28c ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  switch (length & 3) {
    case 3: h ^= bytes[whole + 2] << 16; // falls through
    case 2: h ^= bytes[whole + 1] << 8; // falls through
    case 1: h ^= bytes[whole]; h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

export function partitionFor(key, partitions) {
  return (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitions;
}
