import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Header } from 'tar';
import { createTarGz, readTar } from '../../../src/artifact/tarball.ts';
import { PolicyOciError } from '../../../src/errors.ts';

function rawEntry(path: string, type: 'File' | 'SymbolicLink' | 'Link' | 'CharacterDevice', content = Buffer.alloc(0), linkpath?: string): Buffer {
  const block = Buffer.alloc(512);
  new Header({ path, type, size: type === 'File' ? content.length : 0, mode: 0o644, mtime: new Date(0), devmaj: 1, devmin: 3, uid: 0, gid: 0, ...(linkpath ? { linkpath } : {}) }).encode(block, 0);
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([block, type === 'File' ? content : Buffer.alloc(0), type === 'File' ? pad : Buffer.alloc(0)]);
}

describe('tarball', () => {
  it('round-trips files, sorted, with long paths', () => {
    const long = `${'d'.repeat(120)}/${'x'.repeat(90)}.yaml`;
    const files = [
      { path: 'b.yaml', content: Buffer.from('kind: B\n') },
      { path: long, content: Buffer.from('kind: Long\n') },
      { path: 'a.yaml', content: Buffer.from('kind: A\n') },
    ];
    const out = readTar(createTarGz(files), 'test');
    expect(out.map((f) => f.path)).toEqual(['a.yaml', 'b.yaml', long]);
    expect(out.find((f) => f.path === long)?.content.toString()).toBe('kind: Long\n');
  });

  it('is deterministic whatever the input order', () => {
    const a = { path: 'a.yaml', content: Buffer.from('1') };
    const b = { path: 'b.yaml', content: Buffer.from('2') };
    expect(createTarGz([a, b]).equals(createTarGz([b, a]))).toBe(true);
  });

  it.each(['SymbolicLink', 'Link'] as const)('refuses %s entries', (type) => {
    const tar = Buffer.concat([rawEntry('evil', type, Buffer.alloc(0), '/etc/passwd'), Buffer.alloc(1024)]);
    expect(() => readTar(gzipSync(tar), 'layer')).toThrow(/only regular files/);
  });

  it('refuses device entries', () => {
    const tar = Buffer.concat([rawEntry('dev', 'CharacterDevice'), Buffer.alloc(1024)]);
    const err = (() => {
      try {
        readTar(gzipSync(tar), 'layer');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(PolicyOciError);
    expect((err as PolicyOciError).code).toBe('UNSAFE_CONTENT');
  });

  it('stops a gzip bomb at the decompression limit', () => {
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024));
    try {
      readTar(bomb, 'bomb', { maxUncompressedBytes: 1024 * 1024, maxEntries: 10 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(PolicyOciError);
      expect((err as PolicyOciError).code).toBe('LIMIT');
    }
  });

  it('limits the number of entries', () => {
    const files = Array.from({ length: 30 }, (_, i) => ({ path: `f${i}.yaml`, content: Buffer.from('x') }));
    expect(() => readTar(createTarGz(files), 'many', { maxUncompressedBytes: 1 << 20, maxEntries: 10 })).toThrow(/more than 10 entries/);
  });

  it('rejects bytes that are not a tar', () => {
    expect(() => readTar(gzipSync(Buffer.from('not a tar at all'.repeat(100))), 'junk')).toThrow(PolicyOciError);
  });
});
